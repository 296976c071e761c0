"""Verify the client certificate a TLS-terminating proxy forwards
(``X-Forwarded-Client-Cert`` and the other proxies' forms) with the xfcc
Rust core.

Every decision is the core's: parsing, consistency, validity, chains,
rules, the mode, the status and body of a refusal (``Policy.decide``
returns a :class:`Verdict`) and how many rejection records are written
(:class:`LogLimiter`). This package converts arguments and results, and
adds the ASGI
(:mod:`xfcc.asgi`) and WSGI (:mod:`xfcc.wsgi`, :mod:`xfcc.flask`)
middleware.

>>> import xfcc
>>> policy = xfcc.Policy.from_env()            # doctest: +SKIP
>>> cert = policy.verify(header, peer="10.0.0.4")  # doctest: +SKIP
"""

import functools
import ipaddress

from ._xfcc import ClientCert, ConfigError, LogLimiter, Policy, Rejection, Verdict, inspect, wiring_refusal

__all__ = [
    "ClientCert", "ConfigError", "LogLimiter", "Policy", "Rejection", "Verdict", "inspect", "peer_address",
    "status_of", "wiring_refusal",
]


def status_of(rejection: Rejection) -> int:
    """The HTTP status the middleware answers a rejection with, as the core
    decides it (403, or 500 for a wiring error such as
    ``peer_unavailable``): the rejection's ``status``."""
    return int(getattr(rejection, "status", 500))


def peer_address(value: object) -> "str | None":
    """The TCP peer as an IP address string, or ``None`` when the server
    gave something else (a Unix socket, a test client's name): with
    ``trusted_peers`` that request is then ``peer_unavailable``."""
    if not isinstance(value, str):
        return None
    return _peer_address(value)


@functools.lru_cache(maxsize=1024)
def _peer_address(value: str) -> "str | None":
    # Parsing an address in Python costs more than the cached verdict;
    # the peers of a service are few (its proxies), so they are remembered.
    try:
        return str(ipaddress.ip_address(value.split("%", 1)[0]))
    except ValueError:
        return None
