"""Flask: the extension (:class:`XFCC`), and the verified client in
``flask.g``.

>>> from flask import Flask, g                       # doctest: +SKIP
>>> app = Flask(__name__)                             # doctest: +SKIP
>>> app.config["XFCC_EXEMPT"] = ["/health"]           # doctest: +SKIP
>>> xfcc_ext = xfcc.flask.XFCC(app)                   # doctest: +SKIP
>>> # in a view: g.client_cert.subject                # doctest: +SKIP

The policy comes from, in order: the ``policy`` argument;
``XFCC_POLICY_FILE`` in ``app.config`` (a policy file's path); the other
``XFCC_*`` keys of ``app.config``, which are the policy file's top-level
keys in capitals (``XFCC_MODE``, ``XFCC_TRUSTED_PEERS``, ``XFCC_ALLOW``,
``XFCC_CHAIN``, ``XFCC_ELEMENTS``, ...: the same settings table, read by
:meth:`xfcc.Policy.from_settings`, so a misspelt key is refused with the
keys it could be); else the environment (:meth:`xfcc.Policy.from_env`, the
recipe's variables and every ``XFCC_*`` variable). The adapter's own keys
are ``XFCC_EXEMPT`` (paths served unchecked) and
``XFCC_PROXY_DROPS_UNDERSCORES`` (see :mod:`xfcc.wsgi`). Another prefix:
``XFCC(app, config_prefix="API_XFCC_")``.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from . import Policy
from .wsgi import XfccWSGIMiddleware

__all__ = ["XFCC", "protect"]

#: The extension's own keys (after the prefix); every other key under the
#: prefix is a policy setting.
ADAPTER_KEYS = ("EXEMPT", "PROXY_DROPS_UNDERSCORES", "POLICY_FILE")


def protect(app: Any, policy: Policy, *, exempt: Iterable[str] = (), proxy_drops_underscores: bool = False) -> Any:
    """Wraps ``app.wsgi_app`` in :class:`xfcc.wsgi.XfccWSGIMiddleware` and
    sets ``g.client_cert`` (and ``g.xfcc_rejection`` in report mode) before
    each request. Returns ``app``."""
    import flask

    app.wsgi_app = XfccWSGIMiddleware(
        app.wsgi_app, policy, exempt=exempt, proxy_drops_underscores=proxy_drops_underscores
    )

    @app.before_request
    def _client_cert() -> None:
        environ = flask.request.environ
        flask.g.client_cert = environ.get("xfcc.client_cert")
        flask.g.xfcc_rejection = environ.get("xfcc.rejection")

    return app


class XFCC:
    """The Flask extension: ``XFCC(app)``, or ``XFCC()`` then
    ``init_app(app)`` in an application factory. Each app's state is in
    ``app.extensions["xfcc"]`` (its ``policy`` and ``middleware``);
    ``g.client_cert`` holds the verified client in a view."""

    def __init__(self, app: Any = None, *, policy: Optional[Policy] = None, config_prefix: str = "XFCC_") -> None:
        if not config_prefix:
            raise ValueError("config_prefix: a non-empty prefix such as 'XFCC_'")
        self.policy = policy
        self.config_prefix = config_prefix
        if app is not None:
            self.init_app(app)

    def settings(self, app: Any) -> Dict[str, Any]:
        """The policy settings in ``app.config``: the keys under the prefix
        that are not the extension's own, lower-cased without the prefix
        (``XFCC_TRUSTED_PEERS`` is ``trusted_peers``)."""
        n = len(self.config_prefix)
        return {
            k[n:].lower(): v
            for k, v in app.config.items()
            if k.startswith(self.config_prefix) and k[n:] not in ADAPTER_KEYS
        }

    def policy_for(self, app: Any) -> Policy:
        """The app's policy, as the module documentation orders the
        sources."""
        if self.policy is not None:
            return self.policy
        p = self.config_prefix
        path = app.config.get(p + "POLICY_FILE")
        settings = self.settings(app)
        if path is not None:
            if settings:
                raise ValueError(
                    f"{p}POLICY_FILE and {', '.join(p + k.upper() for k in sorted(settings))} are both set: "
                    "keep the settings in one place"
                )
            return Policy.from_toml(path)
        if settings:
            return Policy.from_settings(settings, base_dir=app.root_path)
        return Policy.from_env()

    def init_app(self, app: Any) -> None:
        """Protects ``app``: builds its policy (a setting the library cannot
        honour raises :class:`xfcc.ConfigError` here, at start), wraps its
        WSGI app and sets ``g.client_cert`` before each request."""
        p = self.config_prefix
        exempt = app.config.get(p + "EXEMPT", ())
        if isinstance(exempt, str) or not all(isinstance(e, str) for e in exempt):
            raise ValueError(f"{p}EXEMPT: a list of paths, such as ['/health']")
        drops = app.config.get(p + "PROXY_DROPS_UNDERSCORES", False)
        if not isinstance(drops, bool):
            raise ValueError(f"{p}PROXY_DROPS_UNDERSCORES: True or False, not {drops!r}")
        policy = self.policy_for(app)
        protect(app, policy, exempt=exempt, proxy_drops_underscores=drops)
        app.extensions["xfcc"] = _State(policy, app.wsgi_app)


class _State:
    """What the extension keeps per app (``app.extensions["xfcc"]``)."""

    __slots__ = ("policy", "middleware")

    def __init__(self, policy: Policy, middleware: XfccWSGIMiddleware) -> None:
        self.policy = policy
        self.middleware = middleware
