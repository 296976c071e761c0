"""The Azure Container Apps mTLS recipe in FastAPI, with the client
certificate verified by xfcc: `/cert-info` (the verified client) and
`/health` (open, for the platform's probes).

Configuration is the environment, as in the recipe: ALLOWED_CERT_THUMBPRINTS
and ALLOWED_CERT_COMMON_NAMES (no default allow list), any XFCC_* variable,
or XFCC_POLICY_FILE. Common names alone do not start: a self-signed
certificate can carry them, so add XFCC_CHAIN_ANCHORS (your CA) or a
thumbprint (see the README's "Migrating from the recipe").

`/ws` is a WebSocket route: the middleware verifies its handshake exactly
as an HTTP request (through Envoy, enable `upgrade_configs: websocket`).

Serve it with uvicorn, without proxy headers: uvicorn otherwise rewrites
the client address from X-Forwarded-For (for 127.0.0.1 by default), and
trusted_peers would judge an address a client wrote:

    uvicorn fastapi_app:app --host 0.0.0.0 --port 8080 --no-proxy-headers
"""

import logging

from fastapi import FastAPI, Request, WebSocket

import xfcc
from xfcc.asgi import XfccMiddleware

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

app = FastAPI()
app.add_middleware(XfccMiddleware, policy=xfcc.Policy.from_env(), exempt=["/health"])


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    c = websocket.state.client_cert
    await websocket.send_json({"rule": c.rule, "subject_cn": c.subject_cn, "sha256": c.sha256})
    await websocket.close()


@app.get("/health")
def health():
    return {"status": "healthy"}


@app.get("/cert-info")
def cert_info(request: Request):
    c = request.state.client_cert
    return {
        "rule": c.rule,
        "element": c.element,
        "source": c.source,
        "verified_from": c.verified_from,
        "chain_verified": c.chain_verified,
        "identity": {
            "sha256": c.sha256,
            "sha1": c.sha1,
            "subject": c.subject,
            "subject_cn": c.subject_cn,
            "issuer": c.issuer,
            "san_uri": c.san_uri,
            "spiffe_id": c.spiffe_id,
        },
    }
