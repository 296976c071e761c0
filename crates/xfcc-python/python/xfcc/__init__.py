"""Verify the client certificate a TLS-terminating proxy forwards
(``X-Forwarded-Client-Cert`` and the other proxies' forms) with the xfcc
Rust core.

Every decision is the core's: parsing, consistency, validity, chains and
rules. This package converts arguments and results, and adds the ASGI
(:mod:`xfcc.asgi`) and WSGI (:mod:`xfcc.wsgi`, :mod:`xfcc.flask`)
middleware.

>>> import xfcc
>>> policy = xfcc.Policy.from_env()            # doctest: +SKIP
>>> cert = policy.verify(header, peer="10.0.0.4")  # doctest: +SKIP
"""

from ._xfcc import ClientCert, ConfigError, Policy, Rejection, inspect

__all__ = ["ClientCert", "ConfigError", "Policy", "Rejection", "inspect", "peer_address", "status_of"]

#: Rejection codes answered with 500 rather than 403: the service's own
#: wiring is at fault (the TCP peer is unknown), not the client.
SERVER_ERRORS = frozenset({"peer_unavailable"})


def status_of(rejection: Rejection) -> int:
    """The HTTP status the middleware answers a rejection with: 500 for a
    wiring error (``peer_unavailable``), else 403."""
    return 500 if getattr(rejection, "code", "") in SERVER_ERRORS else 403


def peer_address(value: object) -> "str | None":
    """The TCP peer as an IP address string, or ``None`` when the server
    gave something else (a Unix socket, a test client's name): with
    ``trusted_peers`` that request is then ``peer_unavailable``."""
    import ipaddress

    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.ip_address(value.split("%", 1)[0]))
    except ValueError:
        return None
