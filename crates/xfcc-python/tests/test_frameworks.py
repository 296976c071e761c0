"""The framework integrations: settings as a mapping (the policy file's
keys), Starlette's authentication, the FastAPI dependency, the ASGI TLS
extension and the Flask extension. (Django: test_django.py; the hostile
table against each under a real server: test_hostile.py.)"""

import hashlib
import ssl

import pytest

import xfcc
from conftest import CERTS, capture
from xfcc.asgi import XfccMiddleware

CN = "client-app.contoso.example"
XFCC_HEADER = "x-forwarded-client-cert"


def chain_settings():
    """The e2e's allowlist as a mapping: CN plus a chain to the test root."""
    return {
        "allow": [{"name": "partner", "subject_cn": [CN], "chain": "contoso"}],
        "chain": {"contoso": {"trust_anchors": CERTS / "root.pem"}},
    }


# ------------------------------------------------------- Policy.from_settings

def test_settings_decide_as_the_same_policy_file_does(tmp_path):
    (tmp_path / "ca.pem").write_text((CERTS / "root.pem").read_text())
    toml = xfcc.Policy.from_toml_str(
        '[[allow]]\nname = "partner"\nsubject_cn = ["client-app.contoso.example"]\nchain = "contoso"\n'
        '[chain.contoso]\ntrust_anchors = "ca.pem"\n', base_dir=tmp_path)
    mapping = xfcc.Policy.from_settings(
        {"allow": [{"name": "partner", "subject_cn": [CN], "chain": "contoso"}],
         "chain": {"contoso": {"trust_anchors": "ca.pem"}}}, base_dir=tmp_path)
    for name in ["rsa-chain", "wrong-cn", "self-signed-lookalike", "p384"]:
        value = capture(name)
        outcomes = []
        for p in (toml, mapping):
            try:
                outcomes.append(("allowed", p.verify(value).sha256))
            except xfcc.Rejection as r:
                outcomes.append(("refused", r.code, r.detail))
        assert outcomes[0] == outcomes[1], name
    assert mapping.verify(capture("rsa-chain")).rule == "partner"
    with pytest.raises(xfcc.Rejection) as e:
        mapping.verify(capture("self-signed-lookalike"))
    assert e.value.code in ("chain_invalid", "not_allowed")


@pytest.mark.parametrize("settings,code,setting,words", [
    ({"mdoe": "report", "allow": [{"subject_cn": [CN], "chain": "c"}]}, "file", "settings", ["unknown field `mdoe`", "`mode`"]),
    ({"allow": [{"subject_cn": None}]}, "file", "allow[0].subject_cn", ["None", "leave the key out"]),
    ({"allow": [{"subject_cn": [object()]}]}, "file", "allow[0].subject_cn[0]", ["object", "cannot hold"]),
    ({"allow": {"subject_cn": [CN]}}, "file", "settings", ["`allow` is a list"]),
    ({"allow": [{"subject_cn": [CN]}]}, "names_only_rule", "subject_cn", ["self-signed"]),
    ({"allow": [{"thumbprint": 5}]}, "file", "settings", ["`thumbprint` is an integer"]),
    ({"allow": [{"subject_cn": [CN], "chain": "nowhere"}]}, "unknown_anchor_set", None, ["nowhere"]),
    (["not", "a", "mapping"], "file", "settings", ["a list, not a mapping"]),
])
def test_settings_a_policy_file_could_not_hold_are_refused_by_name(settings, code, setting, words):
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_settings(settings)
    assert e.value.code == code
    if setting is not None:
        assert e.value.setting == setting
    for w in words:
        assert w in str(e.value), str(e.value)
    # Generated TOML never shows through as a file's line and column.
    assert "at line" not in str(e.value) and not str(e.value).startswith("policy file:")


def test_settings_nested_too_deep_are_refused_not_followed():
    deep = {"allow": [{"subject_cn": [CN]}]}
    d = deep
    for _ in range(20):
        d["x"] = {}
        d = d["x"]
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_settings(deep)
    assert "deeper" in str(e.value)


# ------------------------------------------------------------ ASGI apps

def starlette_app(policy, *, exempt=("/health",), with_middleware=True):
    from starlette.applications import Starlette
    from starlette.authentication import requires
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import xfcc.starlette

    @requires("client_cert")
    async def whoami(request):
        return JSONResponse({"user": request.user.display_name, "identity": request.user.identity,
                             "scopes": request.auth.scopes})

    async def health(request):
        return JSONResponse({"authenticated": request.user.is_authenticated})

    middleware = [Middleware(AuthenticationMiddleware, backend=xfcc.starlette.ClientCertBackend())]
    if with_middleware:
        middleware.insert(0, Middleware(XfccMiddleware, policy=policy, exempt=list(exempt)))
    return Starlette(routes=[Route("/whoami", whoami), Route("/health", health)], middleware=middleware)


def test_starlette_backend_makes_the_verified_client_request_user():
    from starlette.testclient import TestClient

    policy = xfcc.Policy.from_settings(chain_settings())
    client = TestClient(starlette_app(policy))
    r = client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")})
    assert r.status_code == 200
    body = r.json()
    assert body["user"] == CN and body["scopes"] == ["authenticated", "client_cert"]
    cert = policy.verify(capture("rsa-chain"))
    assert body["identity"] == cert.spiffe_id and cert.spiffe_id.startswith("spiffe://")
    # The middleware refuses before the backend is asked.
    r = client.get("/whoami", headers={XFCC_HEADER: capture("wrong-cn")})
    assert (r.status_code, r.json()) == (403, {"error": "not_allowed"})
    # An exempt path is anonymous, not an error.
    assert client.get("/health").json() == {"authenticated": False}


def test_starlette_requires_refuses_an_anonymous_request_in_accept_mode():
    from starlette.testclient import TestClient

    policy = xfcc.Policy.from_settings({"mode": "accept", **chain_settings()})
    client = TestClient(starlette_app(policy))
    assert client.get("/whoami").status_code == 403
    assert client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")}).status_code == 200


def test_starlette_backend_without_the_middleware_fails_closed():
    from starlette.testclient import TestClient

    policy = xfcc.Policy.from_settings(chain_settings())
    client = TestClient(starlette_app(policy, with_middleware=False), raise_server_exceptions=False)
    r = client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")})
    assert r.status_code == 500


def fastapi_app(policy, with_middleware=True):
    from fastapi import Depends, FastAPI, Request, WebSocket

    from xfcc.fastapi import client_cert

    app = FastAPI()
    if with_middleware:
        app.add_middleware(XfccMiddleware, policy=policy, exempt=["/health"])

    @app.get("/whoami")
    def whoami(cert: xfcc.ClientCert = Depends(client_cert)):
        return {"cn": cert.subject_cn, "sha256": cert.sha256}

    @app.get("/health")
    def health(cert: xfcc.ClientCert = Depends(client_cert)):
        return {"cn": cert.subject_cn}

    @app.get("/tls")
    def tls(request: Request):
        return dict(request.scope["extensions"]["tls"])

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, cert: xfcc.ClientCert = Depends(client_cert)):
        await websocket.accept()
        await websocket.send_json({"cn": cert.subject_cn})
        await websocket.close()

    return app


def test_fastapi_dependency_returns_the_client_or_answers_the_refusal():
    from fastapi.testclient import TestClient

    policy = xfcc.Policy.from_settings(chain_settings())
    client = TestClient(fastapi_app(policy))
    r = client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")})
    assert r.status_code == 200 and r.json()["cn"] == [CN]
    # The middleware refused: the route never ran.
    r = client.get("/whoami", headers={XFCC_HEADER: capture("self-signed-lookalike")})
    assert r.status_code == 403 and "error" in r.json()
    # An exempt path that depends on the client is refused by the dependency.
    assert (client.get("/health").status_code, client.get("/health").json()) == (403, {"detail": "missing"})


def test_fastapi_dependency_in_report_mode_answers_the_would_be_refusal():
    from fastapi.testclient import TestClient

    policy = xfcc.Policy.from_settings({"mode": "report", **chain_settings()})
    client = TestClient(fastapi_app(policy))
    r = client.get("/whoami", headers={XFCC_HEADER: capture("wrong-cn")})
    assert (r.status_code, r.json()) == (403, {"detail": "not_allowed"})
    r = client.get("/whoami")
    assert (r.status_code, r.json()) == (403, {"detail": "missing"})


def test_fastapi_dependency_on_a_websocket_closes_with_1008():
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    policy = xfcc.Policy.from_settings({"mode": "accept", **chain_settings()})
    client = TestClient(fastapi_app(policy))
    with client.websocket_connect("/ws", headers={XFCC_HEADER: capture("rsa-chain")}) as ws:
        assert ws.receive_json() == {"cn": [CN]}
    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
    assert e.value.code == 1008 and e.value.reason == "missing"


def test_fastapi_dependency_without_the_middleware_fails_closed():
    from fastapi.testclient import TestClient

    policy = xfcc.Policy.from_settings(chain_settings())
    client = TestClient(fastapi_app(policy, with_middleware=False), raise_server_exceptions=False)
    assert client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")}).status_code == 500


def test_the_tls_extension_holds_the_verified_client_as_direct_mtls_would():
    from cryptography import x509
    from fastapi.testclient import TestClient

    policy = xfcc.Policy.from_settings({"mode": "accept", **chain_settings()})
    client = TestClient(fastapi_app(policy))
    tls = client.get("/tls", headers={XFCC_HEADER: capture("rsa-chain")}).json()
    cert = policy.verify(capture("rsa-chain"))
    assert len(tls["client_cert_chain"]) == 1
    # The extension's PEM is what Python's own conversion writes.
    assert cert.pem == ssl.DER_cert_to_PEM_cert(cert.der) == tls["client_cert_chain"][0]
    leaf = x509.load_pem_x509_certificate(tls["client_cert_chain"][0].encode())
    assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(tls["client_cert_chain"][0])).hexdigest().upper() == cert.sha256.upper()
    assert leaf.subject.rfc4514_string() == tls["client_cert_name"] == cert.subject
    assert tls["client_cert_error"] is None
    # No client: nothing there (never the hop's certificate).
    tls = client.get("/tls").json()
    assert tls["client_cert_chain"] == [] and tls["client_cert_name"] is None


def test_the_hops_own_tls_client_is_replaced_never_left_for_the_app():
    import asyncio

    policy = xfcc.Policy.from_settings({"mode": "report", **chain_settings()})
    hop = {"server_cert": None, "client_cert_chain": ["-----BEGIN CERTIFICATE-----\nPROXY\n"],
           "client_cert_name": "CN=envoy", "client_cert_error": None, "tls_version": 0x0304, "cipher_suite": 0x1301}
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        pass

    for headers, name, error in [([], None, "missing"),
                                 ([(b"x-forwarded-client-cert", capture("rsa-chain").encode())], None, None)]:
        scope = {"type": "http", "path": "/x", "headers": headers, "client": ("10.0.0.1", 1),
                 "extensions": {"tls": dict(hop)}}
        asyncio.run(XfccMiddleware(app, policy)(scope, receive, send))
        tls = seen["extensions"]["tls"]
        assert tls["client_cert_name"] != "CN=envoy"
        assert all("PROXY" not in p for p in tls["client_cert_chain"])
        assert tls["tls_version"] == 0x0304 and seen["state"]["xfcc_hop_tls"]["client_cert_name"] == "CN=envoy"
        if not headers:
            assert tls["client_cert_chain"] == [] and tls["client_cert_error"] == error
        else:
            assert tls["client_cert_name"].startswith("CN=" + CN)


# ----------------------------------------------------------------- Flask

def flask_app(config):
    import flask

    app = flask.Flask(__name__)
    app.config.update(config)

    @app.get("/whoami")
    def whoami():
        return {"cn": flask.g.client_cert.subject_cn}

    @app.get("/health")
    def health():
        return {"ok": True}

    return app


def flask_get(app, path, header=None):
    env = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}
    headers = {"X-Forwarded-Client-Cert": header} if header else {}
    return app.test_client().get(path, headers=headers, environ_base=env)


def test_flask_extension_reads_the_policy_from_app_config():
    import xfcc.flask

    app = flask_app({"XFCC_ALLOW": chain_settings()["allow"], "XFCC_CHAIN": chain_settings()["chain"],
                     "XFCC_EXEMPT": ["/health"]})
    ext = xfcc.flask.XFCC(app)
    assert app.extensions["xfcc"].policy.verify(capture("rsa-chain")).rule == "partner"
    assert ext.settings(app).keys() == {"allow", "chain"}
    r = flask_get(app, "/whoami", capture("rsa-chain"))
    assert r.status_code == 200 and r.get_json() == {"cn": [CN]}
    r = flask_get(app, "/whoami", capture("wrong-cn"))
    assert (r.status_code, r.get_json()) == (403, {"error": "not_allowed"})
    assert flask_get(app, "/health").status_code == 200


def test_flask_extension_in_an_application_factory_with_another_prefix(tmp_path):
    import xfcc.flask

    (tmp_path / "ca.pem").write_text((CERTS / "root.pem").read_text())
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('[[allow]]\nsubject_cn = ["client-app.contoso.example"]\nchain = "c"\n'
                           '[chain.c]\ntrust_anchors = "ca.pem"\n')
    ext = xfcc.flask.XFCC(config_prefix="API_XFCC_")
    apps = [flask_app({"API_XFCC_POLICY_FILE": str(policy_file)}),
            flask_app({"API_XFCC_ALLOW": [{"subject_cn": ["someone-else"], "chain": "c"}],
                       "API_XFCC_CHAIN": {"c": {"trust_anchors": str(tmp_path / "ca.pem")}}})]
    for app in apps:
        ext.init_app(app)
    assert flask_get(apps[0], "/whoami", capture("rsa-chain")).status_code == 200
    assert flask_get(apps[1], "/whoami", capture("rsa-chain")).get_json() == {"error": "not_allowed"}


@pytest.mark.parametrize("config,words", [
    ({"XFCC_ALOW": [{"subject_cn": [CN]}]}, ["unknown field `alow`"]),
    ({"XFCC_ALLOW": [{"subject_cn": [CN]}]}, ["self-signed"]),
    ({"XFCC_POLICY_FILE": "p.toml", "XFCC_MODE": "report"}, ["XFCC_POLICY_FILE", "XFCC_MODE", "one place"]),
    ({"XFCC_EXEMPT": "/health", "XFCC_ALLOW": []}, ["XFCC_EXEMPT", "list of paths"]),
    ({"XFCC_PROXY_DROPS_UNDERSCORES": "yes"}, ["XFCC_PROXY_DROPS_UNDERSCORES"]),
])
def test_flask_extension_refuses_what_it_cannot_honour_at_start(config, words):
    import xfcc.flask

    with pytest.raises((xfcc.ConfigError, ValueError)) as e:
        xfcc.flask.XFCC(flask_app(config))
    for w in words:
        assert w in str(e.value), str(e.value)


def test_flask_extension_with_nothing_in_app_config_reads_the_environment(monkeypatch):
    import xfcc.flask

    for k in ("ALLOWED_CERT_THUMBPRINTS", "ALLOWED_CERT_COMMON_NAMES", "XFCC_POLICY_FILE"):
        monkeypatch.delenv(k, raising=False)
    sha256 = xfcc.Policy.from_settings(chain_settings()).verify(capture("rsa-chain")).sha256
    monkeypatch.setenv("ALLOWED_CERT_THUMBPRINTS", sha256)
    app = flask_app({})
    xfcc.flask.XFCC(app)
    assert flask_get(app, "/whoami", capture("rsa-chain")).status_code == 200
    assert flask_get(app, "/whoami", capture("wrong-cn")).status_code == 403
