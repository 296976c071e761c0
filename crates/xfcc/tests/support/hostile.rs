//! The hostile table (`tests/fixtures/hostile.json`), read and judged the
//! same way by every Rust runner: the core's own (`Policy::decide`), the
//! tower layer's and the actix middleware's. The adapter crates hold a
//! copy of this file (`.ci/fixtures.sh` keeps it equal), because each
//! crate's tests also run from its packaged `.crate`.
#![allow(dead_code, unreachable_pub)]

use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;

/// The address a runner's trusted peer has, and the untrusted one's.
pub const TRUSTED: &str = "10.0.0.5";
pub const UNTRUSTED: &str = "192.0.2.7";

/// One row, in one mode.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub report: bool,
    pub websocket: bool,
    pub policy_toml: String,
    pub path: String,
    pub peer: Option<IpAddr>,
    pub headers: Vec<(String, Vec<u8>)>,
    expect: Value,
}

impl Case {
    /// "name (report)" or "name".
    pub fn label(&self) -> String {
        if self.report {
            format!("{} (report)", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// What a runner got back: the status and the JSON body (or `Null`).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// The table's open path.
pub fn open_path(fixtures: &Path) -> String {
    table(fixtures)["open_path"]
        .as_str()
        .unwrap_or("/health")
        .to_owned()
}

fn table(fixtures: &Path) -> Value {
    let text = std::fs::read_to_string(fixtures.join("hostile.json")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Every case the runner `runner` runs, in both modes. A case the file
/// marks unsupported for it is left out only with a reason; the table
/// must not be empty.
pub fn cases(fixtures: &Path, runner: &str) -> Vec<Case> {
    let t = table(fixtures);
    let rows = t["cases"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 20, "the hostile table is missing or short");
    let unsupported = &t["unsupported"][runner];
    let mut out = Vec::new();
    for row in rows {
        let name = row["name"].as_str().unwrap_or_default().to_owned();
        if let Some(reason) = unsupported.get(&name) {
            assert!(
                reason.as_str().is_some_and(|r| r.len() > 10),
                "{runner}: {name} is unsupported without a reason"
            );
            continue;
        }
        let policy = t["policies"][row["policy"].as_str().unwrap_or_default()]
            .as_str()
            .unwrap_or_default()
            .replace("{trusted}", TRUSTED);
        let peer = match row["peer"].as_str() {
            Some("none") => None,
            Some("untrusted") => UNTRUSTED.parse().ok(),
            _ => TRUSTED.parse().ok(),
        };
        let headers: Vec<(String, Vec<u8>)> = row["headers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|h| {
                let n = h[0].as_str().unwrap_or_default().to_owned();
                let v = value(fixtures, h[1].as_str().unwrap_or_default());
                (n, v)
            })
            .collect();
        for report in [false, true] {
            let expect = if report {
                row.get("report")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({"reported_from": row["expect"].clone()}))
            } else {
                row["expect"].clone()
            };
            out.push(Case {
                name: name.clone(),
                report,
                websocket: row["kind"].as_str() == Some("websocket"),
                policy_toml: if report {
                    format!("mode = \"report\"\n{policy}")
                } else {
                    policy.clone()
                },
                path: row["path"].as_str().unwrap_or("/").to_owned(),
                peer,
                headers: headers.clone(),
                expect,
            });
        }
    }
    out
}

/// A header value: `@<capture>` is the core's Envoy capture, `@oversized`
/// 70,000 bytes, `{trusted}` the trusted peer's address.
fn value(fixtures: &Path, v: &str) -> Vec<u8> {
    match v.strip_prefix('@') {
        Some("oversized") => vec![b'A'; 70_000],
        Some(capture) => std::fs::read_to_string(fixtures.join(format!("envoy/{capture}.txt")))
            .unwrap_or_default()
            .trim()
            .as_bytes()
            .to_vec(),
        None => v.replace("{trusted}", TRUSTED).into_bytes(),
    }
}

/// Judges `answer` against the case's expectation.
///
/// # Errors
/// What differs.
pub fn check(case: &Case, answer: &Answer) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{}: {why}: got {} {}",
            case.label(),
            answer.status,
            answer.body
        ))
    };
    let e = &case.expect;
    let error = answer.body["error"].as_str();
    let served = matches!(answer.status, 200 | 101);
    let checked = !answer.body["cn"].is_null() || !answer.body["would_deny"].is_null();
    // Whatever the case: the protected handler never runs unchecked.
    if answer.body["protected"] == true && !checked {
        return fail("the protected handler ran without a verdict");
    }
    if let Some(from) = e.get("reported_from") {
        // Report mode: served, with the would-be refusal's code (or the
        // client, for a case that is allowed).
        let codes = codes_of(from);
        let refused = from["refused"] == true;
        if refused && !served {
            return Ok(());
        }
        if !served {
            return fail("report mode refused");
        }
        return match codes.as_slice() {
            [] if from["status"].as_u64().is_some_and(|s| s < 300) => {
                if answer.body["cn"].is_null() && from["open"] != true {
                    fail("allowed without the client")
                } else {
                    Ok(())
                }
            }
            codes
                if codes
                    .iter()
                    .any(|c| answer.body["would_deny"].as_str() == Some(c)) =>
            {
                Ok(())
            }
            _ => fail("not the would-be refusal"),
        };
    }
    if e["refused_or_reported"] == true {
        return if served && answer.body["would_deny"].is_null() {
            fail("served without a would-be refusal")
        } else {
            Ok(())
        };
    }
    if e["never_unchecked"] == true {
        // Open, or checked: both are fine; the check above holds.
        return Ok(());
    }
    if e["refused"] == true {
        if served {
            return fail("served");
        }
        let codes = codes_of(e);
        return match error {
            Some(c) if !codes.is_empty() && !codes.contains(&c) => fail("another code"),
            _ => Ok(()),
        };
    }
    if let Some(status) = e["status"].as_u64()
        && u64::from(answer.status) != status
    {
        return fail(&format!("status is not {status}"));
    }
    if e["open"] == true && answer.body["open"] != true {
        return fail("not the open handler");
    }
    let codes = codes_of(e);
    if codes.is_empty() {
        if error.is_some() {
            return fail("refused");
        }
        if e["open"] != true && answer.body["cn"].is_null() && answer.status != 101 {
            return fail("allowed without the client");
        }
        return Ok(());
    }
    if error.is_some_and(|c| codes.contains(&c)) {
        Ok(())
    } else {
        fail(&format!("the code is not one of {codes:?}"))
    }
}

fn codes_of(e: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = e["codes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(c) = e["code"].as_str() {
        out.push(c);
    }
    out
}

/// Runs every case with `run` and fails with every difference at once.
pub fn run_all(fixtures: &Path, runner: &str, mut run: impl FnMut(&Case) -> Answer) {
    let cases = cases(fixtures, runner);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(c, &run(c)).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{runner}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
