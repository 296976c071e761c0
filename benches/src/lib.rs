//! Shared inputs for the workspace benchmarks: real Envoy captures and the
//! ACA-style header built from them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/xfcc/tests/fixtures")
}

/// A header captured from Envoy (`crates/xfcc/tests/fixtures/envoy/<name>.txt`).
pub fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt"))).unwrap()
}

/// DER of the RSA-2048 client certificate.
pub fn leaf_der() -> Vec<u8> {
    std::fs::read(fixtures().join("certs/client-rsa.der")).unwrap()
}

/// What Azure Container Apps sends: `Hash=…;Cert="…";Chain="…";` (RSA-2048
/// leaf plus its issuing CA), cut from a real Envoy capture.
pub fn aca_header() -> String {
    let full = capture("rsa-chain");
    let start = full.find("Hash=").unwrap();
    let end = full.find(";Subject=").unwrap();
    format!("{};", &full[start..end])
}

/// `Hash=…;Cert="…"` only.
pub fn cert_only_header() -> String {
    let aca = aca_header();
    aca[..aca.find(";Chain=").unwrap()].to_owned()
}

/// Three hops: the two-hop capture with the single-hop one in front.
pub fn three_hop() -> String {
    format!("{},{}", capture("rsa-chain"), capture("two-hop"))
}
