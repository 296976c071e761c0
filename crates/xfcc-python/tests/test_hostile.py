"""The hostile table against every Python adapter behind a real server:
ASGI under uvicorn, WSGI under gunicorn, Flask under Werkzeug's server."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
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


@contextlib.contextmanager
def process_serving(command, env, cwd=None):
    """A server in its own process on a free loopback port: `command(port)`
    is its argv; yields the port once it listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(command(port), env={**os.environ, **env}, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"{command(port)[:3]} exited: {proc.stderr.read().decode()[-2000:]}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()


def test_wsgi_under_gunicorn_passes_the_hostile_table(tmp_path):
    (tmp_path / "hostile_wsgi_app.py").write_text(WSGI_APP.format(open=OPEN))

    @contextlib.contextmanager
    def serve(policy_toml):
        policy = tmp_path / "policy.toml"
        policy.write_text(policy_toml)
        with process_serving(
            lambda port: [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "--chdir",
                          str(tmp_path), "hostile_wsgi_app:app"],
            {"HOSTILE_POLICY": str(policy)},
        ) as port:
            yield port

    hostile_table.run_all("wsgi", serve)


def flask_app_serving(configure):
    """A Flask app with the table's open and protected routes, protected by
    `configure(app)`, under Werkzeug's server: a context manager yielding
    its port."""
    import flask

    app = flask.Flask(__name__)

    @app.route(OPEN)
    def open_route():
        return {"open": True}

    @app.route("/", defaults={"p": ""})
    @app.route("/<path:p>")
    def protected(p):
        cert, r = flask.g.client_cert, flask.g.xfcc_rejection
        return {"protected": True, "cn": cert.subject_cn if cert else None, "would_deny": r.code if r else None}

    configure(app)
    return wsgi_serving(werkzeug_server(app))


def test_flask_under_werkzeug_passes_the_hostile_table():
    import xfcc.flask

    def serve(policy_toml):
        return flask_app_serving(
            lambda app: xfcc.flask.protect(app, xfcc.Policy.from_toml_str(policy_toml), exempt=[OPEN]))

    hostile_table.run_all("flask", serve)


def test_flask_extension_under_werkzeug_passes_the_hostile_table():
    """The extension, configured from app.config (the policy file's keys
    under XFCC_, as Flask's config holds them), serving the same table."""
    import tomllib

    import xfcc.flask

    def serve(policy_toml):
        def configure(app):
            for key, value in tomllib.loads(policy_toml).items():
                app.config["XFCC_" + key.upper()] = value
            app.config["XFCC_EXEMPT"] = [OPEN]
            xfcc.flask.XFCC(app)
            assert isinstance(app.extensions["xfcc"].policy, xfcc.Policy)

        return flask_app_serving(configure)

    hostile_table.run_all("flask", serve)


def test_starlette_authentication_under_uvicorn_passes_the_hostile_table():
    """Starlette's AuthenticationMiddleware with xfcc's backend: the
    protected routes read request.user (and websocket.user)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute

    import xfcc.starlette

    def body(conn):
        user = conn.user
        r = conn.state.xfcc_rejection
        cn = user.client_cert.subject_cn if user.is_authenticated else None
        return {"protected": True, "cn": cn, "would_deny": r.code if r else None}

    async def open_route(request):
        return JSONResponse({"open": True})

    async def protected(request):
        return JSONResponse(body(request))

    async def ws(websocket):
        await websocket.accept()
        await websocket.send_json(body(websocket))
        await websocket.close()

    @contextlib.contextmanager
    def serve(policy_toml):
        app = Starlette(
            routes=[Route(OPEN, open_route), WebSocketRoute("/ws", ws), Route("/{p:path}", protected)],
            middleware=[
                Middleware(XfccMiddleware, policy=xfcc.Policy.from_toml_str(policy_toml), exempt=[OPEN]),
                Middleware(AuthenticationMiddleware, backend=xfcc.starlette.ClientCertBackend()),
            ],
        )
        with uvicorn_serving(app, ws="websockets", proxy_headers=False) as port:
            yield port

    hostile_table.run_all("asgi", serve)


SITE = os.path.dirname(os.path.abspath(__file__))


def django_serve(command):
    @contextlib.contextmanager
    def serve(policy_toml):
        with tempfile.TemporaryDirectory() as d:
            policy = os.path.join(d, "policy.toml")
            with open(policy, "w") as f:
                f.write(policy_toml)
            env = {"HOSTILE_POLICY": policy, "DJANGO_SETTINGS_MODULE": "django_site.settings", "PYTHONPATH": SITE}
            with process_serving(command, env, cwd=SITE) as port:
                yield port

    return serve


def test_django_under_gunicorn_passes_the_hostile_table():
    hostile_table.run_all("django_wsgi", django_serve(
        lambda port: [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "django_site.wsgi"]))


def test_django_under_uvicorn_passes_the_hostile_table():
    hostile_table.run_all("django_asgi", django_serve(
        lambda port: [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers",
                      "--log-level", "warning", "--lifespan", "off", "django_site.asgi:application"]))
