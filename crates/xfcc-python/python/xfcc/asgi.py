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
``websocket.state.client_cert`` in Starlette and FastAPI). A refused request
gets 403 ``{"error": "<code>"}`` (500 for ``peer_unavailable`` and
``peer_rewritten``) and never reaches the app. In report mode the request
goes on with no certificate and the refusal in
``scope["state"]["xfcc_rejection"]``. The policy's warnings are logged once
when the middleware is built.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, Awaitable, Callable, Iterable, MutableMapping, Optional

from . import Policy, Rejection, peer_address, status_of
from ._guard import FORWARDED_FOR, PEER_CHECKLIST, EveryMinute, log_policy_warnings, rewritten_peer

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("xfcc")
_logger = log  # (the middleware's `log` argument shadows `log`)


class RejectionLog:
    """One log record per refusal on the ``xfcc`` logger, at most
    ``per_second`` per reason each second (``None``: no bound); the rest are
    counted, and one record per second says how many of each reason were
    not logged. ``peer_unavailable`` (a wiring error) is always logged, at
    ERROR. The default reads ``XFCC_LOG_RATE`` (a number, or
    ``unlimited``) as the Rust examples do, else 10: a flood of bad
    requests cannot decide the log bill."""

    def __init__(self, per_second: "int | None | str" = "env") -> None:
        bad = ValueError("XFCC_LOG_RATE: at least 1 event per second, or unlimited")
        if per_second == "env":
            raw = os.environ.get("XFCC_LOG_RATE", "10").strip().lower()
            if raw != "unlimited" and not raw.isdigit():
                raise bad
            per_second = None if raw == "unlimited" else int(raw)
        if per_second is not None and per_second < 1:
            raise bad
        self.per_second = per_second
        self._lock = threading.Lock()
        self._second = int(time.monotonic())
        self._logged: dict = {}
        self._suppressed: dict = {}

    def _flush(self, now: int) -> dict:
        out = self._suppressed
        self._second, self._logged, self._suppressed = now, {}, {}
        return out

    def __call__(self, rejection: Rejection) -> None:
        code = rejection.code
        always = code == "peer_unavailable" or self.per_second is None
        now = int(time.monotonic())
        with self._lock:
            summary = self._flush(now) if now != self._second else {}
            emit = always or self._logged.get(code, 0) < self.per_second
            if emit:
                self._logged[code] = self._logged.get(code, 0) + 1
            else:
                self._suppressed[code] = self._suppressed.get(code, 0) + 1
        if summary:
            log.info("client certificate rejections not logged in the last second: %s",
                     ", ".join(f"{k}={v}" for k, v in sorted(summary.items())))
        if emit:
            log_rejection(rejection)


def log_rejection(rejection: Rejection) -> None:
    """One bounded log record for a refusal (the core bounds what it says and
    never includes certificate bytes)."""
    level = logging.ERROR if rejection.code == "peer_unavailable" else logging.INFO
    verb = "would be rejected (mode = report: the request goes on)" if rejection.would_deny else "rejected"
    log.log(
        level,
        "client certificate %s: reason=%s detail=%s element=%s peer=%s source=%s hint=%s explanation=%s",
        verb,
        rejection.code,
        rejection.detail,
        rejection.element,
        rejection.peer,
        rejection.source,
        rejection.hint,
        rejection.explanation,
    )


class XfccMiddleware:
    """Verifies the forwarded client certificate of every HTTP request and
    WebSocket handshake.

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
        self.policy = policy
        self.exempt = frozenset(exempt)
        self.log = log or RejectionLog()
        self._wiring = EveryMinute()
        log_policy_warnings(policy, "ASGI middleware")
        if policy.has_trusted_peers:
            _logger.info("xfcc ASGI middleware: %s", PEER_CHECKLIST)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            # A request of a kind this middleware cannot answer: never
            # passed unchecked.
            raise RuntimeError(f"xfcc: ASGI scope type {kind!r} is not verified by XfccMiddleware: refused")
        if scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer: Optional[str] = peer_address(client[0]) if client else None
        headers = scope.get("headers") or []
        state = scope.setdefault("state", {})
        forwarded = [v.decode("latin-1") for n, v in headers if n.lower() in _FORWARDED_FOR]
        if rewritten_peer(self.policy, client[0] if client else None, forwarded):
            if self._wiring("peer_rewritten"):
                _logger.error(
                    "xfcc: the client address %s is trusted and also appears in X-Forwarded-For, Forwarded or "
                    "X-Real-IP: the server or a middleware rewrote it from them (500 peer_rewritten). Remove the "
                    "rewrite: uvicorn --no-proxy-headers, no hypercorn ProxyFixMiddleware, no granian "
                    "wrap_asgi_with_proxy_headers",
                    peer,
                )
            await _deny(kind, scope, receive, send, 500, "peer_rewritten")
            return
        try:
            cert = self.policy.verify_request(headers, peer)
        except Rejection as r:
            self.log(r)
            if r.would_deny:
                state["client_cert"] = None
                state["xfcc_rejection"] = r
                await self.app(scope, receive, send)
                return
            await _deny(kind, scope, receive, send, status_of(r), r.code)
            return
        state["client_cert"] = cert
        await self.app(scope, receive, send)


_FORWARDED_FOR = frozenset(n.encode() for n in FORWARDED_FOR)


async def _deny(kind: str, scope: Scope, receive: Receive, send: Send, status: int, code: str) -> None:
    """Answers a refused request: an HTTP response, or for a WebSocket
    handshake the HTTP denial response where the server offers it, else a
    close before the handshake is accepted (which the server answers with
    403)."""
    body = json.dumps({"error": code}).encode()
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
        await send({"type": "websocket.close", "code": 1008, "reason": code})
