"""The one request path of the ASGI and WSGI middleware: the core's verdict
(:meth:`xfcc.Policy.decide`), the rejection records the core's limiter
admits, the policy's warnings at start, wiring errors logged at most once a
minute, and the check that the peer was not rewritten from a forwarded
header. The middleware only read their server's request and write its
answer; they decide nothing."""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from typing import Any, Iterable, List, Optional, Tuple

from . import LogLimiter, Policy, Rejection, Verdict, peer_address, wiring_refusal

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


#: What a policy with trusted_proxies needs of the server, logged at start.
PROXY_CHECKLIST = (
    "trusted_proxies is judged on the certificate the proxy presents to this server: the ASGI server must "
    "terminate the proxy's TLS, ask for a client certificate and fill the ASGI TLS extension "
    "(scope['extensions']['tls']['client_cert_chain']); uvicorn 0.55 and hypercorn 0.18 do not fill it, and "
    "WSGI servers have no such field, so there every request carrying the header is refused "
    "(500 peer_unavailable) until the server provides it"
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


class RejectionLog:
    """One log record per refusal on the ``xfcc`` logger, as the core's
    :class:`xfcc.LogLimiter` admits them: at most ``per_second`` per reason
    each second (``None``: no bound); the rest are counted, and one record
    per second says how many of each reason were not logged.
    ``peer_unavailable`` (a wiring error) is always logged, at ERROR. The
    default reads ``XFCC_LOG_RATE`` (a number, or ``unlimited``) as the Rust
    examples do, else 10: a flood of bad requests cannot decide the log
    bill."""

    def __init__(self, per_second: "int | None | str" = "env") -> None:
        # The rate and its variable are the core's (``LogRate``).
        self._limiter = LogLimiter.from_env() if per_second == "env" else LogLimiter(per_second)

    def __call__(self, rejection: Rejection) -> None:
        emit, summary = self._limiter.admit(rejection.code)
        if summary:
            log.info("client certificate rejections not logged in the last second: %s",
                     ", ".join(f"{k}={v}" for k, v in sorted(summary)))
        if emit:
            log_rejection(rejection)


def log_rejection(rejection: Rejection) -> None:
    """One bounded log record for a refusal (the core bounds what it says and
    never includes certificate bytes). Fields the refusal does not have
    (``None``) are left out, not written as ``None``."""
    level = logging.ERROR if rejection.code == "peer_unavailable" else logging.INFO
    verb = "would be rejected (mode = report: the request goes on)" if rejection.would_deny else "rejected"
    fields = [
        ("reason", rejection.code),
        ("detail", rejection.detail),
        ("element", rejection.element),
        ("peer", rejection.peer),
        ("source", rejection.source),
        ("hint", rejection.hint),
        ("explanation", rejection.explanation),
    ]
    present = [(k, v) for k, v in fields if v is not None]
    log.log(
        level,
        "client certificate %s: " + " ".join(f"{k}=%s" for k, _ in present),
        verb,
        *(v for _, v in present),
    )


class Answer:
    """What a middleware does with one request: serve it (``status`` is
    ``None``; ``verdict`` is the core's, ``None`` on an exempt path) or
    refuse it with ``status`` and ``body``. ``client_cert`` and
    ``rejection`` are the verdict's, read once (each read of a verdict's
    makes a new Python object)."""

    __slots__ = ("status", "body", "verdict", "client_cert", "rejection")

    def __init__(self, status: Optional[int], body: Optional[bytes], verdict: Optional[Verdict],
                 client_cert: Any = None, rejection: Optional[Rejection] = None) -> None:
        self.status = status
        self.body = body
        self.verdict = verdict
        self.client_cert = client_cert
        self.rejection = rejection


#: An exempt path: served, nothing checked, nothing set.
UNCHECKED = Answer(None, None, None)


class RequestPath:
    """The request path both middleware share. Built once per middleware:
    logs the policy's warnings (and, with ``trusted_peers``, what to
    check)."""

    def __init__(self, policy: Policy, exempt: Iterable[str], log_records: Optional[RejectionLog], adapter: str) -> None:
        self.policy = policy
        self.exempt = frozenset(exempt)
        self.log = log_records or RejectionLog()
        self.wiring = EveryMinute()
        log_policy_warnings(policy, adapter)
        if policy.has_trusted_peers:
            log.info("xfcc %s: %s", adapter, PEER_CHECKLIST)
        if policy.has_trusted_proxies:
            log.info("xfcc %s: %s", adapter, PROXY_CHECKLIST)

    def refuse_wiring(self, code: str, message: str, *args: Any) -> Answer:
        """A refusal the middleware detected itself, logged at ERROR at most
        once a minute; its status and body are the core's."""
        if self.wiring(code):
            log.error(message + " (Logged at most once a minute.)", *args)
        status, body = wiring_refusal(code)
        return Answer(status, body, None)

    def answer(self, path: str, headers: List[Tuple[Any, Any]], client: Optional[str], forwarded: List[str],
               peer_cert_chain: Optional[List[Any]] = None) -> Answer:
        """Judges one request: ``headers`` as ``(name, value)`` pairs,
        ``client`` the peer address as the server gives it, ``forwarded``
        the values of X-Forwarded-For, Forwarded and X-Real-IP,
        ``peer_cert_chain`` what the connection presented in TLS (``None``
        when the server does not say)."""
        if path in self.exempt:
            return UNCHECKED
        if rewritten_peer(self.policy, client, forwarded):
            return self.refuse_wiring(
                "peer_rewritten",
                "xfcc: the client address %s is trusted and also appears in X-Forwarded-For, Forwarded or "
                "X-Real-IP: the server or a middleware rewrote it from them (500 peer_rewritten). Remove the "
                "rewrite: uvicorn --no-proxy-headers, no hypercorn ProxyFixMiddleware, no granian "
                "wrap_asgi_with_proxy_headers, no werkzeug ProxyFix in front of xfcc.",
                client,
            )
        verdict = self.policy.decide(headers, peer_address(client), peer_cert_chain)
        rejection = verdict.rejection
        if rejection is not None:
            self.log(rejection)
        status = verdict.status
        if status is not None:
            return Answer(status, verdict.body, verdict, None, rejection)
        return Answer(None, None, verdict, verdict.client_cert, rejection)
