"""Every surface fails closed, against real servers: WebSocket handshakes
behind uvicorn, peers rewritten by uvicorn's proxy headers, hypercorn's
ProxyFixMiddleware and werkzeug's ProxyFix (under waitress), the servers
that keep header names with underscores, and names-only policies, which no
longer start silently."""

import asyncio
import contextlib
import http.client
import json
import logging
import socket
import threading
import time
import wsgiref.simple_server

import pytest

import xfcc
import xfcc._guard
from conftest import capture
from xfcc.asgi import XfccMiddleware
from xfcc.wsgi import XfccWSGIMiddleware, server_drops_underscores

CN = "client-app.contoso.example"
PROXY = "10.0.0.5"


def free_socket():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


@contextlib.contextmanager
def uvicorn_serving(app, **options):
    """A real uvicorn on a loopback port, in a thread."""
    import uvicorn

    sock = free_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def wsgi_serving(make_server):
    """A real WSGI server (waitress or wsgiref) on a loopback port, in a thread."""
    server, port, run, stop = make_server()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop()
        thread.join(10)


def waitress_server(app):
    import waitress

    def make():
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
        return server, server.effective_port, server.run, server.close

    return make


def werkzeug_server(app):
    from werkzeug.serving import make_server

    def make():
        server = make_server("127.0.0.1", 0, app, threaded=True)
        return server, server.server_port, server.serve_forever, server.shutdown

    return make


def wsgiref_server(app):
    def make():
        server = wsgiref.simple_server.make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
        return server, server.server_port, server.serve_forever, server.shutdown

    return make


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


def get(port, path="/cert-info", headers=()):
    """One GET with header lines sent as given (underscores kept)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path)
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, json.loads(body) if body else None


def chain_policy(chain_policy_toml, extra=""):
    return xfcc.Policy.from_toml(chain_policy_toml(extra))


# ------------------------------------------------------------ WebSockets

def fastapi_app(policy, seen):
    from fastapi import FastAPI, WebSocket

    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        seen.append("handler")
        await websocket.accept()
        cert = websocket.state.client_cert
        rejection = getattr(websocket.state, "xfcc_rejection", None)
        await websocket.send_text(json.dumps({"cn": cert.subject_cn if cert else None, "would_deny": rejection.code if rejection else None}))
        await websocket.close()

    @app.websocket("/health-ws")
    async def health(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("open")
        await websocket.close()

    app.add_middleware(XfccMiddleware, policy=policy, exempt=["/health-ws"])
    return app


def ws_call(port, path="/ws", headers=None):
    """(status, first message): 101 and the message when the handshake is
    accepted, else the refusal's status and body."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    try:
        with connect(f"ws://127.0.0.1:{port}{path}", additional_headers=headers or {}, open_timeout=10) as ws:
            return 101, ws.recv(timeout=10)
    except InvalidStatus as e:
        body = e.response.body
        return e.response.status_code, json.loads(body) if body else None


def test_websocket_handshakes_are_verified_behind_a_real_uvicorn(chain_policy_toml):
    seen = []
    app = fastapi_app(chain_policy(chain_policy_toml), seen)
    with uvicorn_serving(app, ws="websockets") as port:
        status, msg = ws_call(port, headers={"X-Forwarded-Client-Cert": capture("rsa-chain")})
        assert status == 101 and json.loads(msg)["cn"] == [CN]
        assert seen == ["handler"]
        for headers, code in [
            ({}, "missing"),
            ({"X-Forwarded-Client-Cert": capture("self-signed-lookalike")}, "chain_invalid"),
            ({"X-Forwarded-Client-Cert": capture("wrong-cn")}, "not_allowed"),
            # Another header in ASGI's raw list: never read.
            ({"X_Forwarded_Client_Cert": capture("rsa-chain")}, "missing"),
        ]:
            status, body = ws_call(port, headers=headers)
            assert status == 403, (code, status)
            # uvicorn offers the HTTP denial response: the body says why.
            assert body == {"error": code}, body
        assert seen == ["handler"], "a refused handshake never reaches the app"
        # The exempt path needs no certificate.
        assert ws_call(port, path="/health-ws") == (101, "open")


def test_a_websocket_in_report_mode_goes_on_with_the_refusal(chain_policy_toml):
    seen = []
    app = fastapi_app(chain_policy(chain_policy_toml, 'mode = "report"\n'), seen)
    with uvicorn_serving(app, ws="websockets") as port:
        status, msg = ws_call(port)
        assert status == 101 and json.loads(msg) == {"cn": None, "would_deny": "missing"}


def run_scope(mw_app, scope, messages=({"type": "websocket.connect"},)):
    sent = []
    queue = list(messages)

    async def receive():
        return queue.pop(0) if queue else {"type": "websocket.disconnect"}

    async def send(msg):
        sent.append(msg)

    asyncio.run(mw_app(scope, receive, send))
    return sent


def test_every_scope_type_that_carries_a_request_is_verified_and_others_are_refused():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["type"])

    mw = XfccMiddleware(app, xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32}))
    # A server without the denial-response extension: closed before the
    # handshake is accepted (the server answers 403).
    sent = run_scope(mw, {"type": "websocket", "path": "/ws", "headers": [], "client": ("127.0.0.1", 5)})
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "missing"}]
    # With it: the HTTP answer every other adapter gives.
    scope = {"type": "websocket", "path": "/ws", "headers": [], "client": ("127.0.0.1", 5), "extensions": {"websocket.http.response": {}}}
    sent = run_scope(mw, scope)
    assert [m["type"] for m in sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert sent[0]["status"] == 403 and json.loads(sent[1]["body"]) == {"error": "missing"}
    assert calls == []
    # lifespan carries no request; an unknown type is never passed.
    run_scope(mw, {"type": "lifespan"}, [])
    assert calls == ["lifespan"]
    with pytest.raises(RuntimeError, match="webtransport"):
        run_scope(mw, {"type": "webtransport", "path": "/", "headers": []}, [])
    assert calls == ["lifespan"]


# ------------------------------------------------------------ rewritten peers

def trusting_app(policy):
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.get("/cert-info")
    def cert_info(request: Request):
        return {"cn": request.state.client_cert.subject_cn}

    app.add_middleware(XfccMiddleware, policy=policy)
    return app


def test_uvicorns_proxy_headers_cannot_make_a_direct_client_a_trusted_peer(chain_policy_toml, caplog):
    caplog.set_level("INFO", logger="xfcc")
    policy = chain_policy(chain_policy_toml, f'trusted_peers = ["{PROXY}/32"]\n')
    ok = ("X-Forwarded-Client-Cert", capture("rsa-chain"))
    # What FastAPI's deployment docs suggest behind proxies: every peer's
    # X-Forwarded-For is believed. A direct client names the proxy.
    with uvicorn_serving(trusting_app(policy), proxy_headers=True, forwarded_allow_ips="*") as port:
        for forged in [PROXY, f"{PROXY}:4321", f"{PROXY}, 192.0.2.7"]:
            assert get(port, headers=[ok, ("X-Forwarded-For", forged)]) == (500, {"error": "peer_rewritten"}), forged
        # Without the header uvicorn leaves the TCP peer: not trusted.
        assert get(port, headers=[ok]) == (403, {"error": "untrusted_peer"})
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "peer_rewritten" in errors[0] and "--no-proxy-headers" in errors[0], errors
    # The start-up record says what to check.
    assert any("--no-proxy-headers" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    # Served as the README says: the forged header changes nothing.
    with uvicorn_serving(trusting_app(policy), proxy_headers=False) as port:
        assert get(port, headers=[ok, ("X-Forwarded-For", PROXY)]) == (403, {"error": "untrusted_peer"})


def test_the_untrusted_peer_hint_never_invites_trusting_a_forwarded_address():
    policy = xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32, "XFCC_TRUSTED_PEERS": f"{PROXY}/32"})
    with pytest.raises(xfcc.Rejection) as e:
        policy.verify(capture("rsa-chain"), peer="192.0.2.7")
    assert "never from X-Forwarded-For" in e.value.hint and "ProxyFix" in e.value.hint


def test_hypercorns_proxy_fix_is_refused():
    from hypercorn.middleware import ProxyFixMiddleware

    calls = []

    async def app(scope, receive, send):
        calls.append(scope["client"])

    policy = xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32, "XFCC_TRUSTED_PEERS": f"{PROXY}/32"})
    wrapped = ProxyFixMiddleware(XfccMiddleware(app, policy), mode="legacy", trusted_hops=1)
    scope = {
        "type": "http", "path": "/", "headers": [(b"x-forwarded-for", PROXY.encode())],
        "client": ("192.0.2.7", 5555), "scheme": "http", "http_version": "1.1", "method": "GET",
        "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80), "raw_path": b"/", "asgi": {"version": "3.0"},
    }
    sent = run_scope(wrapped, scope, [{"type": "http.request", "body": b""}])
    assert sent[0]["status"] == 500 and json.loads(sent[1]["body"]) == {"error": "peer_rewritten"}
    assert calls == []


def wsgi_echo(environ, start_response):
    cert = environ.get("xfcc.client_cert")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"cn": cert.subject_cn if cert else None}).encode()]


def test_werkzeugs_proxy_fix_in_front_is_refused_under_a_real_werkzeug_server(chain_policy_toml, caplog):
    from werkzeug.middleware.proxy_fix import ProxyFix

    caplog.set_level("INFO", logger="xfcc")
    policy = chain_policy(chain_policy_toml, 'trusted_peers = ["127.0.0.1/32", "10.0.0.5/32"]\n')
    app = ProxyFix(XfccWSGIMiddleware(wsgi_echo, policy), x_for=1)
    ok = ("X-Forwarded-Client-Cert", capture("rsa-chain"))
    # (waitress itself clears X-Forwarded-* from peers it does not trust,
    # so ProxyFix would see nothing to rewrite there.)
    with wsgi_serving(werkzeug_server(app)) as port:
        assert get(port, headers=[ok, ("X-Forwarded-For", PROXY)]) == (500, {"error": "peer_rewritten"})
        # Even an address outside trusted_peers: ProxyFix changed the peer.
        assert get(port, headers=[ok, ("X-Forwarded-For", "192.0.2.7")]) == (500, {"error": "peer_rewritten"})
        # Nothing forwarded: ProxyFix leaves REMOTE_ADDR, the TCP peer.
        assert get(port, headers=[ok]) == (200, {"cn": [CN]})
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "ProxyFix" in errors[0], errors


# ------------------------------------------------------------ servers

def test_waitress_3_drops_header_names_with_underscores(chain_policy_toml):
    policy = chain_policy(chain_policy_toml)
    app = XfccWSGIMiddleware(wsgi_echo, policy)
    assert server_drops_underscores("waitress")
    with wsgi_serving(waitress_server(app)) as port:
        assert get(port, headers=[("X-Forwarded-Client-Cert", capture("rsa-chain"))]) == (200, {"cn": [CN]})
        # The look-alike never reaches the app as the real header.
        assert get(port, headers=[("X_Forwarded_Client_Cert", capture("rsa-chain"))]) == (403, {"error": "missing"})


def test_wsgiref_is_refused_and_logged_at_most_once_a_minute(chain_policy_toml, caplog, monkeypatch):
    caplog.set_level("INFO", logger="xfcc")
    clock = [1000.0]
    monkeypatch.setattr(xfcc._guard.time, "monotonic", lambda: clock[0])
    app = XfccWSGIMiddleware(wsgi_echo, chain_policy(chain_policy_toml))
    ok = ("X-Forwarded-Client-Cert", capture("rsa-chain"))
    with wsgi_serving(wsgiref_server(app)) as port:
        for _ in range(5):
            assert get(port, headers=[ok]) == (500, {"error": "unsafe_server"})
        clock[0] += 61
        assert get(port, headers=[ok]) == (500, {"error": "unsafe_server"})
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "unsafe_server" in r.getMessage()]
    assert len(errors) == 2, [r.getMessage() for r in errors]


def test_local_development_under_wsgiref_is_an_environment_variable_and_loopback_only(chain_policy_toml, caplog, monkeypatch):
    caplog.set_level("INFO", logger="xfcc")
    monkeypatch.setenv("XFCC_DEV_SERVER", "loopback")
    app = XfccWSGIMiddleware(wsgi_echo, chain_policy(chain_policy_toml))
    assert any(r.levelno == logging.WARNING and "XFCC_DEV_SERVER=loopback" in r.getMessage() for r in caplog.records)
    ok = ("X-Forwarded-Client-Cert", capture("rsa-chain"))
    with wsgi_serving(wsgiref_server(app)) as port:
        assert get(port, headers=[ok]) == (200, {"cn": [CN]})
    # A peer that is not loopback is still refused under such a server.
    out = {}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_SOFTWARE": "WSGIServer/0.2 CPython/3.11",
               "REMOTE_ADDR": "10.0.0.9", "HTTP_X_FORWARDED_CLIENT_CERT": capture("rsa-chain")}
    body = b"".join(app(environ, lambda status, headers: out.setdefault("status", status)))
    assert out["status"].startswith("500") and json.loads(body) == {"error": "unsafe_server"}
    monkeypatch.setenv("XFCC_DEV_SERVER", "yes")
    with pytest.raises(ValueError, match="XFCC_DEV_SERVER"):
        XfccWSGIMiddleware(wsgi_echo, chain_policy(chain_policy_toml))
    # The policy reads the environment too: the variable is known to it.
    monkeypatch.setenv("XFCC_DEV_SERVER", "loopback")
    xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32, "XFCC_DEV_SERVER": "loopback"})


# ------------------------------------------------------------ names-only policies

def test_every_adapter_logs_each_policy_warning_once_at_start(caplog):
    import flask

    import xfcc.flask

    caplog.set_level("INFO", logger="xfcc")
    policy = xfcc.Policy.from_env({"XFCC_ALLOWED_SUBJECT_CNS": CN, "XFCC_PROXY_VERIFIES_CHAIN": "true", "XFCC_MODE": "report"})
    codes = sorted(c for c, _, _ in policy.warnings())
    assert codes == ["names_only_rule", "report_mode"]

    async def app(scope, receive, send):
        pass

    for build in [
        lambda: XfccMiddleware(app, policy),
        lambda: XfccWSGIMiddleware(wsgi_echo, policy),
        lambda: xfcc.flask.protect(flask.Flask(__name__), policy),
    ]:
        caplog.clear()
        build()
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 2, warned
        for code, _, fix in policy.warnings():
            assert any(f"[{code}]" in m and fix in m for m in warned), (code, warned)


def test_a_rewritten_peer_is_found_as_a_whole_entry_only():
    from xfcc._guard import rewritten_peer

    v4 = xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32, "XFCC_TRUSTED_PEERS": f"{PROXY}/32"})
    for value, found in [
        (PROXY, True), (f"{PROXY}:443", True), (f"192.0.2.7, {PROXY}", True), (f'for="{PROXY}:80";proto=https', True),
        (f"{PROXY}5", False), (f"1{PROXY}", False), (f"{PROXY}.6", False), ("192.0.2.7", False),
    ]:
        assert rewritten_peer(v4, PROXY, [value]) is found, value
    # A peer outside trusted_peers is untrusted_peer's business.
    assert rewritten_peer(v4, "192.0.2.7", ["192.0.2.7"]) is False
    v6 = xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32, "XFCC_TRUSTED_PEERS": "2001:db8::1/128"})
    for value, found in [
        ("2001:db8::1", True), ("[2001:db8::1]:443", True), ('for="[2001:db8::1]:80"', True),
        ("2001:db8::12", False), ("2001:db8::1:5", False), ("[2001:db8::1:5]", False),
    ]:
        assert rewritten_peer(v6, "2001:db8::1", [value]) is found, value
    # Without trusted_peers the peer is not read: nothing to check.
    assert rewritten_peer(xfcc.Policy.from_env({"XFCC_ALLOWED_THUMBPRINTS": "ab" * 32}), PROXY, [PROXY]) is False
