"""The Flask example's /cert-info without any check: the bench's baseline
(never serve this)."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/cert-info")
def cert_info():
    return jsonify(header_bytes=len(request.headers.get("X-Forwarded-Client-Cert", "")))
