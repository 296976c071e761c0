"""Shared fixtures: the Rust core's real-Envoy captures and test PKI."""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CAPTURES = ROOT / "crates/xfcc/tests/fixtures/envoy"
CERTS = ROOT / "crates/xfcc/tests/fixtures/certs"


def capture(name: str) -> str:
    """A header value a real Envoy wrote (`capture.sh`)."""
    return (CAPTURES / f"{name}.txt").read_text()


def nginx_value(name: str) -> str:
    """The `Cert=` value of a capture: what nginx's $ssl_client_escaped_cert sends."""
    c = capture(name)
    start = c.index('Cert="') + 6
    return c[start : c.index('"', start)]


@pytest.fixture
def chain_policy_toml(tmp_path):
    """The e2e's allowlist: CN plus a chain to the test root."""

    def make(extra: str = "") -> pathlib.Path:
        (tmp_path / "ca.pem").write_text((CERTS / "root.pem").read_text())
        p = tmp_path / "policy.toml"
        p.write_text(
            extra
            + '\n[[allow]]\nname = "partner"\nsubject_cn = ["client-app.contoso.example"]\nchain = "contoso"\n'
            + '[chain.contoso]\ntrust_anchors = "ca.pem"\n'
        )
        return p

    return make


#: The SHA-256 thumbprint of the captures' client (client-rsa).
THUMBPRINT = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"


@pytest.fixture
def recipe_env(monkeypatch):
    """The environment of the recipe's deployment: no XFCC_* or
    ALLOWED_CERT_* variable but ALLOWED_CERT_THUMBPRINTS, pinning the
    captures' client."""
    for name in list(__import__("os").environ):
        if name.startswith(("XFCC_", "ALLOWED_CERT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ALLOWED_CERT_THUMBPRINTS", THUMBPRINT)
