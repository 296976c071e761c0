//! `xfcc doctor --proxy` on whole configurations of the four proxies, kept
//! as files in `tests/fixtures/proxies/` (each one accepted by its proxy:
//! `.ci/e2e.py` checks them with the real binaries and proves each mistake
//! through the real proxy). Every file says in its first lines what the
//! doctor must report.
#![expect(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const KINDS: [&str; 4] = ["nginx", "haproxy", "caddy", "envoy"];

fn corpus() -> Vec<(&'static str, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proxies");
    let mut out = Vec::new();
    for kind in KINDS {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "meta"))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (kind, f)));
    }
    out
}

fn header_line<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .take(5)
        .find_map(|l| l.strip_prefix(key).map(str::trim))
}

/// A corpus file's text for its `# doctor:` and `# e2e:` lines: the file,
/// or for Caddy's JSON (which has no comments, and which Caddy refuses
/// with any member it does not know) the `NAME.json.meta` beside it.
fn meta_text(path: &Path) -> String {
    let meta = path.with_file_name(format!(
        "{}.meta",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::read_to_string(&meta).unwrap_or_else(|_| std::fs::read_to_string(path).unwrap())
}

/// `xfcc doctor --json --proxy-kind KIND --proxy FILE [extra]`: the exit
/// code and the findings as (code, severity, message, fix).
fn doctor(kind: &str, file: &Path, extra: &[&str]) -> (i32, Vec<[String; 4]>) {
    let out = Command::new(env!("CARGO_BIN_EXE_xfcc"))
        .args(["doctor", "--json", "--proxy-kind", kind, "--proxy"])
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let s = |f: &Value, k: &str| f[k].as_str().unwrap_or_default().to_owned();
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| [s(f, "code"), s(f, "severity"), s(f, "message"), s(f, "fix")])
        .collect();
    (out.status.code().unwrap(), findings)
}

fn reported(findings: &[[String; 4]]) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f[1] != "info")
        .map(|f| f[0].clone())
        .collect()
}

#[test]
fn every_configuration_gets_exactly_the_findings_it_names() {
    let mut seen = 0;
    for (kind, file) in corpus() {
        let text = meta_text(&file);
        let expected: BTreeSet<String> = header_line(&text, "# doctor:")
            .unwrap_or_else(|| panic!("{}: no `# doctor:` line", file.display()))
            .split_whitespace()
            .filter(|c| *c != "clean")
            .map(str::to_owned)
            .collect();
        let (code, findings) = doctor(kind, &file, &[]);
        assert_eq!(reported(&findings), expected, "{}", file.display());
        let errors = findings.iter().any(|f| f[1] == "error");
        assert_eq!(code, i32::from(errors), "{}: exit code", file.display());
        // Each finding names its line in the file.
        for f in findings.iter().filter(|f| f[1] != "info") {
            assert!(
                f[2].contains(&format!("{}:", file.display())),
                "{}: {} names no line: {}",
                file.display(),
                f[0],
                f[2]
            );
        }
        seen += 1;
    }
    assert!(seen >= 60, "the corpus shrank to {seen} files");
}

/// The words of a configuration line or a fix, without the punctuation
/// that differs between flow and block style and JSON (`{ } [ ] , ; "`).
fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.replace('"', "")
                .trim_matches(|c| "{}[],;".contains(c))
                .to_owned()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn every_fix_is_what_the_clean_twin_changes() {
    let mut pairs = 0;
    for (kind, bad) in corpus() {
        let name = bad.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".fixed.") {
            continue;
        }
        let (stem, ext) = name.rsplit_once('.').unwrap();
        let twin = bad.with_file_name(format!("{stem}.fixed.{ext}"));
        if !twin.exists() {
            continue;
        }
        pairs += 1;
        let (code, twin_findings) = doctor(kind, &twin, &[]);
        assert!(
            code == 0 && reported(&twin_findings).is_empty(),
            "{}",
            twin.display()
        );
        // The twin's lines less the bad file's, counted (a line the twin
        // repeats from another level is added too).
        let mut before: Vec<String> = std::fs::read_to_string(&bad)
            .unwrap()
            .lines()
            .map(|l| l.trim().to_owned())
            .collect();
        let twin_text = std::fs::read_to_string(&twin).unwrap();
        let mut added = Vec::new();
        for l in twin_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
        {
            match before.iter().position(|b| b == l) {
                Some(i) => {
                    before.remove(i);
                }
                None => added.extend(words(l)),
            }
        }
        let (_, findings) = doctor(kind, &bad, &[]);
        for f in findings.iter().filter(|f| f[1] != "info") {
            let fix = &f[3];
            if let Some(gone) = fix.strip_prefix("remove ") {
                let word = gone.split_whitespace().next().unwrap();
                assert!(
                    !twin_text.contains(word),
                    "{}: the fix {fix:?} but the twin still has {word}",
                    bad.display()
                );
                continue;
            }
            // The fix up to its first placeholder or remark, word by word.
            let core = fix.split(['<', '(']).next().unwrap();
            let want = words(core);
            assert!(!want.is_empty(), "{}: empty fix {fix:?}", bad.display());
            let found = added.windows(want.len()).any(|w| w == want.as_slice());
            assert!(
                found,
                "{}: the fix {fix:?} is not what the twin adds ({added:?})",
                bad.display()
            );
        }
    }
    assert!(pairs >= 28, "only {pairs} pairs");
}

#[test]
fn each_forgeable_class_is_proven_through_the_real_proxy() {
    for (kind, bad) in corpus() {
        let name = bad.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".fixed.") {
            continue;
        }
        let (_, findings) = doctor(kind, &bad, &[]);
        // A file the doctor cannot judge is no forgery class of its own.
        if !findings
            .iter()
            .any(|f| f[1] == "error" && f[0] != "proxy_cannot_judge")
        {
            continue;
        }
        let text = meta_text(&bad);
        let e2e = header_line(&text, "# e2e:")
            .unwrap_or_else(|| panic!("{}: an error class without an e2e proof", bad.display()));
        assert!(e2e.contains("expect=through"), "{}", bad.display());
        let (stem, ext) = name.rsplit_once('.').unwrap();
        let twin_path = bad.with_file_name(format!("{stem}.fixed.{ext}"));
        assert!(twin_path.exists(), "{}: no corrected twin", bad.display());
        let twin = meta_text(&twin_path);
        assert!(
            header_line(&twin, "# e2e:").is_some_and(|l| l.contains("expect=blocked")),
            "{}: the twin has no blocked proof",
            bad.display()
        );
    }
}

fn policy(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn scratch(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-doctor-proxies-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn finding<'a>(findings: &'a [[String; 4]], code: &str) -> &'a [String; 4] {
    findings
        .iter()
        .find(|f| f[0] == code)
        .unwrap_or_else(|| panic!("no {code} in {findings:?}"))
}

fn proxy(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/proxies")
        .join(kind)
        .join(name)
}

const NAMES_ONLY: &str = "proxy_verifies_chain = true\n[[allow]]\nname = \"names\"\nsubject_cn = [\"client-app.contoso.example\"]\n";
const PINNED: &str = "[[allow]]\nname = \"pinned\"\nthumbprint = [\"0000000000000000000000000000000000000000000000000000000000000000\"]\n";

#[test]
fn an_unverifying_proxy_with_a_names_only_rule_is_an_error() {
    let dir = scratch("unverified");
    let names = policy(&dir, "names.toml", NAMES_ONLY);
    let pinned = policy(&dir, "pinned.toml", PINNED);
    let nginx = proxy("nginx", "optional-no-ca.conf");
    let (code, f) = doctor("nginx", &nginx, &["--policy", names.to_str().unwrap()]);
    let u = finding(&f, "nginx_unverified");
    assert_eq!((code, u[1].as_str()), (1, "error"));
    assert!(u[2].contains("\"names\""), "{}", u[2]);
    // The policy's claim that the proxy verifies is named as untrue.
    assert!(
        u[2].contains("proxy_verifies_chain = true is not so"),
        "{}",
        u[2]
    );
    let (code, f) = doctor("nginx", &nginx, &["--policy", pinned.to_str().unwrap()]);
    assert_eq!(
        (code, finding(&f, "nginx_unverified")[1].as_str()),
        (0, "warning")
    );
    // The same pairing for the other proxies' unverified modes.
    for (kind, file, code_name) in [
        ("haproxy", "ignore-errors.cfg", "haproxy_unverified"),
        ("caddy", "mode-request.caddyfile", "caddy_unverified"),
        ("envoy", "no-trusted-ca.yaml", "envoy_unverified"),
    ] {
        let p = policy(&dir, &format!("{kind}.toml"), NAMES_ONLY);
        let (code, f) = doctor(kind, &proxy(kind, file), &["--policy", p.to_str().unwrap()]);
        assert_eq!(
            (code, finding(&f, code_name)[1].as_str()),
            (1, "error"),
            "{kind}"
        );
    }
}

#[test]
fn append_forward_is_judged_with_the_policy() {
    let dir = scratch("append");
    let file = proxy("envoy", "append-forward.yaml");
    let judge = |name: &str, elements: &str| {
        let p = policy(&dir, name, &format!("[elements]\n{elements}\n{PINNED}"));
        let (code, f) = doctor("envoy", &file, &["--policy", p.to_str().unwrap()]);
        (code, finding(&f, "envoy_append_forward")[1].clone())
    };
    // The client's element first, trusted: forgeable.
    assert_eq!(
        judge("first.toml", "count = 0\ntrust = 0"),
        (1, "error".into())
    );
    // Any count, the last element, no `by`: a split element can be last.
    assert_eq!(
        judge("last.toml", "count = 0\ntrust = -1"),
        (1, "error".into())
    );
    // Tied to this proxy: what the fix recommends.
    assert_eq!(
        judge(
            "by.toml",
            "count = 0\ntrust = -1\nby = \"spiffe://xfcc.test/ns/edge/sa/envoy\""
        ),
        (0, "info".into())
    );
    // Exactly one element: a client's own header makes two, refused.
    assert_eq!(judge("one.toml", "count = 1"), (0, "info".into()));
    // Without a policy it cannot be judged: a warning that says so.
    let (code, f) = doctor("envoy", &file, &[]);
    assert_eq!(
        (code, finding(&f, "envoy_append_forward")[1].as_str()),
        (0, "warning")
    );
}

#[test]
fn uri_fields_with_a_many_element_policy_can_be_split() {
    let dir = scratch("split");
    let text = std::fs::read_to_string(proxy("envoy", "forward-only.fixed.yaml"))
        .unwrap()
        .replace("{cert: true, chain: true}", "{cert: true, uri: true}");
    let file = policy(&dir, "envoy.yaml", &text);
    let many = policy(
        &dir,
        "many.toml",
        &format!("[elements]\ncount = 0\ntrust = -1\n{PINNED}"),
    );
    let (code, f) = doctor("envoy", &file, &["--policy", many.to_str().unwrap()]);
    assert_eq!(
        (code, finding(&f, "envoy_split_elements")[1].as_str()),
        (1, "error")
    );
    let one = policy(&dir, "one.toml", PINNED);
    let (code, f) = doctor("envoy", &file, &["--policy", one.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!f.iter().any(|f| f[0] == "envoy_split_elements"));
}

#[test]
fn the_header_the_app_reads_is_the_one_checked() {
    // The app reads X-Forwarded-Client-Cert, and nginx sets only
    // X-SSL-Client-Cert: the client's own XFCC reaches it.
    let file = proxy("nginx", "add-header.fixed.conf");
    let (code, f) = doctor("nginx", &file, &["--header", "X-Forwarded-Client-Cert"]);
    assert_eq!(code, 1);
    assert!(finding(&f, "nginx_header_not_set")[2].contains("x-forwarded-client-cert"));
    let (code, _) = doctor("nginx", &file, &["--header", "X-SSL-Client-Cert"]);
    assert_eq!(code, 0);
}

/// The fenced blocks of `lang` in the guide's "Behind your proxy" page.
fn readme_blocks(readme: &str, lang: &str) -> Vec<String> {
    let section = readme;
    let fence = format!("```{lang}\n");
    section
        .split(&fence)
        .skip(1)
        .map(|b| b[..b.find("```").unwrap()].to_owned())
        .collect()
}

#[test]
fn the_readme_proxy_snippets_are_clean() {
    // The workspace's README; absent when the packaged crate is tested on
    // its own (`.ci/package-test.sh`), where the workspace run covers it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src/proxy.md");
    let Ok(readme) = std::fs::read_to_string(&path) else {
        assert!(
            !Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../Cargo.lock")
                .exists()
        );
        return;
    };
    let dir = scratch("readme");
    std::fs::create_dir_all(&dir).unwrap();
    // Each snippet as the doctor reads a fragment; HAProxy's lines go in a
    // frontend, as the README's text says.
    let mut judged = 0;
    for (lang, kind, wrap) in [
        ("nginx", "nginx", ("", "")),
        (
            "haproxy",
            "haproxy",
            (
                "frontend edge\n",
                "    default_backend app\nbackend app\n    server a 127.0.0.1:8080\n",
            ),
        ),
        ("caddy", "caddy", ("https://svc.example {\n", "}\n")),
        ("yaml", "envoy", ("", "")),
    ] {
        let blocks = readme_blocks(&readme, lang);
        assert!(!blocks.is_empty(), "no {lang} block");
        for (i, b) in blocks.iter().enumerate() {
            let file = dir.join(format!("{lang}-{i}.conf"));
            std::fs::write(&file, format!("{}{b}{}", wrap.0, wrap.1)).unwrap();
            let (code, findings) = doctor(kind, &file, &[]);
            assert!(
                code == 0 && reported(&findings).is_empty(),
                "README {lang} block {i}: {findings:?}"
            );
            judged += 1;
        }
    }
    assert!(judged >= 4);
}

/// Envoy 1.38+: `format: JSON` escapes every value, so a SAN cannot split
/// an element; `issuer: true` forwards what proxy-fields issuer rules read.
#[test]
fn the_json_format_and_issuer_settings_are_read() {
    let dir = scratch("json-issuer");
    let base = std::fs::read_to_string(proxy("envoy", "forward-only.fixed.yaml")).unwrap();
    assert!(base.contains("{cert: true, chain: true}"));
    let with = |details: &str, name: &str| {
        policy(
            &dir,
            name,
            &base.replace("{cert: true, chain: true}", details),
        )
    };
    let many = policy(
        &dir,
        "many.toml",
        &format!("[elements]\ncount = 0\ntrust = -1\n{PINNED}"),
    );
    let many = many.to_str().unwrap();
    // The text form splits; the JSON form does not.
    let (code, f) = doctor(
        "envoy",
        &with("{cert: true, uri: true}", "text.yaml"),
        &["--policy", many],
    );
    assert_eq!(code, 1);
    assert!(f.iter().any(|f| f[0] == "envoy_split_elements"));
    let json = with("{cert: true, uri: true, format: JSON}", "json.yaml");
    let (code, f) = doctor("envoy", &json, &["--policy", many]);
    assert_eq!(code, 0, "{f:?}");
    assert!(!f.iter().any(|f| f[0] == "envoy_split_elements"));
    assert_eq!(finding(&f, "envoy_json_format")[1], "info");
    // A mesh policy whose rule checks the issuer.
    let mesh = policy(
        &dir,
        "mesh.toml",
        "proxy_verifies_chain = true\n[elements]\nidentity_from = \"proxy-fields\"\nby = \"spiffe://xfcc.test/ns/edge/sa/envoy\"\n[[allow]]\nname = \"ca\"\nissuer_cn = [\"Contoso Issuing CA 1\"]\n",
    );
    let mesh = mesh.to_str().unwrap();
    let (code, f) = doctor(
        "envoy",
        &with("{uri: true, dns: true}", "no-issuer.yaml"),
        &["--policy", mesh],
    );
    assert_eq!(code, 1);
    let nf = finding(&f, "envoy_issuer_not_forwarded");
    assert_eq!(nf[1], "error");
    assert!(
        nf[2].contains("ca") && nf[3].contains("issuer: true"),
        "{nf:?}"
    );
    let (code, f) = doctor(
        "envoy",
        &with("{uri: true, dns: true, issuer: true}", "text-issuer.yaml"),
        &["--policy", mesh],
    );
    assert_eq!(code, 0, "{f:?}");
    let tf = finding(&f, "envoy_issuer_text_form");
    assert_eq!(tf[1], "warning");
    assert!(tf[3].contains("format: JSON"), "{tf:?}");
    // The fix the findings recommend: no finding about the issuer.
    let (code, f) = doctor(
        "envoy",
        &with(
            "{uri: true, dns: true, issuer: true, format: JSON}",
            "fixed.yaml",
        ),
        &["--policy", mesh],
    );
    assert_eq!(code, 0, "{f:?}");
    assert!(!f.iter().any(|f| f[0].starts_with("envoy_issuer")), "{f:?}");
}

/// `xfcc doctor --json --proxy-kind KIND --proxy FILE [extra]` with only
/// `env` in its environment: the exit code and the (code, severity) pairs.
fn doctor_env(
    kind: &str,
    file: &Path,
    env: &[(&str, &str)],
    extra: &[&str],
) -> (i32, Vec<(String, String)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_xfcc"))
        .args(["doctor", "--json", "--proxy-kind", kind, "--proxy"])
        .arg(file)
        .args(extra)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let found = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["code"].as_str().unwrap_or_default().to_owned(),
                        f["severity"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (out.status.code().unwrap(), found)
}

/// `--policy-env`: the policy the app builds from its environment (the
/// recipe's variables have no TOML) is judged with the proxy as a file is.
#[test]
fn the_policy_from_the_environment_is_judged_with_the_proxy() {
    let file = proxy("nginx", "optional-no-ca.conf");
    let run = |env: &[(&str, &str)], extra: &[&str]| doctor_env("nginx", &file, env, extra);
    // The recipe's CN list, claimed verified: nginx optional_no_ca does
    // not verify, so a self-signed certificate with that CN is allowed.
    let recipe = [
        ("ALLOWED_CERT_COMMON_NAMES", "client-app.contoso.example"),
        ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
        ("XFCC_FORMAT", "nginx"),
    ];
    let (code, found) = run(&recipe, &["--policy-env"]);
    assert_eq!(code, 1, "{found:?}");
    assert!(
        found.contains(&("nginx_unverified".into(), "error".into())),
        "{found:?}"
    );
    // The same proxy without a policy is a warning only.
    let (code, found) = run(&recipe, &[]);
    assert_eq!(code, 0, "{found:?}");
    assert!(
        found.contains(&("nginx_unverified".into(), "warning".into())),
        "{found:?}"
    );
    // A thumbprint pin from the environment: no error.
    let pinned = [
        (
            "ALLOWED_CERT_THUMBPRINTS",
            "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4",
        ),
        ("XFCC_FORMAT", "nginx"),
    ];
    let (code, found) = run(&pinned, &["--policy-env"]);
    assert_eq!(code, 0, "{found:?}");
    // An environment the app would refuse to start with is reported.
    let (code, found) = run(&[("XFCC_ALLOWED_ISSUER_CN", "x")], &["--policy-env"]);
    assert_eq!(code, 1, "{found:?}");
    assert!(
        found.contains(&("policy_invalid".into(), "error".into())),
        "{found:?}"
    );
    // Not both.
    let (code, _) = run(&recipe, &["--policy-env", "--policy", "p.toml"]);
    assert_eq!(code, 2);
}

/// nginx's URL-encoded PEM in X-Forwarded-Client-Cert is Envoy's header
/// name with nginx's form: a warning unless the policy reads that form.
#[test]
fn nginx_pem_in_the_envoy_header_is_named() {
    let file = proxy("nginx", "pem-in-xfcc.conf");
    let (_, f) = doctor("nginx", &file, &[]);
    let w = finding(&f, "nginx_pem_in_xfcc");
    assert_eq!(w[1], "warning");
    assert!(w[3].contains("XFCC_FORMAT=nginx"), "{w:?}");
    // The fix it names: the app reads nginx's form in that header.
    let app = [
        (
            "ALLOWED_CERT_THUMBPRINTS",
            "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4",
        ),
        ("XFCC_FORMAT", "nginx"),
        ("XFCC_HEADER", "x-forwarded-client-cert"),
    ];
    let (code, found) = doctor_env("nginx", &file, &app, &["--policy-env"]);
    assert_eq!(code, 0, "{found:?}");
    assert!(
        !found.iter().any(|(c, _)| c == "nginx_pem_in_xfcc"),
        "{found:?}"
    );
    assert!(
        found.contains(&("proxy_ok".into(), "info".into())),
        "{found:?}"
    );
}

/// The guide's trusted-proxies page: its Envoy cluster, presenting the
/// certificate a `[[trusted_proxies]]` pin names, is judged trusted, with
/// no warning; without the certificate it is the warning the page names.
#[test]
fn the_guide_s_upstream_cluster_presents_a_trusted_certificate() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src/policy/proxies.md");
    let Ok(text) = std::fs::read_to_string(&page) else {
        assert!(
            !Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../Cargo.lock")
                .exists()
        );
        return;
    };
    let blocks = readme_blocks(&text, "yaml");
    assert_eq!(blocks.len(), 1);
    let dir = scratch("guide-upstream");
    std::fs::create_dir_all(&dir).unwrap();
    // The proxy's certificate, made here (no key is published with the
    // crate; the doctor reads only the certificate).
    let made = rcgen::CertificateParams::new(vec!["envoy.internal".to_owned()])
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let proxy_pem = dir.join("proxy.pem");
    std::fs::write(&proxy_pem, made.pem()).unwrap();
    let cluster = blocks[0]
        .replace("/etc/envoy/proxy.pem", proxy_pem.to_str().unwrap())
        .replace(
            "/etc/envoy/proxy.key",
            dir.join("proxy.key").to_str().unwrap(),
        );
    let listener = "static_resources:\n  listeners:\n  - name: l\n    filter_chains:\n    - filters:\n      - name: envoy.filters.network.http_connection_manager\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          forward_client_cert_details: SANITIZE_SET\n          set_current_client_cert_details: {cert: true, chain: true}\n          route_config: {virtual_hosts: [{name: a, domains: [\"*\"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]}\n      transport_socket:\n        name: envoy.transport_sockets.tls\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext\n          require_client_certificate: true\n          common_tls_context:\n            validation_context: {trusted_ca: {filename: ca.pem}}\n";
    let indented: String = cluster.lines().map(|l| format!("  {l}\n")).collect();
    let file = dir.join("envoy.yaml");
    std::fs::write(&file, format!("{listener}{indented}")).unwrap();
    let pin = xfcc::inspect::CertIdentity::from_der(made.der().to_vec())
        .unwrap()
        .spki_sha256_base64();
    let pol = policy(
        &dir,
        "policy.toml",
        &format!("[[trusted_proxies]]\nname = \"edge\"\nspki_sha256 = \"{pin}\"\n{PINNED}"),
    );
    let (code, f) = doctor("envoy", &file, &["--policy", pol.to_str().unwrap()]);
    assert_eq!(code, 0, "{f:?}");
    assert!(reported(&f).is_empty(), "{f:?}");
    assert_eq!(finding(&f, "envoy_upstream_trusted")[1], "info");
    // The same cluster without its certificate.
    let bare = format!("{listener}{indented}")
        .replace(
            "        tls_certificates:\n",
            "        alpn_protocols: [h2]\n",
        )
        .lines()
        .filter(|l| !l.contains("certificate_chain") && !l.contains("private_key"))
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    std::fs::write(&file, bare).unwrap();
    let (_, f) = doctor("envoy", &file, &["--policy", pol.to_str().unwrap()]);
    assert_eq!(finding(&f, "envoy_upstream_no_cert")[1], "warning");
}
