"""The guide's Python pages (docs/src/python.md and docs/src/python/*.md),
their Python blocks run as they are printed, each against the client it
admits and one it refuses."""

import re

import pytest

from conftest import CERTS, ROOT, capture

CN = "client-app.contoso.example"
XFCC_HEADER = "X-Forwarded-Client-Cert"


def blocks(page):
    text = (ROOT / "docs/src" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def run(code, page, **names):
    namespace = {"__name__": "guide_" + page.replace("/", "_").replace(".md", ""), **names}
    exec(compile(code, f"docs/src/{page}", "exec"), namespace)
    return namespace


@pytest.fixture
def ca_here(tmp_path, monkeypatch):
    """The pages' "ca.pem", relative to where the app runs."""
    (tmp_path / "ca.pem").write_text((CERTS / "root.pem").read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pages_have_their_blocks():
    assert [len(blocks(p)) for p in ["python.md", "python/fastapi.md", "python/flask.md", "python/django.md"]] == [1, 2, 1, 3]


def test_the_api_block(recipe_env, capsys):
    run(blocks("python.md")[0], "python.md", header=capture("rsa-chain"), remote_addr="10.0.0.4")
    assert capsys.readouterr().out.startswith("CN=" + CN)
    run(blocks("python.md")[0], "python.md", header=capture("wrong-cn"), remote_addr="10.0.0.4")
    assert capsys.readouterr().out.startswith("not_allowed ")


def test_the_fastapi_dependency_block(recipe_env):
    from fastapi.testclient import TestClient

    client = TestClient(run(blocks("python/fastapi.md")[0], "python/fastapi.md")["app"])
    r = client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")})
    assert r.status_code == 200 and r.json()["cn"] == [CN]
    r = client.get("/whoami", headers={XFCC_HEADER: capture("wrong-cn")})
    assert (r.status_code, r.json()) == (403, {"error": "not_allowed"})
    assert client.get("/health").status_code == 200


def test_the_starlette_block(recipe_env):
    from starlette.testclient import TestClient

    client = TestClient(run(blocks("python/fastapi.md")[1], "python/fastapi.md")["app"])
    r = client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")})
    assert r.status_code == 200 and r.json()["user"] == CN and r.json()["id"].startswith("spiffe://")
    r = client.get("/whoami", headers={XFCC_HEADER: capture("self-signed-lookalike")})
    assert r.status_code == 403 and r.json() == {"error": "not_allowed"}


def test_the_flask_block(ca_here):
    app = run(blocks("python/flask.md")[0], "python/flask.md")["app"]
    env = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}
    client = app.test_client()
    r = client.get("/cert-info", headers={XFCC_HEADER: capture("rsa-chain")}, environ_base=env)
    assert r.status_code == 200 and r.get_json()["subject"].startswith("CN=" + CN)
    # The chain is checked: the self-signed look-alike with the same CN is refused.
    r = client.get("/cert-info", headers={XFCC_HEADER: capture("self-signed-lookalike")}, environ_base=env)
    assert r.status_code == 403
    assert client.get("/health", environ_base=env).status_code == 200


def test_the_django_blocks(ca_here):
    import test_django  # noqa: F401  (configures Django for these tests)
    from django.test import Client, override_settings
    from django.utils.module_loading import import_string

    import xfcc
    from xfcc.django import ClientCertMiddleware

    settings_block, backend_block, drf_block = blocks("python/django.md")
    ns = run(settings_block, "python/django.md")
    assert ns["MIDDLEWARE"][-1] == "xfcc.django.ClientCertMiddleware"
    with override_settings(MIDDLEWARE=ns["MIDDLEWARE"], AUTHENTICATION_BACKENDS=ns["AUTHENTICATION_BACKENDS"],
                           XFCC=ns["XFCC"], XFCC_EXEMPT=ns["XFCC_EXEMPT"], BASE_DIR=ca_here):
        ClientCertMiddleware(lambda request: None)  # builds: the settings are honoured
        client = Client(SERVER_SOFTWARE="gunicorn/23.0.0")
        r = client.get("/whoami", headers={XFCC_HEADER: capture("rsa-chain")})
        assert r.status_code == 200 and r.json()["cn"] == [CN]
        r = client.get("/whoami", headers={XFCC_HEADER: capture("self-signed-lookalike")})
        assert r.status_code == 403
    backend = run(backend_block, "python/django.md")["PartnerBackend"]()
    from django.contrib.auth import get_user_model

    cert = xfcc.Policy.from_settings(ns["XFCC"], base_dir=ca_here).verify(capture("rsa-chain"))
    assert backend.authenticate(None, client_cert=cert) is None  # created, inactive
    assert get_user_model().objects.get(username=cert.sha256).is_active is False
    drf = run(drf_block, "python/django.md")["REST_FRAMEWORK"]
    for path in drf["DEFAULT_AUTHENTICATION_CLASSES"] + drf["DEFAULT_PERMISSION_CLASSES"]:
        assert isinstance(import_string(path), type)
