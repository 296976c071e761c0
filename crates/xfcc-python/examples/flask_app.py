"""The Azure Container Apps mTLS recipe in Flask, with the client
certificate verified by xfcc: `/cert-info` (the verified client) and
`/health` (open, for the platform's probes).

Configuration is the environment, as in the recipe: ALLOWED_CERT_THUMBPRINTS
and ALLOWED_CERT_COMMON_NAMES (no default allow list), any XFCC_* variable,
or XFCC_POLICY_FILE.

Serve it with gunicorn >= 22 (it drops header names with underscores, so a
client's X_Forwarded_Client_Cert never reads as the real header):

    gunicorn -b 0.0.0.0:8080 flask_app:app

gunicorn leaves REMOTE_ADDR the TCP peer (what trusted_peers checks): do
not add Werkzeug's ProxyFix in front of the middleware.
"""

import logging

from flask import Flask, g, jsonify

import xfcc
import xfcc.flask

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")



def create_app(policy: "xfcc.Policy | None") -> Flask:
    """The recipe's routes, behind the xfcc middleware unless `policy` is
    None (the bench's baseline only: never serve that)."""
    app = Flask(__name__)

    @app.get("/health")
    def health():
        return jsonify(status="healthy")

    @app.get("/cert-info")
    def cert_info():
        c = g.client_cert
        return jsonify(
            rule=c.rule,
            element=c.element,
            source=c.source,
            verified_from=c.verified_from,
            chain_verified=c.chain_verified,
            identity={
                "sha256": c.sha256,
                "sha1": c.sha1,
                "subject": c.subject,
                "subject_cn": c.subject_cn,
                "issuer": c.issuer,
                "san_uri": c.san_uri,
                "spiffe_id": c.spiffe_id,
            },
        )

    if policy is not None:
        xfcc.flask.protect(app, policy, exempt=["/health"])
    return app


app = create_app(xfcc.Policy.from_env())
