"""The Python API decides exactly as the Rust core: same codes, details
and explanations, on the core's real-Envoy captures."""

import json
import os
import random
import subprocess

import pytest

import xfcc
from conftest import capture

PARTNER_CN = "client-app.contoso.example"


def cn_policy(**extra):
    # Names only: these tests are about reading and deciding, so the policy
    # states that the proxy verifies client certificates.
    env = {"XFCC_ALLOWED_SUBJECT_CNS": PARTNER_CN, "XFCC_CACHE": "0", "XFCC_PROXY_VERIFIES_CHAIN": "true", **extra}
    return xfcc.Policy.from_env(env)


def test_allows_a_real_envoy_header_with_every_identity_field():
    cert = cn_policy().verify(capture("rsa-chain"))
    assert cert.subject == "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"
    assert cert.subject_cn == [PARTNER_CN]
    assert cert.issuer == "CN=Contoso Issuing CA 1,O=Contoso,C=US"
    assert cert.issuer_cn == ["Contoso Issuing CA 1"]
    assert cert.san_ip == ["10.1.2.3", "2001:db8::1"]
    assert cert.san_email == ["ops@contoso.example"]
    assert cert.rule == "env" and cert.element == 0 and cert.source is None
    assert cert.verified_from == "cert" and cert.chain_verified is False
    assert len(cert.sha256) == 64 and len(cert.sha1) == 40
    # The capture's Hash is the SHA-256 Envoy computed.
    assert f"Hash={cert.sha256.lower()}" in capture("rsa-chain")
    assert cert.sha256 == cert.sha256.upper()
    assert cert.not_before < cert.not_after
    assert cert.der[:1] == b"\x30"
    assert cert.x5t_s256 and "=" not in cert.x5t_s256


def test_the_recipes_variables_are_read_unchanged_and_nothing_set_is_refused():
    cert = cn_policy().verify(capture("rsa-chain"))
    by_print = xfcc.Policy.from_env({"ALLOWED_CERT_THUMBPRINTS": cert.sha1.upper()})
    assert by_print.verify(capture("rsa-chain")).sha256 == cert.sha256
    # The recipe's common names alone are met by a self-signed look-alike
    # (the ingress accepts any certificate): refused, naming the variable
    # and both fixes.
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_env({"ALLOWED_CERT_COMMON_NAMES": PARTNER_CN})
    assert e.value.code == "names_only_rule"
    assert (e.value.setting, e.value.rule) == ("ALLOWED_CERT_COMMON_NAMES", "common_name")
    for words in ["ALLOWED_CERT_COMMON_NAMES", "XFCC_CHAIN_ANCHORS", "ALLOWED_CERT_THUMBPRINTS", "XFCC_PROXY_VERIFIES_CHAIN"]:
        assert words in str(e.value), words
    by_name = xfcc.Policy.from_env({"ALLOWED_CERT_COMMON_NAMES": PARTNER_CN, "XFCC_PROXY_VERIFIES_CHAIN": "true"})
    assert by_name.verify(capture("rsa-chain")).subject_cn == [PARTNER_CN]
    # No default allow list.
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_env({})
    assert e.value.code == "nothing_set"
    # A mistyped variable is refused with the closest name.
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_env({"XFCC_ALLOWED_SUBJECT_CN": PARTNER_CN})
    assert "XFCC_ALLOWED_SUBJECT_CNS" in str(e.value)
    # os.environ by default.
    os.environ["ALLOWED_CERT_COMMON_NAMES"] = PARTNER_CN
    os.environ["XFCC_PROXY_VERIFIES_CHAIN"] = "true"
    try:
        assert xfcc.Policy.from_env().verify(capture("rsa-chain")).rule == "common_name"
    finally:
        del os.environ["ALLOWED_CERT_COMMON_NAMES"]
        del os.environ["XFCC_PROXY_VERIFIES_CHAIN"]


@pytest.mark.parametrize(
    "name,code",
    [
        ("wrong-cn", "not_allowed"),
        ("two-hop", "too_many_elements"),
        ("injection-uri", "too_many_elements"),
        ("injection-semicolon", "inconsistent"),
    ],
)
def test_refusals_carry_the_cores_codes(name, code):
    with pytest.raises(xfcc.Rejection) as e:
        cn_policy().verify(capture(name))
    r = e.value
    assert r.code == code and r.reason == code
    assert r.detail and r.would_deny is False
    assert "MII" not in str(r)


def test_a_names_only_policy_lets_a_self_signed_look_alike_through_and_says_so():
    # What the recipes do (a CN compare): behind a proxy that accepts any
    # certificate, a self-signed one with the partner's CN passes. It only
    # builds with the operator's word that the proxy verifies, and the
    # policy's warning still says so; a chain or a pin is the fix.
    p = cn_policy()
    assert p.verify(capture("self-signed-lookalike")).subject_cn == [PARTNER_CN]
    assert [w[0] for w in p.warnings()] == ["names_only_rule"]


def test_an_explanation_names_the_failed_constraint_not_the_pinned_value():
    with pytest.raises(xfcc.Rejection) as e:
        cn_policy(XFCC_ALLOWED_SUBJECT_CNS="someone-else").verify(capture("rsa-chain"))
    assert e.value.code == "not_allowed"
    assert 'rule "env" failed subject_cn' in e.value.explanation
    assert "someone-else" not in e.value.explanation


def test_the_same_decision_as_the_rust_cli(chain_policy_toml, tmp_path):
    cli = os.environ.get("PYTEST_XFCC_CLI")
    if not cli:
        pytest.skip("PYTEST_XFCC_CLI (the xfcc binary) not given; .ci/run gives it")
    policy_path = chain_policy_toml()
    policy = xfcc.Policy.from_toml(policy_path)
    for name in ["rsa-chain", "wrong-cn", "self-signed-lookalike", "rsa-leaf-only", "two-hop", "injection-semicolon"]:
        out = subprocess.run(
            [cli, "check", "--json", "--policy", str(policy_path), "-"],
            input=capture(name), capture_output=True, text=True,
        )
        rust = json.loads(out.stdout)
        try:
            cert = policy.verify(capture(name))
            assert rust["allowed"] is True, name
            assert rust["rule"] == cert.rule
        except xfcc.Rejection as r:
            assert rust["allowed"] is False, name
            assert (rust["code"], rust["detail"], rust["message"]) == (r.code, r.detail, str(r)), name


def test_peers_and_report_mode():
    peers = cn_policy(XFCC_TRUSTED_PEERS="10.0.0.0/8")
    assert peers.verify(capture("rsa-chain"), peer="10.1.2.3").rule == "env"
    with pytest.raises(xfcc.Rejection) as e:
        peers.verify(capture("rsa-chain"), peer="192.0.2.7")
    assert (e.value.code, e.value.peer) == ("untrusted_peer", "192.0.2.7")
    with pytest.raises(xfcc.Rejection) as e:
        peers.verify(capture("rsa-chain"))
    assert e.value.code == "peer_unavailable" and xfcc.status_of(e.value) == 500
    with pytest.raises(ValueError):
        peers.verify(capture("rsa-chain"), peer="not-an-ip")
    report = cn_policy(XFCC_MODE="report")
    with pytest.raises(xfcc.Rejection) as e:
        report.verify(capture("wrong-cn"))
    assert e.value.would_deny is True and e.value.code == "not_allowed"
    accept = cn_policy(XFCC_MODE="accept")
    assert accept.verify(None) is None
    with pytest.raises(xfcc.Rejection) as e:
        cn_policy().verify(None)
    assert e.value.code == "missing"


def test_verify_request_reads_the_named_header_once():
    p = cn_policy()
    ok = p.verify_request([(b"X-Forwarded-Client-Cert", capture("rsa-chain").encode())])
    assert ok.rule == "env"
    for headers, code in [
        ([("x_forwarded_client_cert", capture("rsa-chain"))], "missing"),
        ([("x-forwarded-client-cert", capture("rsa-chain"))] * 2, "multiple_headers"),
        ([("x-forwarded-client-cert", b"\xff\xfe")], "malformed"),
    ]:
        with pytest.raises(xfcc.Rejection) as e:
            p.verify_request(headers)
        assert e.value.code == code


def test_no_input_crashes_the_interpreter_or_authenticates():
    p = cn_policy()
    rng = random.Random(7)
    header = capture("rsa-chain")
    for _ in range(3000):
        b = bytearray(header.encode())
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        value = bytes(b)
        try:
            cert = p.verify(value)
        except xfcc.Rejection as r:
            assert r.code
            continue
        # A mutation that still verifies must be the same certificate.
        assert cert.subject_cn == [PARTNER_CN]
    for junk in [b"", b"A" * 70_000, "é" * 10, b"\x00" * 100, 'Cert="' + "%" * 5000 + '"']:
        with pytest.raises(xfcc.Rejection):
            p.verify(junk)


def test_inspect_shows_each_element():
    elements = xfcc.inspect(capture("two-hop"))
    assert [e["index"] for e in elements] == [0, 1]
    assert elements[0]["certificate"]["subject"].startswith("CN=client-app.contoso.example")
    assert elements[0]["error"] is None
    with pytest.raises(ValueError):
        xfcc.inspect('Cert="x')


def test_policy_files_and_their_errors(chain_policy_toml, tmp_path):
    policy = xfcc.Policy.from_toml(chain_policy_toml())
    assert policy.verify(capture("rsa-chain")).chain_verified is True
    assert policy.mode == "require" and policy.header_name == "x-forwarded-client-cert"
    assert policy.warnings() == []
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_toml_str('[[allow]]\nname = "n"\nsubject_cn = ["a"]\n')
    assert e.value.code == "names_only_rule" and 'rule "n"' in str(e.value)
    names_only = xfcc.Policy.from_toml_str('proxy_verifies_chain = true\n[[allow]]\nname = "n"\nsubject_cn = ["a"]\n')
    assert [w[0] for w in names_only.warnings()] == ["names_only_rule"]
    with pytest.raises(xfcc.ConfigError) as e:
        xfcc.Policy.from_toml_str('[[allow]]\nname = "n"\nthumbprint = ["abcd"]\n')
    assert "thumbprint" in str(e.value)


def test_header_names_are_what_a_middleware_hands_over():
    assert cn_policy().header_names == ["x-forwarded-client-cert"]
    assert cn_policy(XFCC_FORMAT="rfc9440").header_names == ["client-cert", "client-cert-chain"]
    two = xfcc.Policy.from_toml_str(
        '[[sources]]\nname = "a"\ntrusted_peers = ["10.0.1.0/24"]\nformat = "nginx"\n'
        '[[sources]]\nname = "b"\ntrusted_peers = ["10.0.2.0/24"]\n'
        '[[allow]]\nname = "r"\nthumbprint = ["' + "ab" * 32 + '"]\n'
    )
    assert two.header_names == ["x-forwarded-client-cert", "x-ssl-client-cert"]


def test_with_sources_the_peer_picks_the_proxy():
    from conftest import nginx_value

    two = xfcc.Policy.from_toml_str(
        'proxy_verifies_chain = true\n'
        '[[sources]]\nname = "nginx"\ntrusted_peers = ["10.0.1.0/24"]\nformat = "nginx"\n'
        '[[sources]]\nname = "gateway"\ntrusted_peers = ["10.0.2.0/24"]\n'
        '[[allow]]\nname = "r"\nsubject_cn = ["' + PARTNER_CN + '"]\n'
    )
    assert two.verify(capture("rsa-chain"), peer="10.0.2.9").source == "gateway"
    assert two.verify(nginx_value("rsa-chain"), peer="10.0.1.9").source == "nginx"
    with pytest.raises(xfcc.Rejection) as e:
        two.verify(capture("rsa-chain"), peer="192.0.2.9")
    assert (e.value.code, e.value.source) == ("untrusted_peer", None)
    with pytest.raises(xfcc.Rejection) as e:
        two.verify(capture("wrong-cn"), peer="10.0.2.9")
    assert (e.value.code, e.value.source) == ("not_allowed", "gateway")


def test_a_rejection_log_record_leaves_out_what_the_refusal_does_not_have(caplog):
    from xfcc._guard import log_rejection

    caplog.set_level("INFO", logger="xfcc")
    with pytest.raises(xfcc.Rejection) as missing:
        cn_policy().verify(None)
    log_rejection(missing.value)
    message = caplog.records[-1].getMessage()
    assert message.startswith("client certificate rejected: reason=missing detail=missing"), message
    assert "None" not in message and "element=" not in message and "peer=" not in message, message
    # A refusal that has them writes them.
    with pytest.raises(xfcc.Rejection) as denied:
        cn_policy().verify(capture("wrong-cn"), peer="10.1.2.3")
    log_rejection(denied.value)
    message = caplog.records[-1].getMessage()
    assert "reason=not_allowed" in message and "element=0" in message and "explanation=" in message, message


def test_a_policy_with_crl_urls_builds_in_the_wheel(chain_policy_toml):
    # The wheel is built with crl-fetch: such a policy is not refused as
    # "needs the crl-fetch feature". Nothing answers on this port, so the
    # CRLs are stale, and stale CRLs refuse the chain (the default).
    path = chain_policy_toml()
    text = path.read_text() + 'crl_urls = ["http://127.0.0.1:9/ca.crl"]\ncrl_refresh_seconds = 60\n'
    path.write_text(text)
    policy = xfcc.Policy.from_toml(path)
    with pytest.raises(xfcc.Rejection) as e:
        policy.verify(capture("rsa-chain"))
    assert (e.value.code, e.value.detail) == ("chain_invalid", "crl_expired")
