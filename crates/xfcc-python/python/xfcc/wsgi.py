"""WSGI middleware (Flask, Django, any WSGI app).

WSGI hands the app its headers as ``HTTP_*`` keys, where ``-`` and ``_``
are both ``_``: a client that sends ``X_Forwarded_Client_Cert`` (which the
proxy does not overwrite: it is another header) lands in
``HTTP_X_FORWARDED_CLIENT_CERT`` unless the server drops header names with
underscores. gunicorn 22 and later (with its default ``header_map =
"drop"``: leave it) and Werkzeug 3 drop them (tested);
Python's ``wsgiref`` (and servers built on it) does not. So by default the
middleware serves only under a server known to drop them and answers 500
``{"error": "unsafe_server"}`` under any other; if the proxy in front
drops or rejects such headers itself (Envoy:
``headers_with_underscores_action: REJECT_REQUEST``), say so with
``proxy_drops_underscores=True``.

The peer for ``trusted_peers`` is ``REMOTE_ADDR``, which must be the TCP
peer (gunicorn does not rewrite it; do not add a middleware that does, such
as Werkzeug's ``ProxyFix``, in front of this one).

On success the verified :class:`xfcc.ClientCert` is in
``environ["xfcc.client_cert"]`` (Django: ``request.META``; Flask:
``request.environ``, and ``flask.g.client_cert`` with :mod:`xfcc.flask`).
A refused request gets 403 ``{"error": "<code>"}`` (500 for
``peer_unavailable``). In report mode the request goes on with no
certificate and the refusal in ``environ["xfcc.rejection"]``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Callable, Iterable, Iterator, Optional

from . import Policy, Rejection, peer_address, status_of
from .asgi import RejectionLog

log = logging.getLogger("xfcc")

#: The ``SERVER_SOFTWARE`` of servers that drop header names holding an
#: underscore, with the first version that does.
SAFE_SERVERS = {"gunicorn": (22,), "Werkzeug": (3,)}


def server_drops_underscores(server_software: str) -> bool:
    """Whether ``SERVER_SOFTWARE`` names a server known to drop header
    names with underscores (gunicorn >= 22, Werkzeug >= 3)."""
    m = re.match(r"\s*([A-Za-z]+)/(\d+)", server_software or "")
    if not m:
        return False
    first = SAFE_SERVERS.get(m.group(1))
    return first is not None and (int(m.group(2)),) >= first


def _json(start_response: Callable[..., Any], status: int, body: dict) -> Iterator[bytes]:
    data = json.dumps(body).encode()
    reason = {403: "Forbidden", 500: "Internal Server Error"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return iter([data])


class XfccWSGIMiddleware:
    """Verifies the forwarded client certificate of every request.

    ``exempt`` lists paths served without a check (the platform's health
    probe). ``proxy_drops_underscores`` says the proxy in front drops or
    rejects header names with underscores, which makes any WSGI server
    safe. ``log`` bounds the rejection records (default
    :class:`xfcc.asgi.RejectionLog`: ``XFCC_LOG_RATE``, else 10 per reason
    per second).
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        policy: Policy,
        *,
        exempt: Iterable[str] = (),
        proxy_drops_underscores: bool = False,
        log: Optional[RejectionLog] = None,
    ) -> None:
        self.app = app
        self.log = log or RejectionLog()
        self.policy = policy
        self.exempt = frozenset(exempt)
        self.proxy_drops_underscores = proxy_drops_underscores
        self._warned = False
        # The environ keys of the headers the policy reads (and their names).
        self._keys = [("HTTP_" + n.upper().replace("-", "_"), n) for n in policy.header_names]

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in self.exempt:
            return self.app(environ, start_response)
        if not self.proxy_drops_underscores and not server_drops_underscores(environ.get("SERVER_SOFTWARE", "")):
            if not self._warned:
                self._warned = True
                log.error(
                    "xfcc: the WSGI server %r is not known to drop header names with underscores, so a client's "
                    "X_Forwarded_Client_Cert would read as X-Forwarded-Client-Cert: every request is refused "
                    "(500 unsafe_server). Serve with gunicorn >= 22 or Werkzeug >= 3, or make the proxy drop such "
                    "headers (Envoy: headers_with_underscores_action: REJECT_REQUEST) and pass "
                    "proxy_drops_underscores=True.",
                    environ.get("SERVER_SOFTWARE"),
                )
            return _json(start_response, 500, {"error": "unsafe_server"})
        # Header values are latin-1 text in the environ (PEP 3333): the
        # same bytes the client sent.
        headers = [
            (name, value.encode("latin-1", "replace"))
            for key, name in self._keys
            if isinstance(value := environ.get(key), str)
        ]
        peer: Optional[str] = peer_address(environ.get("REMOTE_ADDR"))
        try:
            cert = self.policy.verify_request(headers, peer)
        except Rejection as r:
            self.log(r)
            if r.would_deny:
                environ["xfcc.client_cert"] = None
                environ["xfcc.rejection"] = r
                return self.app(environ, start_response)
            return _json(start_response, status_of(r), {"error": r.code})
        environ["xfcc.client_cert"] = cert
        return self.app(environ, start_response)


def client_cert(environ: dict) -> Optional[Any]:
    """The verified client of a request the middleware let through
    (``None`` in accept or report mode without one)."""
    return environ.get("xfcc.client_cert")
