"""Starlette (and FastAPI): the verified client as ``request.user`` and
``request.auth``, so ``@requires("client_cert")`` and the other parts of
Starlette's authentication work.

:class:`ClientCertBackend` reads what :class:`xfcc.asgi.XfccMiddleware`
decided: it verifies nothing itself, and it refuses to run without that
middleware in front (a ``RuntimeError``: a 500, never an anonymous pass).
Put the xfcc middleware outside Starlette's ``AuthenticationMiddleware``,
which in Starlette's ``middleware=[...]`` list means first::

    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware

    app = Starlette(routes=routes, middleware=[
        Middleware(XfccMiddleware, policy=xfcc.Policy.from_env(), exempt=["/health"]),
        Middleware(AuthenticationMiddleware, backend=xfcc.starlette.ClientCertBackend()),
    ])

A verified client is authenticated with the scopes ``authenticated`` and
``client_cert``; a request with none (an exempt path, accept or report
mode) is anonymous (``request.user.is_authenticated`` is false).
"""

from __future__ import annotations

from typing import Iterable, Optional, Tuple

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from . import ClientCert

__all__ = ["ClientCertBackend", "ClientCertUser", "verified_client"]


class ClientCertUser(BaseUser):
    """A client authenticated by its forwarded certificate:
    ``client_cert`` is the :class:`xfcc.ClientCert`; ``identity`` its
    SPIFFE ID where it has one, else its SHA-256 thumbprint;
    ``display_name`` its subject's common name (the subject when it has
    none or several)."""

    def __init__(self, client_cert: ClientCert) -> None:
        self.client_cert = client_cert

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        cns = self.client_cert.subject_cn
        return cns[0] if len(cns) == 1 else self.client_cert.subject

    @property
    def identity(self) -> str:
        return self.client_cert.spiffe_id or self.client_cert.sha256


def verified_client(conn: HTTPConnection) -> Optional[ClientCert]:
    """The client :class:`xfcc.asgi.XfccMiddleware` verified for this
    request or WebSocket, or ``None`` (exempt path, accept or report mode).
    Raises ``RuntimeError`` when that middleware did not see the request:
    an app that forgot it fails, it does not serve everyone."""
    state = conn.scope.get("state") or {}
    if "xfcc_verdict" not in state:
        raise RuntimeError(
            "xfcc: no verdict for this request: add xfcc.asgi.XfccMiddleware outside (before, in a middleware "
            "list) the code that reads the client certificate"
        )
    return state["client_cert"]


class ClientCertBackend(AuthenticationBackend):
    """Starlette's authentication from the forwarded client certificate
    :class:`xfcc.asgi.XfccMiddleware` verified. ``scopes`` are granted to
    every verified client (default ``("authenticated", "client_cert")``)."""

    def __init__(self, scopes: Iterable[str] = ("authenticated", "client_cert")) -> None:
        self.scopes = list(scopes)

    async def authenticate(self, conn: HTTPConnection) -> Optional[Tuple[AuthCredentials, BaseUser]]:
        cert = verified_client(conn)
        if cert is None:
            return None
        return AuthCredentials(self.scopes), ClientCertUser(cert)
