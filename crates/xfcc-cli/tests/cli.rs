//! Runs the `xfcc` binary on Envoy captures and bad inputs and checks its
//! JSON contract and exit codes.
#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> PathBuf {
    fixtures().join(format!("envoy/{name}.txt"))
}

fn cert(name: &str) -> PathBuf {
    fixtures().join(format!("certs/{name}"))
}

fn doctor_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/doctor/{name}"))
}

/// Runs xfcc; returns (exit code, stdout, stderr).
fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("xfcc").unwrap();
    cmd.args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(s.to_owned());
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run_json(args: &[&str], stdin: Option<&str>) -> (i32, Value) {
    let (code, out, err) = run(args, stdin);
    let v =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?} / {err:?}"));
    (code, v)
}

/// Exit 1 with the JSON error `code`, whose message says `says`.
fn assert_error(exit: i32, v: &Value, code: &str, says: &str) {
    assert_eq!((exit, v["error"]["code"].as_str()), (1, Some(code)), "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{says:?} not in {v}");
}

/// `xfcc check --json --policy POLICY --at AT INPUT...` (no input, or
/// `-`: standard input).
fn check_json(policy: &Path, at: &str, input: &[&str], stdin: Option<&str>) -> (i32, Value) {
    let mut args = vec!["check", "--json", "--policy", p(policy), "--at", at];
    args.extend_from_slice(input);
    run_json(&args, stdin)
}

/// `xfcc check` of one header file in text form: (exit code, stdout, stderr).
fn check_text(policy: &Path, at: &str, input: &str) -> (i32, String, String) {
    run(&["check", "--policy", p(policy), "--at", at, input], None)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn inspect_json_contract_on_a_real_capture() {
    let (code, v) = run_json(&["inspect", "--json", p(&capture("rsa-chain"))], None);
    assert_eq!(code, 0);
    assert_eq!(v["format"], "envoy");
    let e = &v["elements"][0];
    assert_eq!(e["index"], 0);
    assert_eq!(
        e["by"],
        serde_json::json!(["spiffe://xfcc.test/ns/edge/sa/envoy"])
    );
    assert_eq!(e["hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        e["subject"],
        "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"
    );
    assert_eq!(
        e["uri"],
        serde_json::json!(["spiffe://contoso.example/ns/payments/sa/client"])
    );
    assert_eq!(
        e["dns"],
        serde_json::json!(["client-app.contoso.example", "api.contoso.example"])
    );
    assert_eq!(e["problems"], serde_json::json!([]));
    let c = &e["cert"];
    assert_eq!(c["sha256"], e["hash"].as_str().unwrap().to_uppercase());
    assert_eq!(c["sha1"].as_str().unwrap().len(), 40);
    assert_eq!(
        c["subject_cn"],
        serde_json::json!(["client-app.contoso.example"])
    );
    assert_eq!(c["issuer"], "CN=Contoso Issuing CA 1,O=Contoso,C=US");
    assert_eq!(c["issuer_cn"], serde_json::json!(["Contoso Issuing CA 1"]));
    assert!(c["not_before"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        c["san"]["ip"],
        serde_json::json!(["10.1.2.3", "2001:db8::1"])
    );
    assert_eq!(
        c["san"]["email"],
        serde_json::json!(["ops@contoso.example"])
    );
    assert_eq!(c["key"], "rsa-2048");
    // What certificate_policies and extension rules read: the leaf has no
    // policies, and its extensions by OID (SAN and EKU among them).
    assert_eq!(c["certificate_policies"], serde_json::json!([]));
    let exts: Vec<&str> = c["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        exts.contains(&"2.5.29.17") && exts.contains(&"2.5.29.37"),
        "{exts:?}"
    );
    assert_eq!(e["chain"].as_array().unwrap().len(), 2);
    assert_eq!(
        e["chain"][1]["subject"],
        "CN=Contoso Issuing CA 1,O=Contoso,C=US"
    );
}

#[test]
fn inspect_reports_problems_per_element() {
    // A value with problems exits 1 (the middleware refuses it), with the
    // problems listed.
    let (code, v) = run_json(&["inspect", "--json", p(&capture("injection-uri"))], None);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert_eq!(
        v["elements"][0]["problems"],
        serde_json::json!(["uri_mismatch"])
    );
    assert_eq!(v["elements"][1]["problems"], serde_json::json!([]));
    let (_, v) = run_json(
        &["inspect", "--json", p(&capture("injection-semicolon"))],
        None,
    );
    assert_eq!(
        v["elements"][0]["problems"],
        serde_json::json!(["uri_mismatch", "dns_mismatch"])
    );
}

#[test]
fn inspect_shows_placeholder_hashes_and_empty_values_that_check_refuses() {
    // Envoy's docs write `Hash=abc`: inspect shows the element and says
    // what is wrong with it.
    let real = std::fs::read_to_string(capture("p384")).unwrap();
    let start = real.find("Hash=").unwrap() + 5;
    let placeholder = format!("{}abc{}", &real[..start], &real[start + 64..]);
    let (code, v) = run_json(&["inspect", "--json"], Some(&placeholder));
    assert_eq!(code, 1);
    assert_eq!(v["elements"][0]["hash"], "abc");
    assert_eq!(v["elements"][0]["cert"]["key"], "ecdsa-p384");
    assert_eq!(
        v["elements"][0]["problems"],
        serde_json::json!(["invalid_hash"])
    );
    let (code, v) = run_json(&["inspect", "--json"], Some("By=spiffe://a;Hash=abc"));
    assert_eq!(code, 1);
    assert_eq!(
        v["elements"][0]["problems"],
        serde_json::json!(["invalid_hash"])
    );
    let (code, v) = run_json(&["inspect", "--json"], Some(""));
    assert_eq!(code, 1);
    assert_eq!(v["elements"], serde_json::json!([]));
    assert!(
        v["hint"]
            .as_str()
            .unwrap()
            .contains("no certificate reached the app")
    );
    // A consistent value is ok, exit 0.
    let (code, v) = run_json(&["inspect", "--json", p(&capture("p384"))], None);
    assert_eq!((code, &v["ok"]), (0, &serde_json::json!(true)));
    // check still refuses both.
    let dir = scratch("placeholder");
    let policy = write_policy(
        &dir,
        "proxy_verifies_chain = true\n[[allow]]\nname = \"any\"\nsubject_cn = [\"p384-client\"]\n",
    );
    for value in [placeholder.as_str(), ""] {
        let (code, v) = check_json(&policy, AT, &["-"], Some(value));
        assert_eq!(code, 1, "{value:.20}");
        assert_eq!(v["allowed"], false);
    }
}

#[test]
fn check_names_every_weakening_setting_and_refuses_broken_ones() {
    let dir = scratch("weak");
    let weak = write_policy(
        &dir,
        "proxy_verifies_chain = true\nmode = \"accept\"\n[elements]\ncount = 0\n[validity]\nleeway_seconds = 3600\n[[allow]]\nname = \"names\"\nsubject_cn = [\"p384-client\"]\n",
    );
    let (code, v) = check_json(&weak, AT, &[p(&capture("p384"))], None);
    assert_eq!(code, 0, "{v}");
    let w: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(w.len(), 4, "{w:?}");
    for setting in [
        "rule \"names\"",
        "mode = \"accept\"",
        "[elements] count",
        "leeway_seconds = 3600",
    ] {
        assert!(w.iter().any(|x| x.contains(setting)), "{setting}: {w:?}");
    }
    let (_, stderr_text, err) = check_text(&weak, AT, p(&capture("p384")));
    assert!(
        err.contains("warning: mode = \"accept\""),
        "{stderr_text}{err}"
    );
    // Settings that cannot be honoured are refused (exit 2), naming them.
    for (body, setting) in [
        (
            "[[allow]]\nname = \"p\"\nsubject_cn = \"x\"\nthumbprint = []\n",
            "thumbprint is an empty list",
        ),
        (
            "proxy_verifies_chain = true\n[validity]\nleeway_seconds = 99999999\n[[allow]]\nsubject_cn = \"x\"\n",
            "leeway_seconds = 99999999 is out of range",
        ),
    ] {
        let bad = write_policy(&dir, body);
        let (code, v) = run_json(&["check", "--json", "--policy", p(&bad), "-"], Some("x"));
        assert_eq!(code, 2, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(setting),
            "{v}"
        );
    }
}

#[test]
fn inspect_reads_stdin_and_ignores_one_trailing_newline() {
    let value = std::fs::read_to_string(capture("p384")).unwrap();
    let (code, v) = run_json(&["inspect", "--json", "-"], Some(&format!("{value}\r\n")));
    assert_eq!(code, 0);
    assert_eq!(v["elements"][0]["cert"]["key"], "ecdsa-p384");
    let (code, v) = run_json(&["inspect", "--json"], Some(&format!("{value}\n\n")));
    assert_eq!(code, 1, "a second newline is part of the value");
    assert_eq!(v["error"]["code"], "control_character");
}

#[test]
fn inspect_errors_are_json_with_code_and_offset() {
    let (code, v) = run_json(&["inspect", "--json"], Some("URI=a;Cert=\"unterminated"));
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "unterminated_quote");
    assert_eq!(v["error"]["offset"], 11);
    assert!(
        !v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unterminated\"")
    );
    let (code, v) = run_json(
        &["inspect", "--json", "--format", "rfc9440"],
        Some("not-a-byte-sequence"),
    );
    assert_eq!(code, 1);
    assert_eq!(v["error"]["code"], "bad_encoding");
    assert_eq!(v["error"]["offset"], Value::Null);
    let (code, v) = run_json(&["inspect", "--json", "/nonexistent/header.txt"], None);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("io")));
    let (code, v) = run_json(&["inspect", "--json", "--format", "pound"], Some("x"));
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("usage")));
}

#[test]
fn inspect_other_formats() {
    let (code, out, _) = run(
        &[
            "header",
            "--cert",
            p(&cert("client-rsa-chain.pem")),
            "--format",
            "traefik",
        ],
        None,
    );
    assert_eq!(code, 0);
    let (code, v) = run_json(&["inspect", "--json", "--format", "traefik"], Some(&out));
    assert_eq!(code, 0);
    assert_eq!(v["format"], "traefik");
    assert_eq!(
        v["elements"][0]["cert"]["subject_cn"],
        serde_json::json!(["client-app.contoso.example"])
    );
    assert_eq!(v["elements"][0]["chain"].as_array().unwrap().len(), 2);
}

#[test]
fn inspect_human_output() {
    let (code, out, _) = run(&["inspect", p(&capture("two-hop"))], None);
    assert_eq!(code, 0);
    assert!(out.contains("format: envoy (2 elements)"), "{out}");
    assert!(out.contains("element 1"));
    assert!(out.contains("spiffe://xfcc.test/ns/app/sa/sidecar"));
    assert!(out.contains("problems   none (consistent)"));
}

fn write_policy(dir: &Path, body: &str) -> PathBuf {
    std::fs::copy(cert("root.pem"), dir.join("ca.pem")).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(&path, body).unwrap();
    path
}

const AT: &str = "2027-01-01T00:00:00Z";

#[test]
fn check_allows_and_denies_with_the_json_contract() {
    let dir = scratch("check");
    let policy = write_policy(
        &dir,
        r#"
mode = "require"
[elements]
count = 1
trust = 0
[validity]
leeway_seconds = 60
[[allow]]
name = "partner"
issuer = "CN=Contoso Issuing CA 1,O=Contoso,C=US"
subject_cn = ["client-app.contoso.example"]
chain = "partners"
[chain.partners]
trust_anchors = "ca.pem"
crls = []
require_client_auth = true
"#,
    );
    let (code, v) = check_json(&policy, AT, &[p(&capture("rsa-chain"))], None);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["rule"], "partner");
    assert_eq!(
        v["identity"]["subject_cn"],
        serde_json::json!(["client-app.contoso.example"])
    );

    let deny = |capture_name: &str, at: &str| {
        let (code, v) = check_json(&policy, at, &[p(&capture(capture_name))], None);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["allowed"], false);
        // `code` the reason, `detail` its precise code, `message` the text.
        let message = v["message"].as_str().unwrap();
        assert!(!message.is_empty() && message != v["code"], "{v}");
        assert!(
            v["detail"].as_str().is_some_and(|d| !d.contains(' ')),
            "{v}"
        );
        v["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(deny("wrong-cn", AT), "not_allowed");
    assert_eq!(deny("self-signed-lookalike", AT), "not_allowed");
    assert_eq!(deny("rsa-leaf-only", AT), "chain_invalid");
    assert_eq!(deny("two-hop", AT), "too_many_elements");
    assert_eq!(deny("injection-uri", AT), "too_many_elements");
    assert_eq!(deny("injection-semicolon", AT), "inconsistent");
    assert_eq!(deny("rsa-chain", "2050-01-01T00:00:00Z"), "expired");
    assert_eq!(deny("rsa-chain", "2020-01-01T00:00:00Z"), "not_yet_valid");
    let (code, v) = check_json(&policy, AT, &[], Some("Cert=\"x"));
    assert_eq!((code, v["code"].as_str()), (1, Some("malformed")));

    // Human output names the rule, and warns about names-only rules.
    let names_only = write_policy(
        &scratch("check-names"),
        "proxy_verifies_chain = true\n[[allow]]\nname = \"cn\"\nsubject_cn = [\"client-app.contoso.example\"]\n",
    );
    let (code, out, err) = check_text(&names_only, AT, p(&capture("rsa-chain")));
    assert_eq!(code, 0);
    assert!(out.contains("allowed by rule \"cn\""), "{out}");
    assert!(err.contains("self-signed"), "{err}");
}

#[test]
fn check_in_report_mode_shows_the_decision_require_makes() {
    let dir = scratch("check-report");
    let body = |mode: &str| {
        format!(
            "mode = \"{mode}\"\n[[allow]]\nname = \"partner\"\nissuer = \"CN=Contoso Issuing CA 1,O=Contoso,C=US\"\nsubject_cn = [\"client-app.contoso.example\"]\nchain = \"partners\"\n[chain.partners]\ntrust_anchors = \"ca.pem\"\n"
        )
    };
    let report = write_policy(&dir, &body("report"));
    let require = write_policy(&scratch("check-require"), &body("require"));
    for capture_name in ["rsa-chain", "wrong-cn", "self-signed-lookalike", "two-hop"] {
        let (rc, r) = check_json(&report, AT, &[p(&capture(capture_name))], None);
        let (qc, q) = check_json(&require, AT, &[p(&capture(capture_name))], None);
        assert_eq!(rc, qc, "{capture_name}: {r} / {q}");
        assert_eq!(r["allowed"], q["allowed"], "{capture_name}");
        assert_eq!(r["code"], q["code"], "{capture_name}");
        assert_eq!(r["explain"], q["explain"], "{capture_name}");
        if r["allowed"] == false {
            assert_eq!(r["would_deny"], true, "{capture_name}: {r}");
            assert_eq!(q["would_deny"], false, "{capture_name}: {q}");
        }
    }
    let (code, out, err) = check_text(&report, AT, p(&capture("wrong-cn")));
    assert_eq!(code, 1);
    assert!(out.starts_with("would deny (mode = \"report\""), "{out}");
    assert!(out.contains("not_allowed"), "{out}");
    assert!(
        err.contains("mode = \"report\": nothing is refused"),
        "{err}"
    );
}

#[test]
fn check_with_sources_reads_the_named_proxys_header() {
    let dir = scratch("check-sources");
    let policy = write_policy(
        &dir,
        "[[sources]]\nname = \"gateway\"\ntrusted_peers = [\"10.0.2.0/24\"]\n[[sources]]\nname = \"nginx\"\ntrusted_peers = [\"10.0.1.0/24\"]\nformat = \"nginx\"\n[[allow]]\nname = \"partner\"\nsubject_cn = [\"client-app.contoso.example\"]\nchain = \"partners\"\n[chain.partners]\ntrust_anchors = \"ca.pem\"\n",
    );
    let (code, v) = check_json(
        &policy,
        AT,
        &["--source", "gateway", p(&capture("rsa-chain"))],
        None,
    );
    assert_eq!((code, &v["allowed"]), (0, &Value::Bool(true)), "{v}");
    // The same Envoy header read as nginx's: not what that proxy sends.
    let (code, v) = check_json(
        &policy,
        AT,
        &["--source", "nginx", p(&capture("rsa-chain"))],
        None,
    );
    assert_eq!((code, &v["allowed"]), (1, &Value::Bool(false)), "{v}");
    // Without --source, or with an unknown one: a usage error naming the sources.
    let header = capture("rsa-chain");
    for extra in [vec![], vec!["--source", "edge"]] {
        let mut args = extra.clone();
        args.push(p(&header));
        let (code, v) = check_json(&policy, AT, &args, None);
        assert_eq!(code, 2, "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("gateway, nginx"), "{msg}");
    }
    // The policy alone lints without --source.
    let (code, out) = run_no_stdin(&["check", "--policy", p(&policy)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("builds"), "{out}");
}

#[test]
fn check_bad_policy_or_arguments_exit_2_with_an_error_object() {
    let dir = scratch("check-bad");
    let bad = write_policy(&dir, "[[allow]]\nthumbprint = [\"abcd\"]\n");
    let (code, v) = run_json(
        &[
            "check",
            "--json",
            "--policy",
            p(&bad),
            p(&capture("rsa-chain")),
        ],
        None,
    );
    assert_eq!(code, 2);
    assert_eq!(v["error"]["code"], "policy");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("thumbprint")
    );
    let unknown = write_policy(
        &dir,
        "proxy_verifies_chain = true\ncolour = \"red\"\n[[allow]]\nsubject_cn = [\"a\"]\n",
    );
    let (code, v) = run_json(
        &[
            "check",
            "--json",
            "--policy",
            p(&unknown),
            p(&capture("rsa-chain")),
        ],
        None,
    );
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("policy")));
    let good = write_policy(
        &dir,
        "proxy_verifies_chain = true\n[[allow]]\nsubject_cn = [\"a\"]\n",
    );
    let (code, v) = check_json(&good, "yesterday", &[p(&capture("rsa-chain"))], None);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("usage")));
    let (code, v) = run_json(&["check", "--json", p(&capture("rsa-chain"))], None);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("usage")));
}

#[test]
fn header_renders_what_envoy_sends() {
    // With every field, the output is byte for byte the real capture.
    let (code, out, _) = run(
        &[
            "header",
            "--cert",
            p(&cert("client-rsa.pem")),
            "--chain",
            p(&cert("inter.pem")),
            "--fields",
            "hash,cert,chain,subject,uri,dns",
        ],
        None,
    );
    assert_eq!(code, 0);
    let expected = std::fs::read_to_string(capture("rsa-chain")).unwrap();
    let by = "By=spiffe://xfcc.test/ns/edge/sa/envoy;";
    assert_eq!(format!("{by}{}", out.trim_end()), expected);
    // The default is what Azure Container Apps forwards: Hash, Cert, Chain.
    let (_, out, _) = run(
        &["header", "--cert", p(&cert("client-rsa-chain.pem"))],
        None,
    );
    let out = out.trim_end();
    assert!(
        out.starts_with("Hash=")
            && out.contains(";Cert=\"")
            && out.contains(";Chain=\"")
            && !out.contains("Subject=")
    );
    // And it round-trips through check.
    let dir = scratch("header");
    let policy = write_policy(
        &dir,
        "proxy_verifies_chain = true\n[[allow]]\nname = \"cn\"\nsubject_cn = [\"client-app.contoso.example\"]\n",
    );
    let (code, v) = check_json(&policy, AT, &[], Some(out));
    assert_eq!((code, v["rule"].as_str()), (0, Some("cn")));
}

#[test]
fn header_rfc9440_prints_the_chain_on_a_second_line() {
    let (code, out, _) = run(
        &[
            "header",
            "--cert",
            p(&cert("client-rsa-chain.pem")),
            "--format",
            "rfc9440",
        ],
        None,
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with(":MII") && lines[0].ends_with(':'));
    assert!(lines[1].starts_with(":MII"));
}

#[test]
fn header_errors() {
    let (code, _, err) = run(&["header", "--cert", "/nonexistent.pem"], None);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"));
    let (code, _, err) = run(
        &[
            "header",
            "--cert",
            p(&cert("client-rsa.pem")),
            "--fields",
            "hash,colour",
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("colour"));
    let (code, _, _) = run(
        &["header", "--cert", p(&doctor_fixture("app-require.json"))],
        None,
    );
    assert_eq!(code, 2);
}

fn doctor(args: &[&str]) -> (i32, Vec<(String, String)>) {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let (code, v) = run_json(&all, None);
    assert_eq!(v["ok"], code == 0, "{v}");
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(
                !f["message"].as_str().unwrap().is_empty()
                    && !f["fix"].as_str().unwrap().is_empty()
            );
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (code, findings)
}

fn codes(f: &[(String, String)]) -> Vec<&str> {
    f.iter().map(|(c, _)| c.as_str()).collect()
}

#[test]
fn doctor_reports_ingress_modes() {
    let (code, f) = doctor(&["--app", p(&doctor_fixture("app-require.json"))]);
    assert_eq!(code, 0);
    assert_eq!(codes(&f), ["client_cert_require"]);
    for (fixture, expected) in [
        ("app-ignore.json", "client_cert_ignored"),
        ("app-missing-mode.json", "client_cert_ignored"),
        ("app-no-ingress.json", "ingress_disabled"),
    ] {
        let (code, f) = doctor(&["--app", p(&doctor_fixture(fixture))]);
        assert_eq!(code, 1, "{fixture}");
        assert!(
            f.contains(&(expected.to_owned(), "error".to_owned())),
            "{fixture}: {f:?}"
        );
    }
    let (code, f) = doctor(&["--app", p(&doctor_fixture("app-accept-no-dapr.json"))]);
    assert_eq!(code, 0);
    assert_eq!(codes(&f), ["client_cert_accept", "dapr_disabled"]);
}

#[test]
fn doctor_reports_dapr_app_ids() {
    let (_, f) = doctor(&["--app", p(&doctor_fixture("app-dapr-no-appid.json"))]);
    assert!(codes(&f).contains(&"dapr_app_id_unset"));
    let (_, f) = doctor(&[
        "--app",
        p(&doctor_fixture("app-require.json")),
        "--expect-app-id",
        "backend",
    ]);
    assert!(codes(&f).contains(&"dapr_app_id_mismatch"));
    let (_, f) = doctor(&[
        "--app",
        p(&doctor_fixture("app-require.json")),
        "--expect-app-id",
        "ca-api",
    ]);
    assert!(!codes(&f).contains(&"dapr_app_id_mismatch"));
}

#[test]
fn doctor_reports_environment_encryption() {
    let app = doctor_fixture("app-require.json");
    let (_, f) = doctor(&[
        "--app",
        p(&app),
        "--env",
        p(&doctor_fixture("env-encrypted.json")),
    ]);
    assert_eq!(codes(&f), ["client_cert_require"]);
    let (_, f) = doctor(&[
        "--app",
        p(&app),
        "--env",
        p(&doctor_fixture("env-off.json")),
    ]);
    assert!(codes(&f).contains(&"peer_encryption_off"));
    let (_, f) = doctor(&[
        "--app",
        p(&app),
        "--env",
        p(&doctor_fixture("env-legacy.json")),
    ]);
    // The older name alone is read as the same setting: on, so no warning.
    assert_eq!(
        codes(&f),
        ["client_cert_require", "legacy_peer_authentication"]
    );
    assert!(
        f.iter()
            .all(|(c, s)| c != "legacy_peer_authentication" || s == "info")
    );
    // Both names, disagreeing: the one case worth a warning.
    let (_, f) = doctor(&[
        "--app",
        p(&app),
        "--env",
        p(&doctor_fixture("env-conflict.json")),
    ]);
    // The newer name (off) is what current API versions apply.
    assert_eq!(
        codes(&f),
        [
            "client_cert_require",
            "peer_encryption_conflict",
            "peer_encryption_off"
        ]
    );
}

#[test]
fn doctor_checks_the_policy() {
    let app = doctor_fixture("app-require.json");
    let dir = scratch("doctor");
    // Thumbprint of the wrong length.
    let bad = write_policy(
        &dir,
        "[[allow]]\nname = \"pin\"\nthumbprint = [\"ABCDEF\"]\n",
    );
    let (code, f) = doctor(&["--app", p(&app), "--policy", p(&bad)]);
    assert_eq!(code, 1);
    assert!(codes(&f).contains(&"bad_thumbprint"), "{f:?}");
    // An anchor file that is not a certificate.
    std::fs::write(
        dir.join("junk.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let junk = dir.join("junk.toml");
    std::fs::write(
        &junk,
        "[[allow]]\nsubject_cn = \"a\"\nchain = \"p\"\n[chain.p]\ntrust_anchors = \"junk.pem\"\n",
    )
    .unwrap();
    let (code, f) = doctor(&["--app", p(&app), "--policy", p(&junk)]);
    assert_eq!(code, 1);
    assert!(codes(&f).contains(&"bad_anchor"), "{f:?}");
    // An anchor that expires within 30 days, and a names-only rule.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Soon Expiring CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    // 10 days from now, via a fixed date arithmetic on the epoch.
    let ten_days = now + 10 * 86_400;
    let days = ten_days / 86_400;
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap());
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let ca = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("soon.pem"), ca.pem()).unwrap();
    let soon = dir.join("soon.toml");
    std::fs::write(&soon, "proxy_verifies_chain = true\n[[allow]]\nname = \"cn\"\nsubject_cn = \"a\"\n[[allow]]\nname = \"chained\"\nsubject_cn = \"b\"\nchain = \"p\"\n[chain.p]\ntrust_anchors = \"soon.pem\"\n").unwrap();
    let (code, f) = doctor(&["--app", p(&app), "--policy", p(&soon)]);
    // The names-only rule builds only on proxy_verifies_chain, which the
    // Azure Container Apps ingress never makes true.
    assert_eq!(code, 1, "{f:?}");
    assert!(
        f.contains(&("proxy_verifies_chain_false".to_owned(), "error".to_owned())),
        "{f:?}"
    );
    assert!(
        f.contains(&("anchor_expiring".to_owned(), "warning".to_owned())),
        "{f:?}"
    );
    assert!(codes(&f).contains(&"names_only_rule"), "{f:?}");
    // A good policy adds nothing.
    let good = write_policy(
        &dir,
        "[[allow]]\nname = \"chained\"\nsubject_cn = \"b\"\nchain = \"p\"\n[chain.p]\ntrust_anchors = \"ca.pem\"\n",
    );
    let (_, f) = doctor(&["--app", p(&app), "--policy", p(&good)]);
    assert_eq!(codes(&f), ["client_cert_require"]);
}

#[test]
fn doctor_input_errors() {
    let (code, v) = run_json(&["doctor", "--json", "--app", "/nonexistent.json"], None);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("io")));
    let (code, v) = run_json(
        &["doctor", "--json", "--app", p(&capture("rsa-chain"))],
        None,
    );
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("json")));
    let (code, out, _) = run(
        &["doctor", "--app", p(&doctor_fixture("app-ignore.json"))],
        None,
    );
    assert_eq!(code, 1);
    // The CLI has no flag for clientCertificateMode: the fix patches the app
    // by its ARM id, as Microsoft's guide does.
    assert!(
        out.contains("[error] client_cert_ignored")
            && out.contains("fix: az rest --method patch --url \"https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/Microsoft.App/containerApps/ca-api?api-version=")
            && out.contains(r#"--body '{"properties":{"configuration":{"ingress":{"clientCertificateMode":"require"}}}}'"#),
        "{out}"
    );
    // Input that is not one app is an error, not "no ingress".
    let dir = scratch("doctor-input");
    for (name, text, says) in [
        (
            "list.json",
            "[{\"id\": \"x\"}, {\"id\": \"y\"}]",
            "a list of 2 resources",
        ),
        (
            "empty.json",
            "{}",
            "not one Microsoft.App/containerApps resource",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (code, v) = run_json(&["doctor", "--json", "--app", p(&path)], None);
        assert_eq!(
            (code, v["error"]["code"].as_str()),
            (2, Some("not_one_resource")),
            "{name}"
        );
        assert!(
            v["error"]["message"].as_str().unwrap().contains(says),
            "{v}"
        );
    }
}

#[test]
fn doctor_fixes_name_the_app_and_its_resource_group() {
    for (app, env) in [
        ("app-no-ingress.json", "env-off.json"),
        ("app-accept-no-dapr.json", "env-off.json"),
        ("app-dapr-no-appid.json", "env-legacy.json"),
        ("app-ignore.json", "env-off.json"),
    ] {
        let (_, v) = run_json(
            &[
                "doctor",
                "--json",
                "--app",
                p(&doctor_fixture(app)),
                "--env",
                p(&doctor_fixture(env)),
            ],
            None,
        );
        for f in v["findings"].as_array().unwrap() {
            let fix = f["fix"].as_str().unwrap();
            assert!(
                !fix.contains("<rg>") && !fix.contains("<env>") && !fix.contains("the app"),
                "{app}: {fix}"
            );
            if fix.starts_with("az containerapp env") {
                assert!(
                    fix.contains("--name cae-demo --resource-group rg-platform"),
                    "{fix}"
                );
            } else if fix.contains("az containerapp") {
                assert!(
                    fix.contains("--name ca-api --resource-group rg-demo"),
                    "{fix}"
                );
            }
        }
    }
    let (_, v) = run_json(
        &[
            "doctor",
            "--json",
            "--app",
            p(&doctor_fixture("app-accept-no-dapr.json")),
        ],
        None,
    );
    let dapr = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "dapr_disabled")
        .unwrap();
    let message = dapr["message"].as_str().unwrap();
    assert!(
        message.contains("Dapr is not enabled on ca-api") && !message.contains("/call-backend"),
        "{message}"
    );
    assert_eq!(dapr["severity"], "info");
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        i32::try_from(y).unwrap(),
        u8::try_from(m).unwrap(),
        u8::try_from(d).unwrap(),
    )
}

/// A policy whose rules the `rsa-chain` capture fails: one by its
/// thumbprint, one by its chain (the anchor is not its root).
fn explain_policy(dir: &Path) -> PathBuf {
    std::fs::copy(cert("client-rsa.pem"), dir.join("other-ca.pem")).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        r#"
[[allow]]
name = "pinned"
issuer_cn = ["Contoso Issuing CA 1"]
thumbprint = ["sha1:0123456789abcdef0123456789abcdef01234567"]

[[allow]]
name = "chained"
issuer_cn = ["Contoso Issuing CA 1"]
chain = "partners"

[chain.partners]
trust_anchors = "other-ca.pem"
require_client_auth = false
"#,
    )
    .unwrap();
    path
}

#[test]
fn check_explains_a_denial_in_text_and_json() {
    let dir = scratch("explain");
    let policy = explain_policy(&dir);
    let args = |json: bool| {
        let mut a = vec!["check", "--policy", p(&policy), "--at", AT];
        if json {
            a.push("--json");
        }
        a
    };
    let mut json_args = args(true);
    let capture_path = capture("rsa-chain");
    json_args.push(p(&capture_path));
    let (code, v) = run_json(&json_args, None);
    assert_eq!(
        (code, v["code"].as_str()),
        (1, Some("chain_invalid")),
        "{v}"
    );
    let e = &v["explain"];
    assert_eq!(e["element"], 0);
    assert_eq!(
        e["certificate"]["sha1"],
        "6F18C6529EDAE7A0D5E701161F898AF5ABEA684F"
    );
    assert_eq!(
        e["rules"],
        serde_json::json!([
            {"rule": "pinned", "failed": ["thumbprint"], "seen": []},
            {"rule": "chained", "failed": [], "seen": []},
        ])
    );
    assert_eq!(e["chain"]["set"], "partners");
    assert_eq!(e["chain"]["intermediates"], 1);
    assert_eq!(
        e["chain"]["anchors"],
        serde_json::json!(["CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"])
    );
    assert!(
        !v.to_string().contains("0123456789abcdef"),
        "pinned value leaked: {v}"
    );

    let mut text_args = args(false);
    text_args.push(p(&capture_path));
    let (code, out, _) = run(&text_args, None);
    assert_eq!(code, 1);
    for line in [
        "denied: chain_invalid",
        "    sha1        6F18C6529EDAE7A0D5E701161F898AF5ABEA684F",
        "  rule \"pinned\": not satisfied: thumbprint",
        "  rule \"chained\": every name matched; the chain did not verify",
        "  chain \"partners\": 1 intermediate(s) came with the certificate",
    ] {
        assert!(out.contains(line), "{line:?} not in {out}");
    }
}

#[test]
fn a_closed_pipe_keeps_the_documented_exit_code() {
    let dir = scratch("pipe");
    let policy = explain_policy(&dir);
    let capture_path = capture("rsa-chain");
    for (args, expected) in [
        (
            vec![
                "check",
                "--policy",
                p(&policy),
                "--at",
                AT,
                p(&capture_path),
            ],
            1,
        ),
        (vec!["inspect", p(&capture_path)], 0),
    ] {
        // The reader is gone before xfcc writes a byte: every write fails
        // with EPIPE, as under `xfcc check ... | head -0`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("xfcc"))
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn inspect_reads_certificate_files_and_shows_portal_and_envoy_thumbprints() {
    let sha1 = "6F18C6529EDAE7A0D5E701161F898AF5ABEA684F";
    let sha256 = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4";
    for file in ["client-rsa.pem", "client-rsa.der", "client-rsa-chain.pem"] {
        let (code, v) = run_json(&["inspect", "--json", p(&cert(file))], None);
        assert_eq!(code, 0, "{file}: {v}");
        assert_eq!(v["thumbprints"]["azure_portal_sha1"], sha1, "{file}");
        assert_eq!(v["thumbprints"]["envoy_hash_sha256"], sha256, "{file}");
        let n = if file.contains("chain") { 2 } else { 1 };
        assert_eq!(v["certificates"].as_array().unwrap().len(), n, "{file}");
        assert_eq!(v["certificates"][0]["sha1"], sha1);
    }
    let (code, out, _) = run(&["inspect", p(&cert("client-rsa.pem"))], None);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("(SHA-1): {sha1}")), "{out}");
    assert!(
        out.contains(&format!("thumbprint = [\"sha1:{sha1}\"] or [\"{sha256}\"]")),
        "{out}"
    );
    // A PEM file on stdin too; no more "control character" for it.
    let pem = std::fs::read_to_string(cert("client-rsa.pem")).unwrap();
    let (code, v) = run_json(&["inspect", "--json"], Some(&pem));
    assert_eq!(
        (code, v["thumbprints"]["azure_portal_sha1"].as_str()),
        (0, Some(sha1))
    );
}

#[test]
fn inspect_reports_a_not_before_in_1950_as_1950() {
    // NIST PKITS's notBefore: UTCTime 500101120100Z, valid under RFC 5280.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["pkits.example".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(1950, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let pem = params.self_signed(&key).unwrap().pem();
    let (code, v) = run_json(&["inspect", "--json"], Some(&pem));
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["certificates"][0]["not_before"], "1950-01-01T00:00:00Z",
        "{v}"
    );
    let (_, out, _) = run(&["inspect"], Some(&pem));
    assert!(out.contains("1950-01-01T00:00:00Z"), "{out}");
}

#[test]
fn inspect_names_what_a_file_holds_when_it_is_not_a_certificate() {
    let dir = scratch("inspect-files");
    let key = dir.join("client.key");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let (code, v) = run_json(&["inspect", "--json", p(&key)], None);
    assert_error(
        code,
        &v,
        "bad_certificate",
        "\"PRIVATE KEY\" block, not a CERTIFICATE",
    );
    // The start of a PKCS#12 file: SEQUENCE { INTEGER 3, SEQUENCE {} }.
    let pfx = dir.join("client.pfx");
    std::fs::write(&pfx, [0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00]).unwrap();
    let (code, v) = run_json(&["inspect", "--json", p(&pfx)], None);
    assert_eq!(code, 2);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("PKCS#12 (PFX) file: give its password with --password"),
        "{message}"
    );
    // With a password, a damaged file is an error, not a panic.
    let (code, v) = run_json(&["inspect", "--json", "--password", "x", p(&pfx)], None);
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (1, Some("bad_certificate"))
    );
}

#[test]
fn inspect_opens_pkcs12_files_with_their_password() {
    let sha1 = "6F18C6529EDAE7A0D5E701161F898AF5ABEA684F";
    // AES (PBES2, OpenSSL 3's default) and 3DES/RC2 (legacy, what older
    // Windows exports use).
    for file in ["client-rsa.pfx", "client-rsa-legacy.pfx"] {
        let path = cert(file);
        let (code, v) = run_json(
            &["inspect", "--json", "--password", "s3cret", p(&path)],
            None,
        );
        assert_eq!(code, 0, "{file}: {v}");
        assert_eq!(v["thumbprints"]["azure_portal_sha1"], sha1, "{file}");
        assert_eq!(v["certificates"].as_array().unwrap().len(), 2, "{file}");
        let (code, v) = run_json(
            &["inspect", "--json", "--password", "wrong", p(&path)],
            None,
        );
        assert_error(code, &v, "bad_certificate", "is the password right?");
        // The password from the environment: off the command line.
        let out = Command::cargo_bin("xfcc")
            .unwrap()
            .args(["inspect", "--json", p(&path)])
            .env("PFX_PASSWORD", "s3cret")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{v}");
        assert_eq!(v["thumbprints"]["azure_portal_sha1"], sha1, "{file}");
        let (code, v) = run_json(&["inspect", "--json", p(&path)], None);
        assert_eq!((code, v["error"]["code"].as_str()), (2, Some("usage")));
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--password"),
            "{v}"
        );
    }
}

#[test]
fn check_reports_an_identity_read_from_proxy_fields() {
    let policy = write_policy(
        &scratch("check-fields"),
        r#"
proxy_verifies_chain = true
[elements]
identity_from = "proxy-fields"
by = "spiffe://xfcc.test/ns/edge/sa/envoy"
[[allow]]
name = "client"
spiffe_id = ["spiffe://contoso.example/ns/payments/sa/client"]
"#,
    );
    // The real capture without its Cert and Chain: what Istio forwards.
    let fields = std::fs::read_to_string(capture("rsa-chain-fields-only")).unwrap();
    let (code, v) = run_json(
        &["check", "--json", "--policy", p(&policy), "-"],
        Some(&fields),
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verified_from"], "proxy-fields");
    assert_eq!(
        v["identity"]["spiffe_id"],
        "spiffe://contoso.example/ns/payments/sa/client"
    );
    assert_eq!(
        v["identity"]["subject_cn"],
        serde_json::json!(["client-app.contoso.example"])
    );
    assert!(v["identity"].get("issuer").is_none(), "{v}");

    let (code, out, _) = run(&["check", "--policy", p(&policy), "-"], Some(&fields));
    assert_eq!(code, 0);
    assert!(out.contains("from the proxy's fields"), "{out}");
    assert!(!out.contains("issuer"), "{out}");

    // The same capture with its certificate: verified from the certificate.
    let (code, v) = check_json(&policy, AT, &[p(&capture("rsa-chain"))], None);
    assert_eq!(
        (code, v["verified_from"].as_str()),
        (0, Some("cert")),
        "{v}"
    );

    // Another client's fields: denied, and the explanation shows the fields.
    let other = fields.replace("/sa/client", "/sa/other");
    let (code, v) = run_json(
        &["check", "--json", "--policy", p(&policy), "-"],
        Some(&other),
    );
    assert_eq!((code, v["code"].as_str()), (1, Some("not_allowed")), "{v}");
    assert!(v["explain"]["certificate"].is_null());
    assert_eq!(
        v["explain"]["proxy_fields"]["san"]["uri"],
        serde_json::json!(["spiffe://contoso.example/ns/payments/sa/other"])
    );
    assert_eq!(
        v["explain"]["rules"][0]["failed"],
        serde_json::json!(["spiffe_id"])
    );
}

#[test]
fn doctor_lints_proxy_configurations() {
    let dir = scratch("doctor-proxy");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let lint = |path: &Path, extra: &[&str]| {
        let mut args = vec!["doctor", "--json", "--proxy", p(path)];
        args.extend_from_slice(extra);
        let (code, v) = run_json(&args, None);
        let errors: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect();
        (code, errors, v)
    };
    // One mistake per proxy, each found without being told the proxy.
    let cases = [
        (
            "envoy.yaml",
            "static_resources:\n  listeners:\n  - filters:\n    - name: envoy.filters.network.http_connection_manager\n      typed_config:\n        forward_client_cert_details: ALWAYS_FORWARD_ONLY\n",
            "envoy_always_forward_only",
        ),
        (
            "nginx.conf",
            "server {\n  ssl_verify_client optional_no_ca;\n  location / { proxy_pass http://app; }\n}\n",
            "nginx_header_not_set",
        ),
        (
            "haproxy.cfg",
            "frontend fe\n  bind :443 ssl crt site.pem verify optional\n  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }\n",
            "haproxy_conditional_set",
        ),
        (
            "Caddyfile",
            "example.com {\n  reverse_proxy app {\n    header_up +X-Client-Cert {http.request.tls.client.certificate_der_base64}\n  }\n}\n",
            "caddy_add_header",
        ),
    ];
    for (name, text, code) in cases {
        let (exit, errors, v) = lint(&write(name, text), &[]);
        assert_eq!((exit, errors), (1, vec![code.to_owned()]), "{name}: {v}");
        let message = v["findings"][0]["message"].as_str().unwrap();
        assert!(message.contains(name), "the file is named: {message}");
        assert!(v["findings"][0]["fix"].as_str().unwrap().len() > 10);
    }
    // The APPEND_FORWARD lint reads the policy's [elements].
    let append = write(
        "append.yaml",
        "http_connection_manager:\n  forward_client_cert_details: APPEND_FORWARD\n  set_current_client_cert_details: {cert: true}\n",
    );
    let any_first = write_policy(
        &dir,
        "proxy_verifies_chain = true\n[elements]\ncount = 0\ntrust = 0\n[[allow]]\nsubject_cn = \"x\"\n",
    );
    let (exit, errors, _) = lint(&append, &["--policy", p(&any_first)]);
    assert_eq!(errors, ["envoy_append_forward"]);
    assert_eq!(exit, 1);
    std::fs::write(
        &any_first,
        "proxy_verifies_chain = true\n[elements]\ncount = 0\ntrust = -1\n[[allow]]\nsubject_cn = \"x\"\n",
    )
    .unwrap();
    // The last element, but any count and no `by`: a client certificate
    // whose URI SAN holds a comma can add the last element itself.
    let (_, errors, _) = lint(&append, &["--policy", p(&any_first)]);
    assert_eq!(errors, ["envoy_append_forward"]);
    std::fs::write(
        &any_first,
        "proxy_verifies_chain = true\n[elements]\ncount = 0\ntrust = -1\nby = \"spiffe://edge\"\n[[allow]]\nsubject_cn = \"x\"\n",
    )
    .unwrap();
    let (_, errors, _) = lint(&append, &["--policy", p(&any_first)]);
    assert!(errors.is_empty(), "{errors:?}");
    // --header narrows the check to the app's header.
    let nginx = write(
        "ok.conf",
        "location / {\n  proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;\n  proxy_pass http://app;\n}\n",
    );
    assert_eq!(lint(&nginx, &[]).0, 0);
    let (exit, errors, _) = lint(&nginx, &["--header", "X-Forwarded-Client-Cert"]);
    assert_eq!((exit, errors), (1, vec!["nginx_header_not_set".to_owned()]));
    // Neither --app nor --proxy; an unrecognisable file.
    let (code, v) = run_json(&["doctor", "--json"], None);
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (2, Some("usage")),
        "{v}"
    );
    let (code, v) = run_json(
        &[
            "doctor",
            "--json",
            "--proxy",
            p(&write("notes.txt", "hello\n")),
        ],
        None,
    );
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (2, Some("unknown_proxy")),
        "{v}"
    );
}

/// A self-signed certificate whose subject CN and SANs are `cn` and `sans`
/// (rcgen writes what it is given, controls included), as PEM.
fn odd_cert(cn: &str, sans: Vec<rcgen::SanType>) -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.subject_alt_names = sans;
    params
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

/// No raw control or bidi character in `out`.
fn assert_printable(out: &str) {
    for bad in ['\u{1b}', '\u{7}', '\r', '\0', '\u{202e}', '\u{85}'] {
        assert!(!out.contains(bad), "{bad:?} printed raw: {out:?}");
    }
    assert!(!out.contains("\nINJECTED"), "a forged line: {out:?}");
}

#[test]
fn control_characters_from_a_certificate_never_reach_the_terminal_raw() {
    let dir = scratch("controls");
    // SANs holding ESC, BEL and LF: refused by the reader as
    // control_character, and nothing of them printed.
    let ia5 = |s: &str| rcgen::string::Ia5String::try_from(s).unwrap();
    for san in [
        rcgen::SanType::DnsName(ia5("ok.example\u{1b}[31mRED")),
        rcgen::SanType::URI(ia5("spiffe://x/\u{1b}]0;TITLE\u{7}y")),
        rcgen::SanType::Rfc822Name(ia5("a\nINJECTED: line@x")),
        rcgen::SanType::DnsName(ia5("nul\0.example")),
        rcgen::SanType::DnsName(ia5("cr\r.example")),
    ] {
        let path = dir.join("san.pem");
        std::fs::write(&path, odd_cert("plain", vec![san])).unwrap();
        for json in [false, true] {
            let mut args = vec!["inspect", p(&path)];
            if json {
                args.push("--json");
            }
            let (code, out, err) = run(&args, None);
            assert_ne!(code, 0, "{out}");
            assert!(
                out.contains("control_character") || err.contains("control_character"),
                "{out} {err}"
            );
            assert_printable(&out);
            assert_printable(&err);
        }
    }
    // A subject CN with ESC, BEL, CR, LF, NUL and U+202E reads (a DN may
    // hold any UTF-8), and prints escaped in text and JSON.
    let cn = "evil\u{1b}[31m\u{7}\r\nINJECTED\0\u{202e}gpj.exe";
    let path = dir.join("cn.pem");
    std::fs::write(&path, odd_cert(cn, vec![])).unwrap();
    let (code, out, err) = run(&["inspect", p(&path)], None);
    assert_eq!(code, 0, "{out} {err}");
    assert_printable(&out);
    assert!(
        out.contains("evil\\1B[31m\\07\\0D\\0AINJECTED\\00\\E2\\80\\AEgpj.exe"),
        "{out}"
    );
    // JSON keeps the value (a reader decodes the \u escapes back to it)
    // while its text holds no raw control or override.
    let (code, v) = run_json(&["inspect", "--json", p(&path)], None);
    assert_eq!(code, 0);
    assert_eq!(v["certificates"][0]["subject_cn"][0], cn);
    let (_, raw, _) = run(&["inspect", "--json", p(&path)], None);
    assert_printable(&raw);
    assert!(raw.contains("\\u202e"), "{raw}");
}

#[test]
fn check_names_the_troubleshooting_symptoms() {
    let dir = scratch("symptoms");
    let policy = write_policy(
        &dir,
        "[[allow]]\nname = \"pinned\"\nthumbprint = [\"0000000000000000000000000000000000000000000000000000000000000000\"]\n",
    );
    let pem = std::fs::read_to_string(cert("client-rsa.pem")).unwrap();
    let (_, header, _) = run(
        &[
            "header",
            "--format",
            "nginx",
            "--cert",
            p(&cert("client-rsa.pem")),
        ],
        None,
    );
    let cases = [
        (
            "",
            "no certificate reached the app",
            "clientCertificateMode",
        ),
        (
            pem.as_str(),
            "this is a PEM certificate, not a header value",
            "xfcc header --cert",
        ),
        (header.trim(), "a bare Cert= value", "--format nginx"),
        (
            "X-Forwarded-Client-Cert: Hash=ab",
            "the header's name was pasted",
            "value only",
        ),
    ];
    for (value, says, fix) in cases {
        let (code, v) = check_json(&policy, "2030-01-01T00:00:00Z", &["-"], Some(value));
        let hint = v["hint"].as_str().unwrap_or_default();
        assert_eq!(code, 1, "{v}");
        assert!(
            hint.contains(says) && hint.contains(fix),
            "{value:.20}: {hint}"
        );
    }
    // The bare Cert= hint's advice holds: read as nginx's form, the same
    // value decodes, and only the policy's pin refuses it.
    let (code, v) = run_json(
        &[
            "check",
            "--json",
            "--format",
            "nginx",
            "--policy",
            p(&policy),
            "--at",
            "2030-01-01T00:00:00Z",
            "-",
        ],
        Some(header.trim()),
    );
    assert_eq!((code, v["code"].as_str()), (1, Some("not_allowed")), "{v}");
    // A refusal that is none of them has no hint.
    let (_, v) = check_json(
        &policy,
        "2030-01-01T00:00:00Z",
        &[p(&capture("rsa-leaf-only"))],
        None,
    );
    assert_eq!(v["hint"], Value::Null, "{v}");
}

#[test]
fn probe_refuses_what_it_cannot_judge() {
    // A port nothing listens on: the baseline fails, and without a client
    // certificate the message names the ingress that requires one.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}/cert-info");
    let root = cert("root.pem");
    let victim = cert("client-rsa.pem");
    let (code, v) = run_json(
        &[
            "probe",
            "--json",
            &url,
            "--victim",
            p(&victim),
            "--cacert",
            p(&root),
            "--timeout",
            "2",
        ],
        None,
    );
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (2, Some("baseline_failed")),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("clientCertificateMode require")
    );
    // --cert without --key, a victim that is no certificate, a bad URL.
    for args in [
        vec!["probe", &url, "--victim", p(&victim), "--cert", p(&victim)],
        vec![
            "probe",
            &url,
            "--victim",
            p(&root).replace("root.pem", "nope.pem").leak(),
        ],
        vec!["probe", "ftp://x/", "--victim", p(&victim)],
        vec![
            "probe",
            &url,
            "--victim",
            p(&victim),
            "--plain",
            "https://127.0.0.1:1/",
        ],
    ] {
        let (code, _, _) = run(&args, None);
        assert_eq!(code, 2, "{args:?}");
    }
}

#[test]
fn doctor_gives_each_policy_warning_its_own_code_and_fix() {
    let dir = scratch("warning-codes");
    let policy = write_policy(
        &dir,
        "proxy_verifies_chain = true\nmode = \"accept\"\n[elements]\ncount = 0\n[[allow]]\nname = \"names\"\nsubject_cn = [\"x\"]\n",
    );
    let (_, v) = run_json(
        &[
            "doctor",
            "--json",
            "--app",
            p(&doctor_fixture("app-require.json")),
            "--policy",
            p(&policy),
        ],
        None,
    );
    let by_code = |code: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .map(|f| f["fix"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {code} in {v}"))
    };
    assert!(by_code("names_only_rule").contains("`thumbprint` or `chain` to rule \"names\""));
    assert!(by_code("accept_mode").contains("mode = \"require\""));
    assert!(by_code("elements_without_by").contains("by = "));
}

/// Runs xfcc with stdin closed to /dev/null (as from a terminal with
/// nothing piped); returns (exit code, stdout).
fn run_no_stdin(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("xfcc"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn check_without_a_value_lints_the_policy_alone() {
    let dir = scratch("lint-only");
    let policy = write_policy(
        &dir,
        "proxy_verifies_chain = true\nmode = \"accept\"\n[[allow]]\nname = \"names\"\nsubject_cn = [\"client-app.contoso.example\"]\n",
    );
    let (code, out) = run_no_stdin(&["check", "--policy", p(&policy)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("builds (2 warnings)"), "{out}");
    // Each warning with its own code and a fix valid in the policy's mode.
    assert!(out.contains("warning [names_only_rule]"), "{out}");
    assert!(out.contains("warning [accept_mode]"), "{out}");
    assert!(out.contains("fix: mode = \"require\""), "{out}");
    let (code, out) = run_no_stdin(&["check", "--json", "--policy", p(&policy)]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, &v["builds"]), (0, &serde_json::json!(true)));
    assert_eq!(v["warnings"][1]["code"], "accept_mode");
    // A policy that does not build is still exit 2.
    let bad = write_policy(&dir, "[[allow]]\nname = \"x\"\n");
    assert_eq!(run_no_stdin(&["check", "--policy", p(&bad)]).0, 2);
}

#[test]
fn help_lists_every_format_and_json_usage_errors_keep_their_detail() {
    for sub in ["inspect", "check", "header"] {
        let (code, out, _) = run(&[sub, "--help"], None);
        assert_eq!(code, 0);
        for f in [
            "envoy",
            "rfc9440",
            "nginx",
            "traefik",
            "alb",
            "app-service",
            "gorouter",
            "haproxy",
            "caddy",
        ] {
            assert!(out.contains(f), "{sub} --help does not list {f}");
        }
    }
    let (code, v) = run_json(&["inspect", "--json", "--format", "pound"], None);
    assert_eq!(code, 2);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("pound") && message.contains("--format"),
        "{message}"
    );
}

#[test]
fn header_reads_a_der_certificate_as_it_reads_pem() {
    let (code, from_pem, _) = run(&["header", "--cert", p(&cert("client-rsa.pem"))], None);
    assert_eq!(code, 0);
    let (code, from_der, err) = run(&["header", "--cert", p(&cert("client-rsa.der"))], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(from_der, from_pem);
}

#[test]
fn check_names_the_anchor_set_and_anchor_that_verified_the_chain() {
    let dir = scratch("anchor");
    let policy = write_policy(
        &dir,
        "[[allow]]\nname = \"partner\"\nissuer_cn = [\"Contoso Issuing CA 1\"]\nchain = \"contoso\"\n[chain.contoso]\ntrust_anchors = \"ca.pem\"\n",
    );
    let (code, v) = check_json(&policy, AT, &[p(&capture("rsa-chain"))], None);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["anchor_set"], "contoso");
    assert_eq!(v["anchor"], "CN=Contoso Test Root CA,O=Contoso,C=US");
    let (code, out, _) = check_text(&policy, AT, p(&capture("rsa-chain")));
    assert_eq!(code, 0);
    assert!(
        out.contains("chain verified to anchor set \"contoso\", anchor CN=Contoso Test Root CA"),
        "{out}"
    );
}

#[test]
fn check_shows_the_library_hint_for_a_two_proxy_header() {
    let dir = scratch("two-proxy-hint");
    let policy = write_policy(
        &dir,
        "proxy_verifies_chain = true\n[[allow]]\nname = \"r\"\nsubject_cn = [\"client-app.contoso.example\"]\n",
    );
    let one = std::fs::read_to_string(capture("rsa-chain")).unwrap();
    let (code, v) = check_json(
        &policy,
        AT,
        &["-"],
        Some(&format!("{},{}", one.trim_end(), one.trim_end())),
    );
    assert_eq!(
        (code, v["code"].as_str()),
        (1, Some("too_many_elements")),
        "{v}"
    );
    let hint = v["hint"].as_str().unwrap();
    assert!(
        hint.contains("holds 2 element(s)") && hint.contains("count"),
        "{hint}"
    );
}

/// Envoy 1.38+: the JSON form and the `Issuer` key, read by `inspect` and
/// `check`, written by `header`.
#[test]
fn the_json_form_and_issuer_are_read_and_written() {
    // inspect: the form, the issuer, and the issuer compared.
    let (code, v) = run_json(&["inspect", "--json", p(&capture("json/rsa-chain"))], None);
    assert_eq!(code, 0, "{v}");
    let e = &v["elements"][0];
    assert_eq!(e["form"], "json");
    assert_eq!(e["issuer"], "CN=Contoso Issuing CA 1,O=Contoso,C=US");
    assert_eq!(e["by"][0], "spiffe://xfcc.test/ns/edge/sa/envoy");
    let (code, out, _) = run(&["inspect", p(&capture("json/rsa-chain"))], None);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("format: envoy, JSON form (1 element)"),
        "{out}"
    );
    for name in ["json/rsa-chain", "issuer/rsa-chain"] {
        let edited = std::fs::read_to_string(capture(name))
            .unwrap()
            .replace("CN=Contoso Issuing CA 1", "CN=Someone Else");
        let (code, v) = run_json(&["inspect", "--json", "-"], Some(&edited));
        assert_eq!(code, 1, "{name}");
        assert_eq!(
            v["elements"][0]["problems"],
            serde_json::json!(["issuer_mismatch"]),
            "{name}"
        );
    }
    // check: allowed as the client, and the forced JSON's forgery refused.
    let dir = scratch("json-form");
    let policy = write_policy(
        &dir,
        "proxy_verifies_chain = true\n[[allow]]\nname = \"client\"\nsubject_cn = [\"client-app.contoso.example\"]\n",
    );
    let (code, v) = check_json(&policy, AT, &[p(&capture("json/rsa-chain"))], None);
    assert_eq!((code, &v["allowed"]), (0, &serde_json::json!(true)), "{v}");
    let (code, v) = check_json(&policy, AT, &[p(&capture("issuer/rsa-chain"))], None);
    assert_eq!((code, &v["allowed"]), (0, &serde_json::json!(true)), "{v}");
    let (code, v) = check_json(&policy, AT, &[p(&capture("json/client-forced-json"))], None);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["allowed"], false);
    // A JSON header that does not read names the form.
    let (code, v) = check_json(&policy, AT, &["-"], Some("[,{\"uri\":[\"a\"]}]"));
    assert_eq!(code, 1);
    assert!(v.to_string().contains("JSON form"), "{v}");
    // header: the JSON form, byte for byte what Envoy writes (but `by`).
    let (code, out, _) = run(
        &[
            "header",
            "--cert",
            p(&cert("client-rsa-chain.pem")),
            "--fields",
            "hash,cert,chain,subject,uri,dns,issuer",
            "--json-format",
        ],
        None,
    );
    assert_eq!(code, 0);
    let captured = std::fs::read_to_string(capture("json/rsa-chain")).unwrap();
    let without_by = captured.replacen("\"by\":[\"spiffe://xfcc.test/ns/edge/sa/envoy\"],", "", 1);
    assert_eq!(out.trim_end(), without_by);
    let (code, _, err) = run(
        &[
            "header",
            "--cert",
            p(&cert("client-rsa.pem")),
            "--json-format",
            "--format",
            "nginx",
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--json-format"), "{err}");
}

/// `xfcc check --env`: the policy from the environment, as the app builds
/// it, replays a header; an error names the variable.
#[test]
fn check_env_replays_a_header_against_the_policy_from_the_environment() {
    let sha256 = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4";
    let env_check = |vars: &[(&str, &str)], stdin: Option<&str>| {
        let mut cmd = Command::cargo_bin("xfcc").unwrap();
        cmd.env_clear()
            .envs(vars.iter().copied())
            .args(["check", "--json", "--env", "--at", AT]);
        if let Some(s) = stdin {
            cmd.write_stdin(s.to_owned());
        }
        let out = cmd.output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code().unwrap(), v)
    };
    let value = std::fs::read_to_string(capture("rsa-chain")).unwrap();
    let (code, v) = env_check(&[("ALLOWED_CERT_THUMBPRINTS", sha256)], Some(&value));
    assert_eq!(
        (code, &v["allowed"], &v["rule"]),
        (0, &Value::Bool(true), &Value::from("thumbprint")),
        "{v}"
    );
    let wrong = std::fs::read_to_string(capture("wrong-cn")).unwrap();
    let (code, v) = env_check(&[("ALLOWED_CERT_THUMBPRINTS", sha256)], Some(&wrong));
    assert_eq!((code, v["code"].as_str()), (1, Some("not_allowed")), "{v}");
    // The recipe's names alone do not build, naming the variable.
    let (code, v) = env_check(
        &[("ALLOWED_CERT_COMMON_NAMES", "client-app.contoso.example")],
        Some(&value),
    );
    assert_eq!(
        (code, v["error"]["detail"].as_str()),
        (2, Some("names_only_rule")),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("environment variable ALLOWED_CERT_COMMON_NAMES"),
        "{v}"
    );
    // --env and --policy are one or the other.
    let (code, _, err) = run(&["check", "--env", "--policy", "p.toml"], None);
    assert_eq!(code, 2, "{err}");
}

/// `xfcc inspect` of a value pasted with its header name says so, as
/// `check` does.
#[test]
fn inspect_of_a_value_pasted_with_its_header_name_gives_the_hint() {
    let value = std::fs::read_to_string(capture("rsa-chain")).unwrap();
    let (code, _, err) = run(
        &["inspect", "-"],
        Some(&format!("X-Forwarded-Client-Cert: {value}")),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the header's name was pasted with its value"),
        "{err}"
    );
    let (code, v) = run_json(
        &["inspect", "--json", "-"],
        Some(&format!("x-forwarded-client-cert: {value}")),
    );
    assert_eq!(code, 1);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hint: the header's name was pasted"),
        "{v}"
    );
}

/// `xfcc check` shows what the certificate holds for a failed extension or
/// policy constraint, as the rejection log's findings do.
#[test]
fn check_shows_the_leafs_extension_values_for_a_failed_extension_rule() {
    let dir = scratch("seen");
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        "proxy_verifies_chain = true\n[[allow]]\nname = \"x\"\nsubject_cn = [\"client-app.contoso.example\"]\nextension = [\"1.3.6.1.4.1.311.20.2\"]\ncertificate_policies = [\"2.23.140.1.2.1\"]\n",
    )
    .unwrap();
    let (code, v) = check_json(&policy, AT, &[p(&capture("rsa-chain"))], None);
    assert_eq!(code, 1, "{v}");
    let seen: Vec<&str> = v["explain"]["rules"][0]["seen"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        seen,
        [
            "certificate_policies: none",
            "extension 1.3.6.1.4.1.311.20.2: absent"
        ],
        "{v}"
    );
    let (code, out, _) = check_text(&policy, AT, p(&capture("rsa-chain")));
    assert_eq!(code, 1);
    assert!(
        out.contains("the certificate has extension 1.3.6.1.4.1.311.20.2: absent"),
        "{out}"
    );
}

/// `crl_urls` work from the CLI (it is built with `crl-fetch`): a CRL
/// fetched from a loopback server refuses the certificate it revokes.
#[test]
fn check_fetches_the_crls_a_policy_names() {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
        ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
        RevokedCertParams, SerialNumber, date_time_ymd,
    };
    use std::io::{Read, Write};
    use xfcc::{inspect::CertIdentity, render::EnvoyFields};

    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "CLI Fetch CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let ca_pem = params.self_signed(&key).unwrap().pem();
    let issuer = Issuer::new(params, key);
    let leaf = |serial: u64| {
        let mut l = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
        l.distinguished_name
            .push(DnType::CommonName, "client.example");
        l.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        l.serial_number = Some(SerialNumber::from(serial));
        let c = l.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
        CertIdentity::from_der(c.der().to_vec()).unwrap()
    };
    let (revoked, fine) = (leaf(1001), leaf(1002));
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 1, 1),
        next_update: date_time_ymd(2045, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(revoked.serial()),
            revocation_time: date_time_ymd(2025, 6, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap()
    .der()
    .to_vec();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                crl.len()
            );
            let _ = conn
                .write_all(head.as_bytes())
                .and_then(|()| conn.write_all(&crl));
        }
    });
    let dir = scratch("crl-fetch");
    std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[allow]]\nname = \"partner\"\nsubject_cn = [\"client.example\"]\nchain = \"ca\"\n[chain.ca]\ntrust_anchors = \"ca.pem\"\ncrl_urls = [\"{url}\"]\n"
        ),
    )
    .unwrap();
    let header = |c: &CertIdentity| xfcc::render::render_envoy(&[], c, &[], EnvoyFields::ACA);
    let (code, v) = run_json(
        &["check", "--json", "--policy", p(&policy), "-"],
        Some(&header(&fine)),
    );
    assert_eq!((code, &v["allowed"]), (0, &Value::Bool(true)), "{v}");
    let (code, v) = run_json(
        &["check", "--json", "--policy", p(&policy), "-"],
        Some(&header(&revoked)),
    );
    assert_eq!(
        (code, v["code"].as_str(), v["detail"].as_str()),
        (1, Some("chain_invalid"), Some("revoked")),
        "{v}"
    );
}

/// `xfcc doctor --proxy` reads each Envoy cluster's upstream
/// `transport_socket`: whether Envoy presents a certificate to the app,
/// and, with a policy that names its proxies by certificate, whether the
/// policy trusts the one it presents.
#[test]
fn doctor_checks_the_certificate_envoy_presents_upstream() {
    let dir = scratch("doctor-upstream");
    // The proxy's certificate (and its key, which the doctor never reads),
    // made here: no private key is published with the crate.
    let made = rcgen::CertificateParams::new(vec!["envoy.internal".to_owned()])
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let edge = dir.join("edge.pem");
    std::fs::write(&edge, made.pem()).unwrap();
    let other = cert("client-rsa.pem");
    let cluster = |name: &str, tls: &str| {
        format!(
            "  - name: {name}\n    connect_timeout: 1s\n    load_assignment: {{cluster_name: {name}, endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 8000}}}}}}}}]}}]}}\n{tls}"
        )
    };
    let with_cert = |file: &Path| {
        format!(
            "    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n        common_tls_context:\n          tls_certificates:\n          - certificate_chain: {{filename: \"{}\"}}\n            private_key: {{filename: \"{}\"}}\n",
            file.display(),
            file.with_extension("key").display()
        )
    };
    let no_cert = "    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n        sni: app\n";
    let listener = "static_resources:\n  listeners:\n  - name: l\n    filter_chains:\n    - filters:\n      - name: envoy.filters.network.http_connection_manager\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          forward_client_cert_details: SANITIZE_SET\n          set_current_client_cert_details: {cert: true}\n          route_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: [{match: {prefix: /}, route: {cluster: edge}}]}]}\n      transport_socket:\n        name: envoy.transport_sockets.tls\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext\n          require_client_certificate: true\n          common_tls_context:\n            validation_context: {trusted_ca: {filename: ca.pem}}\n  clusters:\n";
    let config = dir.join("envoy.yaml");
    std::fs::write(
        &config,
        format!(
            "{listener}{}{}{}{}",
            cluster("edge", &with_cert(&edge)),
            cluster("plain", ""),
            cluster("nocert", no_cert),
            cluster("stranger", &with_cert(&other)),
        ),
    )
    .unwrap();
    let pin = xfcc::inspect::CertIdentity::from_der(made.der().to_vec())
        .unwrap()
        .spki_sha256_base64();
    let policy = write_policy(
        &dir,
        &format!(
            "[[trusted_proxies]]\nname = \"edge\"\nspki_sha256 = \"{pin}\"\n[[allow]]\nthumbprint = \"{}\"\n",
            "ab".repeat(32)
        ),
    );
    let (code, f) = doctor(&["--proxy", p(&config), "--policy", p(&policy)]);
    let find = |c: &str| {
        f.iter()
            .find(|(code, _)| code == c)
            .map(|(_, s)| s.as_str())
    };
    assert_eq!(find("envoy_upstream_trusted"), Some("info"), "{f:?}");
    assert_eq!(find("envoy_upstream_plain"), Some("warning"), "{f:?}");
    assert_eq!(find("envoy_upstream_no_cert"), Some("warning"), "{f:?}");
    assert_eq!(find("envoy_upstream_untrusted"), Some("error"), "{f:?}");
    assert_eq!(code, 1);
    // Its fix is the entry that makes it pass: pinned, the stranger is
    // trusted too.
    let (_, v) = run_json(
        &[
            "doctor",
            "--json",
            "--proxy",
            p(&config),
            "--policy",
            p(&policy),
        ],
        None,
    );
    let fix = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "envoy_upstream_untrusted")
        .unwrap()["fix"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger_pin = fix.split('"').nth(3).unwrap().to_owned();
    std::fs::write(
        &policy,
        format!(
            "[[trusted_proxies]]\nname = \"edge\"\nspki_sha256 = \"{pin}\"\n[[trusted_proxies]]\nname = \"stranger\"\nspki_sha256 = \"{stranger_pin}\"\n[[allow]]\nthumbprint = \"{}\"\n",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let (_, f) = doctor(&["--proxy", p(&config), "--policy", p(&policy)]);
    assert!(!codes(&f).contains(&"envoy_upstream_untrusted"), "{f:?}");
    // Without a policy: only what Envoy presents, as information.
    let (_, f) = doctor(&["--proxy", p(&config)]);
    let upstream: Vec<_> = f
        .iter()
        .filter(|(c, _)| c.starts_with("envoy_upstream"))
        .collect();
    assert!(
        !upstream.is_empty()
            && upstream
                .iter()
                .all(|(c, s)| c == "envoy_upstream_cert" && s == "info"),
        "{f:?}"
    );
}
