"""The hostile table against every Python adapter behind a real server:
ASGI under uvicorn, WSGI under gunicorn, Flask under Werkzeug's server."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import hostile_table
import xfcc
from test_fail_closed import uvicorn_serving, werkzeug_server, wsgi_serving
from xfcc.asgi import XfccMiddleware

OPEN = hostile_table.TABLE["open_path"]


def asgi_app():
    async def app(scope, receive, send):
        state = scope.get("state") or {}
        cert, r = state.get("client_cert"), state.get("xfcc_rejection")
        if scope["path"] == OPEN:
            body = {"open": True}
        else:
            body = {"protected": True, "cn": cert.subject_cn if cert else None, "would_deny": r.code if r else None}
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(body)})
            await send({"type": "websocket.close"})
            return
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": data})

    return app


def test_asgi_under_uvicorn_passes_the_hostile_table():
    @contextlib.contextmanager
    def serve(policy_toml):
        mw = XfccMiddleware(asgi_app(), xfcc.Policy.from_toml_str(policy_toml), exempt=[OPEN])
        with uvicorn_serving(mw, ws="websockets", proxy_headers=False) as port:
            yield port

    hostile_table.run_all("asgi", serve)


WSGI_APP = textwrap.dedent('''
    import json, os
    import xfcc
    from xfcc.wsgi import XfccWSGIMiddleware

    def inner(environ, start_response):
        cert, r = environ.get("xfcc.client_cert"), environ.get("xfcc.rejection")
        if environ.get("PATH_INFO") == "{open}":
            body = {{"open": True}}
        else:
            body = {{"protected": True, "cn": cert.subject_cn if cert else None, "would_deny": r.code if r else None}}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    with open(os.environ["HOSTILE_POLICY"]) as f:
        app = XfccWSGIMiddleware(inner, xfcc.Policy.from_toml_str(f.read()), exempt=["{open}"])
''')


def test_wsgi_under_gunicorn_passes_the_hostile_table(tmp_path):
    (tmp_path / "hostile_wsgi_app.py").write_text(WSGI_APP.format(open=OPEN))

    @contextlib.contextmanager
    def serve(policy_toml):
        policy = tmp_path / "policy.toml"
        policy.write_text(policy_toml)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "--chdir", str(tmp_path),
             "hostile_wsgi_app:app"],
            env={**os.environ, "HOSTILE_POLICY": str(policy)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                assert proc.poll() is None, "gunicorn exited"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "gunicorn did not listen"
                    time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            proc.wait(10)

    hostile_table.run_all("wsgi", serve)


def test_flask_under_werkzeug_passes_the_hostile_table():
    import flask

    import xfcc.flask

    @contextlib.contextmanager
    def serve(policy_toml):
        app = flask.Flask(__name__)

        @app.route(OPEN)
        def open_route():
            return {"open": True}

        @app.route("/", defaults={"p": ""})
        @app.route("/<path:p>")
        def protected(p):
            cert, r = flask.g.client_cert, flask.g.xfcc_rejection
            return {"protected": True, "cn": cert.subject_cn if cert else None, "would_deny": r.code if r else None}

        xfcc.flask.protect(app, xfcc.Policy.from_toml_str(policy_toml), exempt=[OPEN])
        with wsgi_serving(werkzeug_server(app)) as port:
            yield port

    hostile_table.run_all("flask", serve)
