//! Every policy the READMEs show builds, and draws exactly the warnings
//! the text beside it explains. Each TOML policy block is preceded by a
//! marker, `<!-- policy: warnings = names_only_rule -->` (or `none`); a
//! block without `[[allow]]` is a fragment and is checked with a pinned
//! rule added.
#![cfg(feature = "toml")]
#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use xfcc::config::PolicyConfig;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(line, expected warning codes, TOML)` of every policy block.
fn policies(readme: &Path) -> Vec<(usize, Vec<String>, String)> {
    let text = std::fs::read_to_string(readme).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```toml" {
            i += 1;
            continue;
        }
        let start = i;
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim() != "```")
            .copied()
            .collect();
        i += body.len() + 2;
        if body
            .first()
            .is_some_and(|l| l.starts_with("[dependencies]"))
        {
            continue;
        }
        let marker = lines[..start]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<!-- policy: warnings = "))
            .and_then(|l| l.strip_suffix(" -->"))
            .unwrap_or_else(|| {
                panic!(
                    "{}:{}: a TOML policy without a `<!-- policy: warnings = ... -->` marker",
                    readme.display(),
                    start + 1
                )
            });
        // A block that needs a feature this test run lacks is skipped.
        let (marker, needs_fetch) = match marker.strip_suffix(" (needs crl-fetch)") {
            Some(m) => (m, true),
            None => (marker, false),
        };
        if needs_fetch && !cfg!(feature = "crl-fetch") {
            continue;
        }
        let expected = if marker == "none" {
            Vec::new()
        } else {
            marker.split(", ").map(str::to_owned).collect()
        };
        out.push((start + 1, expected, body.join("\n")));
    }
    out
}

/// The block as a whole policy: a pinned rule for a fragment, and each
/// named anchor set, read from the test CA.
fn whole(toml: &str, ca: &Path) -> String {
    let mut text = toml.to_owned();
    if !text.contains("[[allow]]") {
        text.push_str(&format!(
            "\n[[allow]]\nname = \"pinned\"\nthumbprint = [\"{}\"]\n",
            "ab".repeat(32)
        ));
    }
    let sets: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("chain = \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect();
    for set in sets {
        if !text.contains(&format!("[chain.{set}]")) {
            text.push_str(&format!(
                "\n[chain.{set}]\ntrust_anchors = {:?}\n",
                ca.display().to_string()
            ));
        }
    }
    text
}

#[test]
fn readme_policies_build_with_the_warnings_their_text_explains() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = manifest().join("tests/fixtures/certs/root.pem");
    // The workspace README is not in the packaged crate (its tests also
    // run from the .crate file): checked when it is there.
    let mut readmes: Vec<PathBuf> = [
        manifest().join("../../README.md"),
        manifest().join("README.md"),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .collect();
    // The guide's pages (the workspace's, like its README).
    for dir in ["../../docs/src", "../../docs/src/policy"] {
        if let Ok(entries) = std::fs::read_dir(manifest().join(dir)) {
            let mut pages: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect();
            pages.sort();
            readmes.extend(pages);
        }
    }
    let mut checked = 0;
    for readme in &readmes {
        for (line, expected, toml) in policies(readme) {
            // Every PEM file a block names is the test CA, in the policy's
            // directory.
            for name in toml
                .split('"')
                .filter(|s| s.ends_with(".pem") && !s.contains('/'))
            {
                std::fs::copy(&ca, dir.join(name)).unwrap();
            }
            let text = whole(&toml, &ca);
            let at = format!("{}:{line}", readme.display());
            let policy = PolicyConfig::from_toml_str(&text, &dir)
                .and_then(|c| c.build())
                .unwrap_or_else(|e| panic!("{at}: {e}\n{text}"));
            let got: Vec<&str> = policy
                .warnings()
                .iter()
                .map(xfcc::outcome::Warning::code)
                .collect();
            assert_eq!(got, expected, "{at}: {:?}", policy.warnings());
            checked += 1;
        }
    }
    let least = if readmes.len() == 2 { 8 } else { 1 };
    assert!(checked >= least, "only {checked} policies found");
    std::fs::remove_dir_all(&dir).unwrap();
}
