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
