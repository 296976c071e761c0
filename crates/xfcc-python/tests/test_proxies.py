"""trusted_proxies from Python: the header is believed for the certificate
the proxy presented on its connection (the ASGI TLS extension's
``client_cert_chain``), never for its address; a server that does not say
is a wiring error, refused."""

import asyncio
import hashlib
import ssl

import pytest

import xfcc
from conftest import CERTS, THUMBPRINT, capture
from xfcc.asgi import XfccMiddleware

EDGE_PEM = (CERTS / "edge.pem").read_text()
RSA_PEM = (CERTS / "client-rsa.pem").read_text()


def policy() -> xfcc.Policy:
    # edge.pem pinned by its thumbprint, computed here independently of
    # the core.
    der = ssl.PEM_cert_to_DER_cert(EDGE_PEM)
    return xfcc.Policy.from_settings({
        "trusted_proxies": [{"name": "edge", "thumbprint": hashlib.sha256(der).hexdigest()}],
        "allow": [{"name": "client", "thumbprint": THUMBPRINT}],
    })


HEADER = capture("rsa-chain")


def test_the_proxys_certificate_makes_the_header_believed():
    p = policy()
    assert p.has_trusted_proxies
    cert = p.verify(HEADER, "10.0.0.9", [EDGE_PEM])
    assert (cert.rule, cert.proxy) == ("client", "edge")
    # DER bytes as well as PEM.
    assert p.verify(HEADER, "10.0.0.9", [ssl.PEM_cert_to_DER_cert(EDGE_PEM)]).proxy == "edge"


@pytest.mark.parametrize("chain, code, detail", [
    ([], "untrusted_proxy", "no_proxy_certificate"),
    ([RSA_PEM], "untrusted_proxy", "proxy_not_allowed"),
    (["-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"], "untrusted_proxy",
     "proxy_certificate_unreadable"),
    (None, "peer_unavailable", "peer_unavailable"),
])
def test_any_other_connection_is_refused(chain, code, detail):
    with pytest.raises(xfcc.Rejection) as e:
        policy().verify(HEADER, "10.0.0.9", chain)
    assert (e.value.code, e.value.detail) == (code, detail)
    assert "MII" not in str(e.value)


def test_a_chain_that_is_not_certificates_is_a_type_error():
    with pytest.raises(ValueError):
        policy().verify(HEADER, "10.0.0.9", [1])
    with pytest.raises(ValueError):
        policy().verify(HEADER, "10.0.0.9", [EDGE_PEM] * 17)


def run_asgi(app, scope):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


async def whoami(scope, receive, send):
    cert = scope["state"]["client_cert"]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"{cert.rule} via {cert.proxy}".encode()})


def scope(tls):
    s = {"type": "http", "path": "/", "client": ("10.0.0.9", 5000),
         "headers": [(b"x-forwarded-client-cert", HEADER.encode())]}
    if tls is not None:
        s["extensions"] = {"tls": {"server_cert": None, "client_cert_chain": tls, "client_cert_name": None,
                                   "client_cert_error": None, "tls_version": 0x0304, "cipher_suite": None}}
    return s


@pytest.mark.parametrize("tls, want", [
    ([EDGE_PEM], (200, b"client via edge")),
    ([], (403, b'{"error":"untrusted_proxy"}')),
    ([RSA_PEM], (403, b'{"error":"untrusted_proxy"}')),
    # A server that does not fill the TLS extension (uvicorn, hypercorn).
    (None, (500, b'{"error":"peer_unavailable"}')),
])
def test_the_asgi_middleware_reads_the_servers_tls_extension(tls, want):
    assert run_asgi(XfccMiddleware(whoami, policy()), scope(tls)) == want


def test_a_second_middleware_reads_the_hop_not_the_client_written_for_the_app():
    # The outer middleware rewrites the extension with the client's
    # certificate (client-rsa); the inner must still judge the hop (edge).
    p = policy()
    app = XfccMiddleware(XfccMiddleware(whoami, p), p)
    assert run_asgi(app, scope([EDGE_PEM])) == (200, b"client via edge")
    # And a hop without TLS stays unknown on the second pass.
    assert run_asgi(app, scope(None))[0] == 500


def test_wsgi_cannot_tell_the_certificate_and_fails_closed():
    from xfcc.wsgi import XfccWSGIMiddleware as Wsgi

    def inner(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    got = {}

    def start_response(status, headers):
        got["status"] = status

    body = b"".join(Wsgi(inner, policy())({"PATH_INFO": "/", "REMOTE_ADDR": "10.0.0.9", "SERVER_SOFTWARE": "gunicorn/23.0.0",
                                           "HTTP_X_FORWARDED_CLIENT_CERT": HEADER}, start_response))
    assert got["status"].startswith("500") and b"peer_unavailable" in body
