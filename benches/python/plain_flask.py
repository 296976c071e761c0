"""The Flask example's routes without the middleware, for the bench's
baseline: the client is verified once at start and handed to every request
(so the response is the same). Never serve this."""

import os
import pathlib

from flask import g

import xfcc
from flask_app import create_app

_HEADER = (pathlib.Path(__file__).resolve().parents[2] / "crates/xfcc/tests/fixtures/envoy/rsa-chain.txt").read_text()
_CERT = xfcc.Policy.from_env(dict(os.environ)).verify(_HEADER)

app = create_app(None)


@app.before_request
def _the_same_client():
    g.client_cert = _CERT
