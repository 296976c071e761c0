"""WSGI middleware (Flask, Django, any WSGI app).

WSGI hands the app its headers as ``HTTP_*`` keys, where ``-`` and ``_``
are both ``_``: a client that sends ``X_Forwarded_Client_Cert`` (which the
proxy does not overwrite: it is another header) lands in
``HTTP_X_FORWARDED_CLIENT_CERT`` unless the server drops header names with
underscores. gunicorn 22 and later (with its default ``header_map =
"drop"``: leave it), waitress 3 and Werkzeug 3 drop them (tested);
Python's ``wsgiref`` (and Django's ``runserver``, built on it) does not. So
by default the middleware serves only under a server known to drop them and
answers 500 ``{"error": "unsafe_server"}`` under any other, logged at ERROR
on the first such request of each process and then at most once a minute.
If the proxy in front drops or rejects such headers itself (Envoy:
``headers_with_underscores_action: REJECT_REQUEST``; nginx by default), say
so with ``proxy_drops_underscores=True``. For local development under
``runserver``, set the environment variable ``XFCC_DEV_SERVER=loopback``:
requests from 127.0.0.0/8 and ::1 are then served under any server (the
others still get ``unsafe_server``), and every start logs a WARNING that
says so; being an environment variable, it does not travel with the code.

The peer for ``trusted_peers`` is ``REMOTE_ADDR``, which must be the TCP
peer (gunicorn does not rewrite it). A middleware that does, such as
Werkzeug's ``ProxyFix`` in front of this one, is detected (it leaves
``werkzeug.proxy_fix.orig``), as is a trusted peer that also appears in
``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP``: refused, 500
``{"error": "peer_rewritten"}``.

On success the verified :class:`xfcc.ClientCert` is in
``environ["xfcc.client_cert"]`` (Django: ``request.META``; Flask:
``request.environ``, and ``flask.g.client_cert`` with :mod:`xfcc.flask`).
A refused request gets 403 ``{"error": "<code>"}`` (500 for
``peer_unavailable``). In report mode the request goes on with no
certificate and the refusal in ``environ["xfcc.rejection"]``. The policy's
warnings are logged once when the middleware is built.
"""

from __future__ import annotations

import http
import importlib.metadata
import ipaddress
import logging
import os
import re
from typing import Any, Callable, Iterable, Iterator, Optional

from . import Policy, peer_address
from ._guard import FORWARDED_FOR, UNCHECKED, Answer, RejectionLog, RequestPath

log = logging.getLogger("xfcc")
_logger = log

#: The ``SERVER_SOFTWARE`` of servers that drop header names holding an
#: underscore, with the first version that does (tested).
SAFE_SERVERS = {"gunicorn": (22,), "Werkzeug": (3,), "waitress": (3,)}

#: The environ keys of the forwarded-address headers.
_FORWARDED_KEYS = tuple("HTTP_" + n.upper().replace("-", "_") for n in FORWARDED_FOR)


def _installed_major(package: str) -> int:
    try:
        return int(importlib.metadata.version(package).split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 0


def server_drops_underscores(server_software: str) -> bool:
    """Whether ``SERVER_SOFTWARE`` names a server known to drop header
    names with underscores (gunicorn >= 22, Werkzeug >= 3, waitress >= 3,
    which says only ``waitress``: the installed waitress is asked its
    version)."""
    software = (server_software or "").strip()
    if software == "waitress":
        return _installed_major("waitress") >= SAFE_SERVERS["waitress"][0]
    m = re.match(r"([A-Za-z]+)/(\d+)", software)
    if not m:
        return False
    first = SAFE_SERVERS.get(m.group(1))
    return first is not None and (int(m.group(2)),) >= first


def _dev_server_from_env() -> bool:
    raw = os.environ.get("XFCC_DEV_SERVER", "").strip()
    if raw in ("", "off"):
        return False
    if raw == "loopback":
        return True
    raise ValueError(f"XFCC_DEV_SERVER: 'loopback' (serve loopback peers under any server, for development) or unset, not {raw!r}")


def _is_loopback(peer: Optional[str]) -> bool:
    try:
        return peer is not None and ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def _respond(start_response: Callable[..., Any], status: int, body: bytes) -> Iterator[bytes]:
    """The core's status and body, as WSGI writes them."""
    start_response(
        f"{status} {http.HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return iter([body])


class XfccWSGIMiddleware:
    """Verifies the forwarded client certificate of every request: the core
    decides (:meth:`xfcc.Policy.decide`), this translates its verdict into
    a WSGI answer.

    ``exempt`` lists paths served without a check (the platform's health
    probe). ``proxy_drops_underscores`` says the proxy in front drops or
    rejects header names with underscores, which makes any WSGI server
    safe. ``log`` bounds the rejection records (default
    :class:`xfcc.asgi.RejectionLog`: ``XFCC_LOG_RATE``, else 10 per reason
    per second). ``XFCC_DEV_SERVER=loopback`` in the environment serves
    loopback peers under a server that keeps underscores (development only).
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
        self.reader = EnvironReader(
            RequestPath(policy, exempt, log, "WSGI middleware"), proxy_drops_underscores=proxy_drops_underscores
        )
        self.path = self.reader.path
        self.policy, self.exempt, self.log = policy, self.path.exempt, self.path.log
        self.proxy_drops_underscores = proxy_drops_underscores
        self.dev_server = self.reader.dev_server

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self.reader.answer(environ)
        if answer.status is not None:
            return _respond(start_response, answer.status, answer.body or b"")
        if answer.verdict is not None:
            environ["xfcc.client_cert"] = answer.client_cert
            environ["xfcc.rejection"] = answer.rejection
            environ["xfcc.verdict"] = answer.verdict
        return self.app(environ, start_response)


class EnvironReader:
    """What the core answers for one WSGI environ (``REMOTE_ADDR``, the
    ``HTTP_*`` keys of the headers the policy reads), with the refusals
    only a WSGI server can cause: one implementation for the WSGI
    middleware and Django under WSGI."""

    def __init__(self, path: RequestPath, *, proxy_drops_underscores: bool = False) -> None:
        self.path = path
        self.policy = path.policy
        self.proxy_drops_underscores = proxy_drops_underscores
        self.dev_server = _dev_server_from_env()
        # The environ keys of the headers the policy reads (and their names).
        self._keys = [("HTTP_" + n.upper().replace("-", "_"), n) for n in self.policy.header_names]
        if self.dev_server:
            _logger.warning(
                "xfcc WSGI middleware: XFCC_DEV_SERVER=loopback: under a server that keeps header names with "
                "underscores (wsgiref, Django runserver), requests from loopback addresses are served, and a "
                "local client's X_Forwarded_Client_Cert reads as the real header. For development only: unset "
                "it anywhere a proxy or a client other than yours can reach the app"
            )

    def answer(self, environ: dict) -> Answer:
        """Serve (exempt, or with the core's verdict) or refuse."""
        path = environ.get("PATH_INFO", "")
        if path in self.path.exempt:
            return UNCHECKED
        remote = environ.get("REMOTE_ADDR")
        remote = remote if isinstance(remote, str) else None
        answer = self._wiring(environ, remote)
        if answer is not None:
            return answer
        # Header values are latin-1 text in the environ (PEP 3333): the
        # same bytes the client sent.
        headers = [
            (name, value.encode("latin-1", "replace"))
            for key, name in self._keys
            if isinstance(value := environ.get(key), str)
        ]
        forwarded = [v for k in _FORWARDED_KEYS if isinstance(v := environ.get(k), str)]
        return self.path.answer(path, headers, remote, forwarded)

    def _wiring(self, environ: dict, remote: Optional[str]) -> Optional[Answer]:
        """The refusals only a WSGI server can cause: a server that keeps
        header names with underscores, and werkzeug's ProxyFix (which keeps
        the original ``REMOTE_ADDR`` in ``werkzeug.proxy_fix.orig``) where
        the policy trusts peers by address."""
        safe = self.proxy_drops_underscores or server_drops_underscores(environ.get("SERVER_SOFTWARE", ""))
        if not safe and not (self.dev_server and _is_loopback(peer_address(remote))):
            return self.path.refuse_wiring(
                "unsafe_server",
                "xfcc: the WSGI server %r is not known to drop header names with underscores, so a client's "
                "X_Forwarded_Client_Cert would read as X-Forwarded-Client-Cert: every request is refused "
                "(500 unsafe_server). Serve with gunicorn >= 22, waitress >= 3 or Werkzeug >= 3, or make the "
                "proxy drop such headers (Envoy: headers_with_underscores_action: REJECT_REQUEST) and pass "
                "proxy_drops_underscores=True; for local development only, XFCC_DEV_SERVER=loopback.",
                environ.get("SERVER_SOFTWARE"),
            )
        orig = environ.get("werkzeug.proxy_fix.orig")
        if self.policy.has_trusted_peers and isinstance(orig, dict) and orig.get("REMOTE_ADDR") != environ.get("REMOTE_ADDR"):
            return self.path.refuse_wiring(
                "peer_rewritten",
                "xfcc: REMOTE_ADDR %s was rewritten by werkzeug's ProxyFix: trusted_peers would judge an address "
                "a client wrote, so every such request is refused (500 peer_rewritten). Remove "
                "werkzeug.middleware.proxy_fix.ProxyFix in front of the xfcc middleware.",
                environ.get("REMOTE_ADDR"),
            )
        return None


def client_cert(environ: dict) -> Optional[Any]:
    """The verified client of a request the middleware let through
    (``None`` in accept or report mode without one)."""
    return environ.get("xfcc.client_cert")
