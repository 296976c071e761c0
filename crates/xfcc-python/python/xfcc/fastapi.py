"""FastAPI: the verified client as a dependency.

:func:`client_cert` returns the :class:`xfcc.ClientCert` that
:class:`xfcc.asgi.XfccMiddleware` verified, or answers the refusal: where
the middleware lets a request through without a client (an exempt path,
``mode = "accept"`` or ``"report"``), a route that depends on it answers 403
with the code (``{"detail": "missing"}``, or the would-be refusal's code in
report mode), as FastAPI's own security dependencies answer; a WebSocket
route closes with 1008 and the code. Without the middleware it raises
``RuntimeError`` (a 500): it never verifies on its own, and never serves
without a verdict::

    from fastapi import Depends, FastAPI
    import xfcc
    from xfcc.asgi import XfccMiddleware
    from xfcc.fastapi import client_cert

    app = FastAPI()
    app.add_middleware(XfccMiddleware, policy=xfcc.Policy.from_env(), exempt=["/health"])

    @app.get("/whoami")
    def whoami(cert: xfcc.ClientCert = Depends(client_cert)):
        return {"cn": cert.subject_cn}
"""

from __future__ import annotations

from fastapi import HTTPException, WebSocketException
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from . import ClientCert
from .starlette import verified_client

__all__ = ["client_cert"]

#: The close code of a refused WebSocket (policy violation).
WS_POLICY_VIOLATION = 1008


def client_cert(conn: HTTPConnection) -> ClientCert:
    """The verified client of this request or WebSocket, or the refusal
    (403 with the code; a WebSocket closes with 1008)."""
    cert = verified_client(conn)
    if cert is not None:
        return cert
    state = conn.scope.get("state") or {}
    rejection = state.get("xfcc_rejection")
    code = rejection.code if rejection is not None else "missing"
    status = rejection.status if rejection is not None else 403
    if isinstance(conn, WebSocket):
        raise WebSocketException(code=WS_POLICY_VIOLATION, reason=code)
    raise HTTPException(status_code=status, detail=code)
