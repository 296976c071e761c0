"""ASGI middleware (Starlette, FastAPI, any ASGI 3 app).

It reads the raw header list of the scope, so a look-alike such as
``X_Forwarded_Client_Cert`` is never taken for the real header, and the
peer from ``scope["client"]``, which must be the TCP peer: run uvicorn with
``--no-proxy-headers`` (it rewrites the client from ``X-Forwarded-For`` for
the addresses in ``--forwarded-allow-ips``, 127.0.0.1 by default), or
``trusted_peers`` judges the address a client wrote.

On success the verified :class:`xfcc.ClientCert` is in
``scope["state"]["client_cert"]`` (``request.state.client_cert`` in
Starlette and FastAPI). A refused request gets 403 ``{"error": "<code>"}``
(500 for ``peer_unavailable``) and never reaches the app. In report mode
the request goes on with no certificate and the refusal in
``scope["state"]["xfcc_rejection"]``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Iterable, MutableMapping, Optional

from . import Policy, Rejection, peer_address, status_of

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log = logging.getLogger("xfcc")


def log_rejection(rejection: Rejection) -> None:
    """One bounded log record per refusal (the core bounds what it says and
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
    """Verifies the forwarded client certificate of every HTTP request.

    ``exempt`` lists paths served without a check (the platform's health
    probe, which reaches the container directly).
    """

    def __init__(self, app: Callable[..., Awaitable[None]], policy: Policy, *, exempt: Iterable[str] = ()) -> None:
        self.app = app
        self.policy = policy
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer: Optional[str] = peer_address(client[0]) if client else None
        state = scope.setdefault("state", {})
        try:
            cert = self.policy.verify_request(scope.get("headers") or [], peer)
        except Rejection as r:
            log_rejection(r)
            if r.would_deny:
                state["client_cert"] = None
                state["xfcc_rejection"] = r
                await self.app(scope, receive, send)
                return
            body = json.dumps({"error": r.code}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status_of(r),
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        state["client_cert"] = cert
        await self.app(scope, receive, send)
