"""What the ASGI and WSGI middleware share besides the core's verdict: the
policy's warnings at start, wiring errors logged at most once a minute, and
the check that the peer was not rewritten from a forwarded header."""

from __future__ import annotations

import logging
import threading
import time
from typing import Iterable, Optional

from . import Policy, peer_address

log = logging.getLogger("xfcc")

#: The headers a server or middleware takes a client address from.
FORWARDED_FOR = ("x-forwarded-for", "forwarded", "x-real-ip")

#: What to check when the peer may be rewritten, logged at start when the
#: policy trusts peers by address.
PEER_CHECKLIST = (
    "trusted_peers is judged on the TCP peer; make sure nothing rewrites it from X-Forwarded-For, Forwarded "
    "or X-Real-IP: uvicorn needs --no-proxy-headers (its default trusts X-Forwarded-For from "
    "--forwarded-allow-ips, 127.0.0.1 unless set, and '*' trusts everyone); hypercorn must not wrap the app in "
    "ProxyFixMiddleware; granian's app must not be wrapped in granian.utils.proxies.wrap_asgi_with_proxy_headers "
    "(or wrap_wsgi_with_proxy_headers); "
    "a WSGI app must not be wrapped in werkzeug's ProxyFix in front of xfcc. A request whose trusted peer "
    "also appears in those headers is refused (500 peer_rewritten)"
)


def log_policy_warnings(policy: Policy, adapter: str) -> None:
    """Each warning of the policy once, at WARNING, with its code and fix."""
    for code, message, fix in policy.warnings():
        log.warning("xfcc %s: policy warning [%s]: %s (fix: %s)", adapter, code, message, fix)


class EveryMinute:
    """Says whether a record of a kind may be written now: the first one,
    then at most one a minute per kind (a flood of a wiring error costs one
    log line a minute)."""

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._last: dict = {}

    def __call__(self, kind: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.seconds:
                return False
            self._last[kind] = now
            return True


def _hosts(value: str) -> Iterable[str]:
    """The addresses a forwarded-address header names: comma-separated
    entries of X-Forwarded-For or X-Real-IP (`host`, `host:port`,
    `[v6]:port`), and the `for=` parameters of Forwarded (RFC 7239)."""
    for entry in value.split(","):
        for part in entry.split(";"):
            part = part.strip()
            if part.lower().startswith("for="):
                part = part[4:].strip().strip('"')
            elif "=" in part:
                continue
            if part.startswith("["):
                part = part[1 : part.find("]")] if "]" in part else part[1:]
            elif part.count(":") == 1:
                part = part.split(":", 1)[0]
            if part:
                yield part


def rewritten_peer(policy: Policy, peer: Optional[str], forwarded: Iterable[str]) -> bool:
    """Whether a trusted peer looks rewritten from a forwarded header: the
    policy trusts peers by address, `peer` is one it trusts, and the same
    address appears in X-Forwarded-For, Forwarded or X-Real-IP. A proxy
    does not name itself there, so the address was taken from them by a
    server or middleware (uvicorn's proxy headers, hypercorn's
    ProxyFixMiddleware, werkzeug's ProxyFix), and any client can write it."""
    if peer is None or not policy.has_trusted_peers or not policy.is_trusted_peer(peer):
        return False
    for value in forwarded:
        for host in _hosts(value):
            if peer_address(host) == peer:
                return True
    return False
