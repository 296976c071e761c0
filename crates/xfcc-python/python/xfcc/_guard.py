"""What the ASGI and WSGI middleware share besides the core's verdict: the
policy's warnings at start, wiring errors logged at most once a minute, and
the check that the peer was not rewritten from a forwarded header."""

from __future__ import annotations

import functools
import logging
import re
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


@functools.lru_cache(maxsize=64)
def _entry_pattern(client: str) -> "re.Pattern[str]":
    """A pattern that finds `client` as a whole entry of X-Forwarded-For or
    X-Real-IP (`host`, `host:port`, `[v6]`, `[v6]:port`) or a `for=` of
    Forwarded (RFC 7239, quoted or not), and never as part of another
    address (`10.0.0.5` is not in `10.0.0.55`, nor `::1` in `::12`)."""
    # The address first, so the engine scans for it as a literal; what
    # stands around it is checked only where it occurs.
    c = re.escape(client)
    if ":" in client:
        # IPv6: bracketed (a port may follow), or alone between separators.
        return re.compile(rf'(?<![^\s,;="\[]){c}(?=$|[\s,;"]|\])')
    return re.compile(rf'(?<![^\s,;="\[]){c}(?=$|[\s,;"\]:])')


def rewritten_peer(policy: Policy, client: Optional[str], forwarded: Iterable[str]) -> bool:
    """Whether a trusted peer looks rewritten from a forwarded header: the
    policy trusts peers by address, `client` (the address as the server
    gives it: ``scope["client"][0]``, ``REMOTE_ADDR``) is one it trusts, and
    the same address is an entry of X-Forwarded-For, Forwarded or
    X-Real-IP. A proxy does not name itself there, so the address was taken
    from them by a server or middleware (uvicorn's proxy headers,
    hypercorn's ProxyFixMiddleware, granian's and werkzeug's wrappers, which
    all copy the entry as written), and any client can write it.

    Cost, whatever the headers hold: a substring scan, and a regular
    expression over them only when the address occurs in them (both in C,
    linear in the headers' size)."""
    if not isinstance(client, str) or not client or not policy.has_trusted_peers:
        return False
    forwarded = [v for v in forwarded if client in v]
    if not forwarded:
        return False
    peer = peer_address(client)
    if peer is None or not policy.is_trusted_peer(peer):
        return False
    pattern = _entry_pattern(client)
    return any(pattern.search(v) for v in forwarded)
