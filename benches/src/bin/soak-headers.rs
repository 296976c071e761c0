//! Writes what `benches/soak.sh` sends: a policy (the README's chain
//! policy: issuer and subject names plus a chain to the fixture root) and
//! one file per header, named `NN-<status>-<name>.txt` with the status the
//! service must answer (`403` may also be `431` when a framework refuses
//! the header's size before the layer sees it).
//!
//! Usage: `soak-headers DIR`
#![expect(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../crates/xfcc/tests/support/attack.rs"]
mod attack;

use std::path::PathBuf;

/// The fixture certificates `attack` reads.
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/xfcc/tests/fixtures/certs"
);

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: soak-headers DIR"));
    let headers_dir = dir.join("headers");
    std::fs::create_dir_all(&headers_dir).unwrap();
    std::fs::write(dir.join("ca.pem"), attack::root_pem()).unwrap();
    std::fs::write(
        dir.join("policy.toml"),
        "[[allow]]\nname = \"partner\"\nissuer_cn = [\"Contoso Issuing CA 1\"]\n\
         subject_cn = [\"client-app.contoso.example\"]\nchain = \"contoso\"\n\
         [chain.contoso]\ntrust_anchors = \"ca.pem\"\n",
    )
    .unwrap();
    let capture = xfcc_benches::capture;
    let mut headers: Vec<(&str, u16, String)> = vec![
        ("valid-envoy", 200, capture("rsa-chain")),
        ("wrong-cn", 403, capture("wrong-cn")),
        (
            "self-signed-lookalike",
            403,
            capture("self-signed-lookalike"),
        ),
        ("spoofed-multi-element", 403, capture("injection-uri")),
        ("ec-p384-other-issuer", 403, capture("p384")),
        ("garbage", 403, "Hash=zz;Cert=\"garbage\"".to_owned()),
        ("oversized-70000", 403, "A".repeat(70_000)),
    ];
    for (name, header, _) in attack::attacks() {
        headers.push((name, 403, header));
    }
    headers.push((
        "ambiguous-within-limit",
        403,
        attack::ambiguous_within_limit(),
    ));
    for (i, (name, status, header)) in headers.iter().enumerate() {
        std::fs::write(
            headers_dir.join(format!("{i:02}-{status}-{name}.txt")),
            header.trim_end(),
        )
        .unwrap();
    }
    println!("{}", headers.len());
}
