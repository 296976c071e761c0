"""Flask: the WSGI middleware, and the verified client in ``flask.g``.

>>> from flask import Flask, g                       # doctest: +SKIP
>>> app = Flask(__name__)                             # doctest: +SKIP
>>> xfcc.flask.protect(app, xfcc.Policy.from_env(), exempt=["/health"])  # doctest: +SKIP
>>> # in a view: g.client_cert.subject                # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Iterable

from . import Policy
from .wsgi import XfccWSGIMiddleware


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
