//! One place where configuration is validated: what a careless operator
//! writes is refused at start-up, naming the setting, never replaced by a
//! default, ignored, or left to panic at the first request.
#![expect(clippy::unwrap_used)]

#[path = "support/vars.rs"]
mod support_vars;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support_vars::vars;
use xfcc::{ConfigError, ElementCount, Format, Policy, Rule, outcome::ConfigErrorKind};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt"))).unwrap()
}

fn env_var_of(e: &ConfigError) -> Option<&str> {
    e.variable()
}

fn rule() -> Rule {
    Rule::new("r").subject_cn(["client-app.contoso.example"])
}

#[test]
fn invalid_header_names_are_refused_not_replaced() {
    for name in ["X-SSL-Client-Cert:", "x client cert", "", " ", "x-cert\n"] {
        let e = Policy::builder()
            .proxy_verifies_chain(true)
            .header_name(name)
            .allow(rule())
            .build()
            .unwrap_err();
        assert!(
            (e.kind(), &*e.setting()) == (ConfigErrorKind::Value, "header_name"),
            "{name:?}: {e}"
        );
        // (The environment's values are trimmed, as files often end them
        // with a newline.)
        if name.trim_end() == name {
            let e = Policy::from_env_vars(vars(&[
                ("ALLOWED_CERT_COMMON_NAMES", "a"),
                ("XFCC_HEADER", name),
            ]))
            .unwrap_err();
            assert_eq!(env_var_of(&e), Some("XFCC_HEADER"), "{name:?}: {e}");
        }
    }
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .header_name("X-SSL-Client-Cert")
        .allow(rule())
        .build()
        .unwrap();
    assert_eq!(
        p.readings().next().unwrap().header_name(),
        "x-ssl-client-cert"
    );
}

#[cfg(feature = "toml")]
#[test]
fn a_policy_file_refuses_every_variable_it_would_ignore() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.toml");
    std::fs::write(
        &file,
        "proxy_verifies_chain = true\n[[allow]]\nname = \"names\"\nsubject_cn = [\"client-app.contoso.example\"]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    for (var, value) in [
        ("XFCC_CHAIN_ANCHORS", "/etc/ssl/ca.pem"),
        ("XFCC_CHAIN_CRLS", "/etc/ssl/ca.crl"),
        ("XFCC_TRUSTED_BY", "spiffe://edge"),
        ("XFCC_ELEMENT_COUNT", "2"),
        ("XFCC_TRUST_ELEMENT", "-1"),
        ("XFCC_MODE", "accept"),
        ("XFCC_LEEWAY_SECONDS", "30"),
        ("XFCC_PROXY_VERIFIES_CHAIN", "false"),
        ("XFCC_ALLOWED_THUMBPRINTS", &"ab".repeat(32)),
        ("ALLOWED_CERT_COMMON_NAMES", "x"),
    ] {
        let e =
            Policy::from_env_vars(vars(&[("XFCC_POLICY_FILE", file), (var, value)])).unwrap_err();
        assert_eq!(env_var_of(&e), Some(var), "{e}");
        assert!(
            e.to_string()
                .contains("put this setting in the policy file"),
            "{e}"
        );
    }
    // The transport settings apply on top of the file.
    let p = Policy::from_env_vars(vars(&[
        ("XFCC_POLICY_FILE", file),
        ("XFCC_FORMAT", "nginx"),
        ("XFCC_HEADER", "X-SSL-Client-Cert"),
        ("XFCC_CACHE", "0"),
    ]))
    .unwrap();
    assert_eq!(
        (
            p.readings().next().unwrap().format(),
            p.readings().next().unwrap().header_name(),
            p.cache_len()
        ),
        (Format::Nginx, "x-ssl-client-cert", 0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_misspelled_variable_names_the_closest_valid_one() {
    let e = Policy::from_env_pairs([
        ("XFCC_ALLOWED_ISSUER_CN", "Contoso Issuing CA 1"),
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
    ])
    .unwrap_err();
    assert_eq!(env_var_of(&e), Some("XFCC_ALLOWED_ISSUER_CN"));
    assert!(
        e.to_string()
            .contains("did you mean XFCC_ALLOWED_ISSUER_CNS?"),
        "{e}"
    );
    let e = Policy::from_env_pairs([("ALLOWED_CERT_THUMBPRINT", "ab")]).unwrap_err();
    assert!(e.to_string().contains("ALLOWED_CERT_THUMBPRINTS"), "{e}");
    // Other variables are none of ours.
    let p = Policy::from_env_pairs([
        ("PATH", "/bin"),
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
    ]);
    assert!(p.is_ok());
}

#[test]
fn with_nothing_set_the_error_says_what_to_set_and_blames_no_variable() {
    let e = Policy::from_env_vars(vars(&[])).unwrap_err();
    assert_eq!(
        (e.kind(), e.variable()),
        (ConfigErrorKind::NothingSet, None)
    );
    let text = e.to_string();
    assert!(text.contains("set XFCC_POLICY_FILE"), "{text}");
    assert!(!text.starts_with("environment variable"), "{text}");
}

#[test]
fn empty_lists_are_mistakes_not_missing_constraints() {
    // A rule with names and an empty pin would silently become names-only.
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(rule().thumbprint(Vec::<String>::new()))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("thumbprint is an empty list"), "{e}");
    for value in [",", " , ", ""] {
        let e = Policy::from_env_vars(vars(&[
            ("XFCC_ALLOWED_SUBJECT_CNS", "client-app.contoso.example"),
            ("XFCC_ALLOWED_THUMBPRINTS", value),
        ]))
        .unwrap_err();
        assert_eq!(
            env_var_of(&e),
            Some("XFCC_ALLOWED_THUMBPRINTS"),
            "{value:?}: {e}"
        );
    }
    // A recipe variable left empty is an absent alternative, as in the
    // recipes; one of only commas is a mistake.
    assert!(
        Policy::from_env_vars(vars(&[
            ("ALLOWED_CERT_COMMON_NAMES", "a"),
            ("ALLOWED_CERT_THUMBPRINTS", ""),
            ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
        ]))
        .is_ok()
    );
    let e = Policy::from_env_vars(vars(&[
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ("ALLOWED_CERT_THUMBPRINTS", ","),
    ]))
    .unwrap_err();
    assert_eq!(env_var_of(&e), Some("ALLOWED_CERT_THUMBPRINTS"));
    #[cfg(feature = "toml")]
    {
        let e = Policy::from_toml_str(
            "[[allow]]\nname = \"p\"\nsubject_cn = \"client\"\nthumbprint = []\n",
            ".",
        )
        .unwrap_err();
        assert!(e.to_string().contains("thumbprint is an empty list"), "{e}");
    }
}

#[test]
fn leeway_is_bounded_and_time_arithmetic_never_panics() {
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .leeway(Duration::MAX)
        .allow(rule())
        .build()
        .unwrap_err();
    assert_eq!(
        (e.kind(), &*e.setting()),
        (ConfigErrorKind::OutOfRange, "leeway_seconds"),
        "{e}"
    );
    assert!(e.to_string().contains("(at most 86400)"), "{e}");
    let e = Policy::from_env_vars(vars(&[
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ("XFCC_LEEWAY_SECONDS", "18446744073709551"),
    ]))
    .unwrap_err();
    assert_eq!(env_var_of(&e), Some("XFCC_LEEWAY_SECONDS"));
    // The largest leeway, at the edges of time: answers, no panic.
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .leeway(Policy::MAX_LEEWAY)
        .allow(rule())
        .build()
        .unwrap();
    let far = [
        UNIX_EPOCH,
        UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 4),
        SystemTime::now(),
    ];
    for at in far {
        let r = p.verify_at(&capture("rsa-chain"), at);
        assert!(
            r.is_ok() || matches!(r.as_ref().unwrap_err().code(), "expired" | "not_yet_valid"),
            "{r:?}"
        );
    }
}

#[test]
fn settings_the_format_cannot_honour_are_refused() {
    let nginx = || {
        Policy::builder()
            .proxy_verifies_chain(true)
            .format(Format::Nginx)
            .allow(rule())
    };
    for (b, key) in [
        (nginx().trusted_proxy("spiffe://edge"), "by"),
        (nginx().elements(ElementCount::Exactly(2)), "count"),
        (nginx().trust_element(-1), "trust"),
    ] {
        let e = b.build().unwrap_err();
        assert!(
            (e.kind(), &*e.setting()) == (ConfigErrorKind::FormatCannot, key)
                && e.to_string().contains("with the nginx format"),
            "{e}"
        );
    }
    // A chain rule with a format that forwards the leaf alone can only be
    // honoured when the issuing CA is an anchor: allowed, and said.
    #[cfg(feature = "chain")]
    leaf_only_chains_are_allowed_and_said();
}

#[cfg(feature = "chain")]
fn leaf_only_chains_are_allowed_and_said() {
    let root = std::fs::read(fixtures().join("certs/root.pem")).unwrap();
    let leaf_only = Policy::builder()
        .proxy_verifies_chain(true)
        .format(Format::AppService)
        .chain(xfcc::TrustAnchors::new("root", root.clone()))
        .allow(
            Rule::new("chained")
                .issuer_cn(["Contoso Issuing CA 1"])
                .chain("root"),
        )
        .build()
        .unwrap();
    let w = leaf_only
        .warnings()
        .iter()
        .map(|w| w.message())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        w.contains("rule \"chained\": the app-service format forwards the leaf alone"),
        "{w}"
    );
    // Formats that carry a chain accept chain rules.
    for format in [
        Format::Envoy,
        Format::Rfc9440,
        Format::Traefik,
        Format::AwsAlb,
    ] {
        assert!(
            Policy::builder()
                .proxy_verifies_chain(true)
                .format(format)
                .chain(xfcc::TrustAnchors::new("root", root.clone()))
                .allow(Rule::new("chained").issuer_cn(["x"]).chain("root"))
                .build()
                .is_ok(),
            "{format}"
        );
    }
}

#[test]
fn rejected_certificates_never_occupy_the_cache() {
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .cache(64)
        .allow(Rule::new("only").subject_cn(["orders-worker"]))
        .build()
        .unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    for name in [
        "rsa-chain",
        "p384",
        "wrong-cn",
        "many-sans",
        "self-signed-lookalike",
    ] {
        assert_eq!(
            p.verify_at(&capture(name), at).unwrap_err().code(),
            "not_allowed"
        );
    }
    assert_eq!((p.cache_len(), p.cache_bytes()), (0, 0));
    p.verify_at(&capture("p256-two-intermediates"), at).unwrap();
    assert_eq!(p.cache_len(), 1);
    // Weighed by its bytes: the key texts and the certificates.
    let header = capture("p256-two-intermediates");
    assert!(p.cache_bytes() > header.len() as u64, "{}", p.cache_bytes());
}

#[test]
fn the_cache_is_bounded_in_bytes_as_well_as_entries() {
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .cache(1000)
        .cache_max_bytes(64 * 1024)
        .allow(Rule::new("any").issuer_cn(["Contoso Issuing CA 1", "Contoso EC Issuing CA"]))
        .build()
        .unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut total = 0;
    for name in [
        "rsa-chain",
        "p384",
        "wrong-cn",
        "many-sans",
        "utf8-special-subject",
        "no-cn",
        "p256-two-intermediates",
    ] {
        let h = capture(name);
        total += h.len();
        p.verify_at(&h, at).unwrap();
    }
    assert!(total > 30_000, "{total}");
    assert!(p.cache_bytes() <= 64 * 1024, "{}", p.cache_bytes());
    assert!(p.cache_len() < 7, "{}", p.cache_len());
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .cache(8)
        .cache_max_bytes(0)
        .allow(rule())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("cache_max_bytes"), "{e}");
}

#[test]
fn warnings_name_every_weakening_setting() {
    let strong = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("pinned").thumbprint(["ab".repeat(32)]))
        .build()
        .unwrap();
    assert!(strong.warnings().is_empty());
    let weak = Policy::builder()
        .proxy_verifies_chain(true)
        .mode(xfcc::Mode::Accept)
        .elements(ElementCount::Any)
        .leeway(Duration::from_secs(3600))
        .syntax(xfcc::inspect::Syntax::Lenient)
        .allow(rule())
        .build()
        .unwrap();
    let w = weak
        .warnings()
        .iter()
        .map(|w| w.message())
        .collect::<Vec<_>>()
        .join("\n");
    for setting in [
        "rule \"r\" checks only names",
        "mode = \"accept\"",
        "[elements] count",
        "leeway_seconds = 3600",
        "syntax is lenient",
    ] {
        assert!(w.contains(setting), "{setting} missing from:\n{w}");
    }
    // Each its own stable code and fix (the doctor and logs show both).
    let warnings = weak.warnings();
    let codes: Vec<&str> = warnings.iter().map(xfcc::outcome::Warning::code).collect();
    assert_eq!(
        codes,
        [
            "names_only_rule",
            "accept_mode",
            "elements_without_by",
            "long_leeway",
            "lenient_syntax"
        ]
    );
    let fixes: std::collections::BTreeSet<&str> =
        warnings.iter().map(xfcc::outcome::Warning::fix).collect();
    assert_eq!(fixes.len(), warnings.len(), "{warnings:?}");
}

/// Run by `.ci/run` with `--no-default-features --features chain`.
#[cfg(not(feature = "toml"))]
#[test]
fn a_policy_file_without_the_toml_feature_is_refused_not_ignored() {
    let e = Policy::from_env_vars(vars(&[
        ("XFCC_POLICY_FILE", "/etc/xfcc/policy.toml"),
        ("XFCC_HEADER", "x-client-cert"),
    ]))
    .unwrap_err();
    assert_eq!(env_var_of(&e), Some("XFCC_POLICY_FILE"));
    assert!(e.to_string().contains("`toml` feature"), "{e}");
}

#[test]
fn config_errors_have_a_kind_and_name_their_setting() {
    use xfcc::outcome::ConfigErrorKind as K;
    let cases: Vec<(xfcc::ConfigError, K, &str)> = vec![
        (
            Policy::builder()
                .proxy_verifies_chain(true)
                .allow(Rule::new("r").thumbprint(["zz"]))
                .build()
                .unwrap_err(),
            K::Thumbprint,
            "thumbprint",
        ),
        (
            Policy::builder()
                .proxy_verifies_chain(true)
                .elements(ElementCount::Exactly(2))
                .trust_element(5)
                .allow(rule())
                .build()
                .unwrap_err(),
            K::TrustIndex,
            "[elements] trust",
        ),
        (
            Policy::builder()
                .proxy_verifies_chain(true)
                .build()
                .unwrap_err(),
            K::NoRules,
            "[[allow]]",
        ),
        (
            Policy::from_env_vars(vars(&[("XFCC_LEEWAY_SECONDS", "lots")])).unwrap_err(),
            K::Value,
            "XFCC_LEEWAY_SECONDS",
        ),
    ];
    for (e, kind, setting) in cases {
        assert_eq!((e.kind(), e.setting().as_ref()), (kind, setting), "{e}");
        assert!(!kind.code().is_empty());
    }
}

#[test]
fn settings_judged_by_build_still_blame_the_variable_that_holds_them() {
    // None of these is checked while the environment is read: the builder
    // judges them, and the settings table names the variable.
    let cases = [
        ("XFCC_TRUSTED_PEERS", "0.0.0.0/0"),
        ("XFCC_LEEWAY_SECONDS", "86401"),
        ("XFCC_ALLOWED_SAN_DNS", "*.com"),
        ("XFCC_ALLOWED_ISSUER", "not a DN"),
        ("XFCC_HEADER", "x cert"),
    ];
    for (var, value) in cases {
        let e = Policy::from_env_vars(vars(&[
            ("XFCC_ALLOWED_SUBJECT_CNS", "client-app.contoso.example"),
            (var, value),
        ]))
        .unwrap_err();
        assert_eq!(env_var_of(&e), Some(var), "{var}={value}: {e}");
    }
    // A recipe variable's rule blames the recipe variable.
    let e = Policy::from_env_vars(vars(&[("ALLOWED_CERT_FINGERPRINTS", "abcd")])).unwrap_err();
    assert_eq!(env_var_of(&e), Some("ALLOWED_CERT_FINGERPRINTS"), "{e}");
    // The element rules, between two variables: the trusted index blames
    // XFCC_TRUST_ELEMENT.
    let e = Policy::from_env_vars(vars(&[
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ("XFCC_ELEMENT_COUNT", "2"),
        ("XFCC_TRUST_ELEMENT", "2"),
    ]))
    .unwrap_err();
    assert_eq!(env_var_of(&e), Some("XFCC_TRUST_ELEMENT"), "{e}");
    assert_eq!(e.kind(), xfcc::outcome::ConfigErrorKind::TrustIndex);
}

#[cfg(feature = "toml")]
#[test]
fn the_environment_fills_the_structure_a_policy_file_fills() {
    let from_env = xfcc::config::PolicyConfig::from_env_vars(vars(&[
        ("XFCC_ALLOWED_SUBJECT_CNS", "client-app.contoso.example"),
        ("XFCC_ALLOWED_THUMBPRINTS", "aa:bb, cc"),
        ("XFCC_MODE", "Accept"),
        ("XFCC_TRUSTED_PEERS", "10.0.0.0/8"),
    ]))
    .unwrap();
    let from_file = xfcc::config::PolicyConfig::from_toml_str(
        "mode = \"accept\"\ntrusted_peers = [\"10.0.0.0/8\"]\n[[allow]]\nname = \"env\"\n\
         subject_cn = \"client-app.contoso.example\"\nthumbprint = [\"aa:bb\", \"cc\"]\n",
        ".",
    )
    .unwrap();
    assert_eq!(from_env.mode(), from_file.mode());
    assert_eq!(from_env.trusted_peers(), from_file.trusted_peers());
    assert_eq!(from_env.rules(), from_file.rules());
    let rule = &from_env.rules()[0];
    assert_eq!(rule.name(), Some("env"));
    assert_eq!(
        rule.values("thumbprint"),
        Some(&["aa:bb".to_owned(), "cc".to_owned()][..])
    );
    assert_eq!(rule.values("san_dns"), None);
}

#[test]
fn messages_put_the_value_in_quotes_and_the_next_step_after_them() {
    let env = |pairs: &[(&str, &str)]| {
        let mut all = vec![("ALLOWED_CERT_COMMON_NAMES", "a")];
        all.extend_from_slice(pairs);
        Policy::from_env_vars(vars(&all)).unwrap_err().to_string()
    };
    let cases = [
        (
            env(&[("XFCC_TRUSTED_PEERS", "10.0.0.0/33")]),
            "environment variable XFCC_TRUSTED_PEERS: invalid trusted_peers value \"10.0.0.0/33\": a CIDR block such as 10.0.0.0/8",
        ),
        (
            env(&[("XFCC_MODE", "")]),
            "environment variable XFCC_MODE: mode is set to nothing; give it a value or unset it",
        ),
        (
            env(&[("XFCC_MODE", "sometimes")]),
            "invalid mode value \"sometimes\": \"require\", \"accept\" or \"report\"",
        ),
        (
            env(&[("XFCC_FORMAT", "pound")]),
            "invalid format value \"pound\": one of envoy, rfc9440, nginx, traefik, alb, app-service, gorouter, haproxy, caddy",
        ),
        (
            Policy::from_env_pairs([("XFCC_ALLOWED_ISSUER_CN", "x")])
                .unwrap_err()
                .to_string(),
            "environment variable XFCC_ALLOWED_ISSUER_CN: not a variable xfcc reads; did you mean XFCC_ALLOWED_ISSUER_CNS?",
        ),
        (
            Policy::builder()
                .proxy_verifies_chain(true)
                .allow(Rule::new("r").issuer(["Contoso Issuing CA 1"]))
                .build()
                .unwrap_err()
                .to_string(),
            "invalid issuer value \"Contoso Issuing CA 1\": an RFC 4514 distinguished name such as \"CN=Contoso Issuing CA 1,O=Contoso\"; to match a common name alone, use issuer_cn",
        ),
        (
            Policy::builder()
                .proxy_verifies_chain(true)
                .allow(Rule::new("r").san_uri_prefix(["spiffe://contoso.example"]))
                .build()
                .unwrap_err()
                .to_string(),
            "invalid san_uri_prefix value \"spiffe://contoso.example\": end the authority with /, as in spiffe://contoso.example/",
        ),
    ];
    for (got, want) in cases {
        assert!(got.contains(want), "{got}\n  does not contain\n{want}");
    }
}

#[test]
#[cfg(feature = "toml")]
fn report_mode_is_read_from_the_file_and_the_environment_and_warned_about() {
    let from_env = xfcc::Policy::from_env_pairs([
        ("XFCC_MODE", "report"),
        ("XFCC_ALLOWED_SUBJECT_CNS", "client-app.contoso.example"),
        ("XFCC_ALLOWED_THUMBPRINTS", &"ab".repeat(32)),
    ])
    .unwrap();
    assert_eq!(from_env.mode(), xfcc::Mode::Report);
    let from_file = xfcc::config::PolicyConfig::from_toml_str(
        &format!(
            "mode = \"report\"\n[[allow]]\nname = \"r\"\nthumbprint = [\"{}\"]\n",
            "ab".repeat(32)
        ),
        std::path::Path::new("."),
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(from_file.mode(), xfcc::Mode::Report);
    // Its own warning, whose fix is the next step of the rollout.
    for policy in [&from_env, &from_file] {
        let w = policy.warnings();
        let report = w
            .iter()
            .find(|w| w.kind() == xfcc::outcome::WarningKind::ReportMode)
            .unwrap();
        assert_eq!(report.code(), "report_mode");
        assert!(report.message().contains("nothing is refused"), "{report}");
        assert!(report.fix().starts_with("mode = \"require\""), "{report}");
    }
}

#[test]
fn an_error_returned_from_main_reads_as_its_message() {
    // `fn main() -> Result<(), Box<dyn Error>>` prints the error's Debug
    // form: it is the message, then the kind and setting.
    fn main_like() -> Result<(), Box<dyn std::error::Error>> {
        xfcc::Policy::builder()
            .proxy_verifies_chain(true)
            .allow(xfcc::Rule::new("partner").san_uri_prefix(["spiffe"]))
            .build()?;
        Ok(())
    }
    let e = main_like().unwrap_err();
    let debug = format!("Error: {e:?}");
    assert_eq!(
        debug,
        format!("Error: {e} [kind: value; setting: san_uri_prefix]")
    );
    assert!(
        debug.contains("invalid san_uri_prefix value \"spiffe\""),
        "{debug}"
    );
    assert!(
        !debug.contains("Value {") && !debug.contains("Rule {"),
        "{debug}"
    );
}
