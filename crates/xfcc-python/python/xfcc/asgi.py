"""ASGI middleware (Starlette, FastAPI, any ASGI 3 app).

Every scope that carries a request is verified: ``http`` and ``websocket``
alike (the same headers, peer, exempt paths, report mode and state). A
refused WebSocket handshake never reaches the app: it is answered with the
HTTP denial response where the server offers the ``websocket.http.response``
extension (uvicorn, hypercorn: 403 ``{"error": "<code>"}``), else closed
before it is accepted (code 1008, which the server answers with 403).
``lifespan`` passes, as it carries no request; any other scope type is
refused with an exception, never passed unchecked.

It reads the raw header list of the scope, so a look-alike such as
``X_Forwarded_Client_Cert`` is never taken for the real header, and the
peer from ``scope["client"]``, which must be the TCP peer: run uvicorn with
``--no-proxy-headers`` (it rewrites the client from ``X-Forwarded-For`` for
the addresses in ``--forwarded-allow-ips``, 127.0.0.1 by default), or
``trusted_peers`` judges the address a client wrote. A trusted peer that
also appears in ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP`` was
rewritten from them: refused, 500 ``{"error": "peer_rewritten"}``.

On success the verified :class:`xfcc.ClientCert` is in
``scope["state"]["client_cert"]`` (``request.state.client_cert`` or
``websocket.state.client_cert`` in Starlette and FastAPI; ``None`` on an
exempt path), and in the ASGI TLS extension as direct mTLS would put it
(``scope["extensions"]["tls"]["client_cert_chain"]`` and
``client_cert_name``: see :func:`write_tls_extension`). For
``request.user`` and ``@requires``, add
:class:`xfcc.starlette.ClientCertBackend`; in FastAPI, the
:func:`xfcc.fastapi.client_cert` dependency. A refused request
gets 403 ``{"error": "<code>"}`` (500 for ``peer_unavailable`` and
``peer_rewritten``) and never reaches the app. In report mode the request
goes on with no certificate and the refusal in
``scope["state"]["xfcc_rejection"]``. The policy's warnings are logged once
when the middleware is built.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Iterable, List, MutableMapping, Optional

from . import ClientCert, Policy, Rejection
from ._guard import FORWARDED_FOR, Answer, RejectionLog, RequestPath, log_rejection

__all__ = ["RejectionLog", "XfccMiddleware", "log_rejection"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_FORWARDED_FOR = frozenset(n.encode() for n in FORWARDED_FOR)


class XfccMiddleware:
    """Verifies the forwarded client certificate of every HTTP request and
    WebSocket handshake: the core decides (:meth:`xfcc.Policy.decide`),
    this translates its verdict into ASGI messages.

    ``exempt`` lists paths served without a check (the platform's health
    probe, which reaches the container directly); ``log`` bounds the
    rejection records (default :class:`RejectionLog`: ``XFCC_LOG_RATE``, else
    10 per reason per second).
    """

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        policy: Policy,
        *,
        exempt: Iterable[str] = (),
        log: Optional[RejectionLog] = None,
    ) -> None:
        self.app = app
        self.path = RequestPath(policy, exempt, log, "ASGI middleware")
        self.policy, self.exempt, self.log = policy, self.path.exempt, self.path.log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            # A request of a kind this middleware cannot answer: never
            # passed unchecked.
            raise RuntimeError(f"xfcc: ASGI scope type {kind!r} is not verified by XfccMiddleware: refused")
        answer = scope_answer(self.path, scope)
        if answer.status is not None:
            await _deny(kind, scope, receive, send, answer.status, answer.body or b"")
            return
        state = scope.setdefault("state", {})
        state["client_cert"] = answer.client_cert
        state["xfcc_rejection"] = answer.rejection
        state["xfcc_verdict"] = answer.verdict
        write_tls_extension(scope, answer.client_cert, answer.rejection)
        await self.app(scope, receive, send)


#: Where the server's own TLS extension is kept once rewritten.
_HOP_TLS = "xfcc_hop_tls"


def scope_answer(path: RequestPath, scope: Scope) -> Answer:
    """What the core answers for one ASGI scope: its raw header list (a
    look-alike such as ``X_Forwarded_Client_Cert`` is another name) and
    ``scope["client"]``. One implementation for this middleware and Django
    under ASGI."""
    client = scope.get("client")
    headers = scope.get("headers") or []
    forwarded = [v.decode("latin-1") for n, v in headers if n.lower() in _FORWARDED_FOR]
    return path.answer(scope.get("path", ""), headers, client[0] if client else None, forwarded,
                       hop_cert_chain(scope))


def hop_cert_chain(scope: Scope) -> Optional[List[Any]]:
    """What the connection from the proxy presented in TLS, as the server
    wrote it in the ASGI TLS extension (``client_cert_chain``, PEM, leaf
    first; empty for none): ``None`` when the server wrote no extension
    (plain HTTP, or a server that does not fill it). Once this package
    has rewritten the extension for the app (a second middleware on the
    same scope), the server's original, kept in
    ``scope["state"]["xfcc_hop_tls"]``, is read, never the forwarded
    client's certificate."""
    state = scope.get("state") or {}
    if _HOP_TLS in state:
        hop = state[_HOP_TLS]
    else:
        hop = (scope.get("extensions") or {}).get("tls")
    if not isinstance(hop, dict):
        return None
    chain = hop.get("client_cert_chain")
    return list(chain) if isinstance(chain, (list, tuple)) else []


def write_tls_extension(scope: Scope, cert: Optional[ClientCert], rejection: Optional[Rejection]) -> None:
    """Writes the verified client into the ASGI TLS extension
    (``scope["extensions"]["tls"]``), so code written for direct mTLS
    (``client_cert_chain``, ``client_cert_name``) reads the forwarded
    client unchanged: the leaf's PEM (with ``identity_from =
    "proxy-fields"``, no certificate: an empty chain) and its subject
    (RFC 4514). With no verified client (an exempt path, accept or report
    mode) both are empty, and in report mode ``client_cert_error`` is the
    would-be refusal's code. What the server wrote there describes the hop
    from the proxy, whose certificate is not the client's: it is replaced,
    never left for the app to take for the client, and kept in
    ``scope["state"]["xfcc_hop_tls"]``; the hop's ``tls_version``,
    ``cipher_suite`` and ``server_cert`` stay (all ``None`` when the hop
    was plain HTTP: the client's TLS connection ended at the proxy)."""
    extensions = dict(scope.get("extensions") or {})
    state = scope.setdefault("state", {})
    # The server's own, once: a second pass over the scope keeps it.
    hop = state[_HOP_TLS] if _HOP_TLS in state else extensions.get("tls")
    tls = dict(hop) if isinstance(hop, dict) else {"server_cert": None, "tls_version": None, "cipher_suite": None}
    state[_HOP_TLS] = hop if isinstance(hop, dict) else None
    pem = cert.pem if cert else None
    tls["client_cert_chain"] = [pem] if pem else []
    tls["client_cert_name"] = cert.subject if cert else None
    tls["client_cert_error"] = rejection.code if rejection is not None else None
    extensions["tls"] = tls
    scope["extensions"] = extensions


async def _deny(kind: str, scope: Scope, receive: Receive, send: Send, status: int, body: bytes) -> None:
    """Answers a refused request with the core's status and body: an HTTP
    response, or for a WebSocket handshake the HTTP denial response where
    the server offers it, else a close before the handshake is accepted
    (which the server answers with 403)."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if kind == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    # The handshake's first message is websocket.connect: read it, so the
    # answer is to that handshake.
    await receive()
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": json.loads(body).get("error", "")})
