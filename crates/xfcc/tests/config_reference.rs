//! The settings table is the one place a setting is spelled: the
//! configuration reference is generated from it, and the policy file and
//! the environment read exactly the keys and variables it lists.
#![cfg(feature = "toml")]
#![expect(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use xfcc::config::{PolicyConfig, Setting, SettingType, settings};

fn reference_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("CONFIGURATION.md")
}

fn render() -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         Every setting of a policy: its key in a TOML policy file, its environment\n\
         variable, its type and its default. Generated from `xfcc::config::settings()` by\n\
         `cargo test -p xfcc --test config_reference` (run it with `XFCC_BLESS=1`\n\
         to rewrite this file); do not edit by hand.\n\n\
         | policy file | environment | type | default | meaning |\n\
         |---|---|---|---|---|\n",
    );
    let code = |s: Option<&str>| s.map_or_else(|| "—".to_owned(), |s| format!("`{s}`"));
    for s in settings() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            code(s.toml),
            code(s.env),
            s.ty.describe(),
            s.default,
            s.doc
        ));
    }
    out
}

#[test]
fn the_reference_is_generated_from_the_table() {
    let text = render();
    if std::env::var_os("XFCC_BLESS").is_some() {
        std::fs::write(reference_path(), &text).unwrap();
    }
    let committed = std::fs::read_to_string(reference_path()).unwrap();
    assert_eq!(
        committed, text,
        "CONFIGURATION.md is stale: run XFCC_BLESS=1 cargo test -p xfcc --test config_reference"
    );
}

/// A value of the setting's type, in TOML.
fn sample(s: &Setting) -> String {
    match s.ty {
        SettingType::Text => "\"x\"".to_owned(),
        SettingType::List => "[\"x\"]".to_owned(),
        SettingType::Integer => "1".to_owned(),
        SettingType::Bool => "true".to_owned(),
        SettingType::Choice(names) => format!("{:?}", names[0]),
        _ => panic!("a type the test does not know"),
    }
}

/// `(section header, key)` of a policy-file key.
fn place(toml: &str) -> (&str, &str) {
    match toml.rsplit_once(' ') {
        Some((section, key)) => (section, key),
        None => ("", toml),
    }
}

fn document(section: &str, line: &str) -> String {
    match section {
        "" => format!("{line}\n[[allow]]\nsubject_cn = \"a\"\n"),
        "[[allow]]" => format!("[[allow]]\n{line}\n"),
        "[chain.<set>]" if line.starts_with("trust_anchors ") => format!("[chain.s]\n{line}\n"),
        "[chain.<set>]" => format!("[chain.s]\ntrust_anchors = \"a.pem\"\n{line}\n"),
        "[sources.elements]" => format!("[[sources]]\nname = \"s\"\n[sources.elements]\n{line}\n"),
        "[[sources.trusted_proxies]]" => {
            format!("[[sources]]\nname = \"s\"\n[[sources.trusted_proxies]]\n{line}\n")
        }
        other => format!("{other}\n{line}\n"),
    }
}

#[test]
fn the_policy_file_reads_every_key_of_the_table_and_no_other() {
    let mut sections: std::collections::BTreeMap<&str, BTreeSet<&str>> = Default::default();
    for s in settings() {
        let Some(toml) = s.toml else { continue };
        // A table of its own (`[[trusted_proxies]]`): it holds the keys of
        // `[[allow]]`, and its own.
        if toml.starts_with("[[") && !toml.contains(' ') {
            let text = document(toml, "thumbprint = \"x\"");
            if let Err(e) = PolicyConfig::from_toml_str(&text, ".") {
                panic!("{toml} is in the table but the file refuses it: {e}\n{text}");
            }
            sections.entry(toml).or_default();
            continue;
        }
        let (section, key) = place(toml);
        sections.entry(section).or_default().insert(key);
        let text = document(section, &format!("{key} = {}", sample(s)));
        if let Err(e) = PolicyConfig::from_toml_str(&text, ".") {
            panic!("{toml} is in the table but the file refuses it: {e}\n{text}");
        }
    }
    // The proxies' tables take the keys of `[[allow]]` beside their own.
    let allow = sections.get("[[allow]]").cloned().unwrap_or_default();
    for table in ["[[trusted_proxies]]", "[[sources.trusted_proxies]]"] {
        let own = sections
            .get("[[trusted_proxies]]")
            .cloned()
            .unwrap_or_default();
        let keys = sections.entry(table).or_default();
        keys.extend(allow.iter().copied());
        keys.extend(own);
    }
    // What the reader accepts, as its own error for an unknown key lists it.
    for (section, keys) in sections {
        let text = document(section, "zz_unknown = \"x\"");
        let e = PolicyConfig::from_toml_str(&text, ".")
            .unwrap_err()
            .to_string();
        // serde writes "expected one of `a`, `b`", or "expected `a"` for one.
        let listed = e
            .split("expected one of ")
            .nth(1)
            .or_else(|| e.split("expected ").nth(1))
            .unwrap_or_else(|| panic!("{section}: {e}"));
        let accepted: BTreeSet<&str> = listed
            .split(", ")
            .map(|k| k.trim().trim_matches('`'))
            .map(|k| k.split('`').next().unwrap_or(k))
            .filter(|k| !k.is_empty())
            .collect();
        // `allow`, `chain` and `sources` are the sections themselves.
        let accepted: BTreeSet<&str> = accepted
            .into_iter()
            .filter(|k| {
                let table = (section.is_empty()
                    && matches!(
                        *k,
                        "elements"
                            | "validity"
                            | "revocation"
                            | "allow"
                            | "chain"
                            | "sources"
                            | "trusted_proxies"
                    ))
                    || (section == "[[sources]]" && matches!(*k, "elements" | "trusted_proxies"));
                !table
            })
            .collect();
        assert_eq!(accepted, keys, "section {section:?}");
    }
}

#[test]
fn every_variable_of_the_table_sets_something() {
    for s in settings() {
        let Some(var) = s.env else { continue };
        // The policy file is a file; the log rate, the watch interval and
        // the development server are read beside the policy (by the
        // adapters and the examples).
        if matches!(
            var,
            "XFCC_POLICY_FILE"
                | "XFCC_LOG_RATE"
                | "XFCC_POLICY_WATCH_SECONDS"
                | "XFCC_DEV_SERVER"
                | "ALLOWED_CERT_COMMON_NAMES"
        ) {
            continue;
        }
        // CRLs belong to the anchors' set.
        let base: Vec<(&str, &str)> = if var.starts_with("XFCC_CHAIN_CRL") {
            vec![
                ("ALLOWED_CERT_COMMON_NAMES", "a"),
                ("XFCC_CHAIN_ANCHORS", "ca.pem"),
            ]
        } else {
            vec![("ALLOWED_CERT_COMMON_NAMES", "a")]
        };
        let without = format!("{:?}", PolicyConfig::from_env_pairs(base.clone()).unwrap());
        let value = match s.ty {
            SettingType::Integer => "2".to_owned(),
            SettingType::Choice(names) => names[1].to_owned(),
            SettingType::Bool => "true".to_owned(),
            _ => "x".to_owned(),
        };
        let with = PolicyConfig::from_env_pairs(base.into_iter().chain([(var, value.as_str())]))
            .unwrap_or_else(|e| panic!("{var}: {e}"));
        assert_ne!(format!("{with:?}"), without, "{var} changed nothing");
    }
}
