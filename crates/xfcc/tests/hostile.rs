//! The hostile table through the core's own verdict (`Policy::decide`), as
//! an adapter with the table's open path would translate it: the reference
//! every adapter's runner is held to.
#![cfg(feature = "toml")]
#![expect(clippy::unwrap_used)]

#[path = "support/hostile.rs"]
mod hostile;

use std::path::PathBuf;

use hostile::{Answer, Case};
use serde_json::json;
use xfcc::{Policy, outcome::Outcome};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn run(case: &Case, open: &str) -> Answer {
    if case.path.split('?').next() == Some(open) {
        return Answer {
            status: 200,
            body: json!({"open": true}),
        };
    }
    let policy = Policy::from_toml_str(&case.policy_toml, ".").unwrap();
    let verdict = policy.decide(case.peer, |name| {
        case.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect::<Vec<_>>()
    });
    let served = if case.websocket { 101 } else { 200 };
    match verdict.into_outcome() {
        Outcome::Allow(cert) => Answer {
            status: served,
            body: json!({"protected": true, "cn": cert.map(|c| c.subject_cns().map(str::to_owned).collect::<Vec<_>>())}),
        },
        Outcome::Report(r) => Answer {
            status: served,
            body: json!({"protected": true, "cn": null, "would_deny": r.code()}),
        },
        Outcome::Refuse(r) => Answer {
            status: r.status(),
            body: serde_json::from_str(&r.json_body()).unwrap(),
        },
        _ => unreachable!("a new outcome the runner does not know"),
    }
}

#[test]
fn the_core_decides_every_row_of_the_hostile_table() {
    let open = hostile::open_path(&fixtures());
    hostile::run_all(&fixtures(), "core", |case| run(case, &open));
}
