"""The ASGI and WSGI middleware: what reaches the app, what is refused,
and the header look-alikes each server interface folds or keeps."""

import asyncio
import json

import pytest

import xfcc
from conftest import capture
from xfcc.asgi import XfccMiddleware
from xfcc.wsgi import XfccWSGIMiddleware, server_drops_underscores

CN = "client-app.contoso.example"


def policy(**extra):
    # Names only, with the operator's word that the proxy verifies: these
    # tests are about what the middleware reads and answers.
    return xfcc.Policy.from_env({"XFCC_ALLOWED_SUBJECT_CNS": CN, "XFCC_PROXY_VERIFIES_CHAIN": "true", **extra})


# ------------------------------------------------------------------ ASGI

def asgi_call(mw, headers, client=("10.0.0.9", 4321), path="/cert-info"):
    """Runs one HTTP request through `mw`; returns (status, body, scope the app saw)."""
    seen = {}

    async def app(scope, receive, send):
        seen["scope"] = scope
        cert = scope.get("state", {}).get("client_cert")
        r = scope.get("state", {}).get("xfcc_rejection")
        body = json.dumps({"subject": cert.subject if cert else None, "would_deny": r.code if r else None}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    out = {}

    async def send(msg):
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
        else:
            out["body"] = json.loads(msg["body"])

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "path": path, "headers": headers, "client": client}
    asyncio.run(XfccMiddleware(app, mw[0], exempt=mw[1])(scope, receive, send))
    return out["status"], out["body"], seen.get("scope")


def h(name, value):
    return (name.encode(), value.encode())


def test_asgi_allows_refuses_and_exempts():
    mw = (policy(), ["/health"])
    status, body, scope = asgi_call(mw, [h("x-forwarded-client-cert", capture("rsa-chain"))])
    assert status == 200 and body["subject"].startswith("CN=client-app.contoso.example")
    assert scope["state"]["client_cert"].rule == "env"
    for headers, code in [
        ([h("x-forwarded-client-cert", capture("wrong-cn"))], "not_allowed"),
        ([], "missing"),
        # The look-alike is another header in ASGI's raw list: never read.
        ([h("x_forwarded_client_cert", capture("rsa-chain"))], "missing"),
        ([h("x-forwarded-client-cert", capture("rsa-chain"))] * 2, "multiple_headers"),
        ([h("x-forwarded-client-cert", capture("injection-uri"))], "too_many_elements"),
    ]:
        status, body, scope = asgi_call(mw, headers)
        assert (status, body, scope) == (403, {"error": code}, None), code
    # The open route: no check at all.
    status, body, _ = asgi_call(mw, [], path="/health")
    assert status == 200 and body["subject"] is None


def test_asgi_peers_come_from_the_scope_never_from_forwarded_for():
    mw = (policy(XFCC_TRUSTED_PEERS="10.0.0.0/24"), [])
    ok = [h("x-forwarded-client-cert", capture("rsa-chain"))]
    assert asgi_call(mw, ok)[0] == 200
    forged = ok + [h("x-forwarded-for", "10.0.0.9")]
    assert asgi_call(mw, forged, client=("192.0.2.1", 1))[:2] == (403, {"error": "untrusted_peer"})
    # A client the server cannot name (a test client, a Unix socket).
    assert asgi_call(mw, ok, client=("testclient", 1))[:2] == (500, {"error": "peer_unavailable"})
    assert asgi_call(mw, ok, client=None)[:2] == (500, {"error": "peer_unavailable"})


def test_asgi_report_mode_lets_the_request_through_with_the_refusal():
    mw = (policy(XFCC_MODE="report"), [])
    status, body, scope = asgi_call(mw, [h("x-forwarded-client-cert", capture("wrong-cn"))])
    assert (status, body) == (200, {"subject": None, "would_deny": "not_allowed"})
    assert scope["state"]["client_cert"] is None


def test_fastapi_reads_the_client_from_request_state():
    from fastapi import FastAPI, Request
    from fastapi.testclient import TestClient

    app = FastAPI()

    @app.get("/cert-info")
    def cert_info(request: Request):
        return {"subject_cn": request.state.client_cert.subject_cn}

    app.add_middleware(XfccMiddleware, policy=policy(), exempt=["/health"])
    client = TestClient(app)
    r = client.get("/cert-info", headers={"X-Forwarded-Client-Cert": capture("rsa-chain")})
    assert (r.status_code, r.json()) == (200, {"subject_cn": [CN]})
    r = client.get("/cert-info", headers={"X-Forwarded-Client-Cert": capture("wrong-cn")})
    assert (r.status_code, r.json()) == (403, {"error": "not_allowed"})


# ------------------------------------------------------------------ WSGI

def wsgi_app(environ, start_response):
    cert = environ.get("xfcc.client_cert")
    r = environ.get("xfcc.rejection")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"subject": cert.subject if cert else None, "would_deny": r.code if r else None}).encode()]


def wsgi_call(mw, environ_headers, server="gunicorn/27.0.1", remote="10.0.0.9", path="/cert-info"):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_SOFTWARE": server, "REMOTE_ADDR": remote}
    environ.update(environ_headers)
    out = {}

    def start_response(status, headers):
        out["status"] = int(status.split()[0])

    body = b"".join(mw(environ, start_response))
    return out["status"], json.loads(body)


def test_wsgi_allows_refuses_and_exempts():
    mw = XfccWSGIMiddleware(wsgi_app, policy(), exempt=["/health"])
    status, body = wsgi_call(mw, {"HTTP_X_FORWARDED_CLIENT_CERT": capture("rsa-chain")})
    assert status == 200 and body["subject"].startswith("CN=client-app")
    assert wsgi_call(mw, {"HTTP_X_FORWARDED_CLIENT_CERT": capture("wrong-cn")}) == (403, {"error": "not_allowed"})
    assert wsgi_call(mw, {}) == (403, {"error": "missing"})
    # Two header lines folded by the server into one value: two elements.
    folded = capture("rsa-chain") + "," + capture("rsa-chain")
    assert wsgi_call(mw, {"HTTP_X_FORWARDED_CLIENT_CERT": folded}) == (403, {"error": "too_many_elements"})
    assert wsgi_call(mw, {}, path="/health") == (200, {"subject": None, "would_deny": None})


def test_wsgi_refuses_to_serve_under_a_server_that_folds_the_underscore_look_alike():
    # wsgiref (and Django's runserver, built on it) put a client's
    # X_Forwarded_Client_Cert in HTTP_X_FORWARDED_CLIENT_CERT.
    mw = XfccWSGIMiddleware(wsgi_app, policy())
    forged = {"HTTP_X_FORWARDED_CLIENT_CERT": capture("rsa-chain")}
    for server in ["WSGIServer/0.2 CPython/3.11.7", "gunicorn/21.2.0", "Werkzeug/2.3.0", "", "uWSGI"]:
        assert wsgi_call(mw, forged, server=server) == (500, {"error": "unsafe_server"}), server
    for server in ["gunicorn/22.0.0", "gunicorn/27.0.1", "Werkzeug/3.1.9"]:
        assert server_drops_underscores(server), server
        assert wsgi_call(mw, forged, server=server)[0] == 200
    # A proxy that drops such headers makes any server safe.
    trusting = XfccWSGIMiddleware(wsgi_app, policy(), proxy_drops_underscores=True)
    assert wsgi_call(trusting, forged, server="WSGIServer/0.2")[0] == 200


def test_wsgi_peer_is_remote_addr_and_report_mode_goes_on():
    mw = XfccWSGIMiddleware(wsgi_app, policy(XFCC_TRUSTED_PEERS="10.0.0.0/24"))
    ok = {"HTTP_X_FORWARDED_CLIENT_CERT": capture("rsa-chain")}
    assert wsgi_call(mw, ok)[0] == 200
    forged_for = {**ok, "HTTP_X_FORWARDED_FOR": "10.0.0.9"}
    assert wsgi_call(mw, forged_for, remote="192.0.2.1") == (403, {"error": "untrusted_peer"})
    report = XfccWSGIMiddleware(wsgi_app, policy(XFCC_MODE="report"))
    got = wsgi_call(report, {"HTTP_X_FORWARDED_CLIENT_CERT": capture("wrong-cn")})
    assert got == (200, {"subject": None, "would_deny": "not_allowed"})


def test_flask_puts_the_client_in_g():
    import flask

    import xfcc.flask

    app = flask.Flask(__name__)

    @app.get("/cert-info")
    def cert_info():
        return {"subject_cn": flask.g.client_cert.subject_cn}

    xfcc.flask.protect(app, policy(), exempt=["/health"])
    client = app.test_client()
    env = {"SERVER_SOFTWARE": "gunicorn/27.0.1"}
    r = client.get("/cert-info", headers={"X-Forwarded-Client-Cert": capture("rsa-chain")}, environ_overrides=env)
    assert (r.status_code, r.get_json()) == (200, {"subject_cn": [CN]})
    r = client.get("/cert-info", headers={"X-Forwarded-Client-Cert": capture("wrong-cn")}, environ_overrides=env)
    assert (r.status_code, r.get_json()) == (403, {"error": "not_allowed"})


def test_a_flood_of_refusals_logs_the_rate_then_a_summary(caplog):
    from xfcc.asgi import RejectionLog

    caplog.set_level("INFO", logger="xfcc")
    mw = XfccWSGIMiddleware(wsgi_app, policy(), log=RejectionLog(3))
    bad = {"HTTP_X_FORWARDED_CLIENT_CERT": capture("wrong-cn")}
    for _ in range(200):
        assert wsgi_call(mw, bad)[0] == 403
    records = [r.getMessage() for r in caplog.records if r.name == "xfcc"]
    events = [m for m in records if m.startswith("client certificate rejected")]
    # At most the rate in each second the burst spanned (one or two).
    assert 3 <= len(events) <= 6, len(events)
    assert all("reason=not_allowed" in m and "MII" not in m for m in events)
    # peer_unavailable is always logged.
    caplog.clear()
    peers = XfccWSGIMiddleware(wsgi_app, policy(XFCC_TRUSTED_PEERS="10.0.0.0/8"), log=RejectionLog(1))
    for _ in range(20):
        assert wsgi_call(peers, {"HTTP_X_FORWARDED_CLIENT_CERT": capture("rsa-chain")}, remote="") == (500, {"error": "peer_unavailable"})
    assert len([r for r in caplog.records if "peer_unavailable" in r.getMessage()]) == 20
    with pytest.raises(ValueError, match="XFCC_LOG_RATE"):
        RejectionLog(0)
    for raw in ["ten", "-1", "0", ""]:
        import os

        os.environ["XFCC_LOG_RATE"] = raw
        try:
            with pytest.raises(ValueError, match="XFCC_LOG_RATE"):
                RejectionLog()
        finally:
            del os.environ["XFCC_LOG_RATE"]
