//! Runs one step of the uncached verify of the ACA header in a loop, for
//! profilers: `valgrind --tool=callgrind target/release/profile-verify
//! [verify|cached|identity|parse] [N]`.
#![expect(clippy::unwrap_used)]

use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "verify".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    match mode.as_str() {
        "identity" => {
            let der = xfcc_benches::leaf_der();
            for _ in 0..n {
                black_box(xfcc::inspect::CertIdentity::from_der(black_box(der.clone())).unwrap());
            }
        }
        "parse" => {
            let header = xfcc_benches::aca_header();
            for _ in 0..n {
                black_box(xfcc::inspect::XfccHeader::parse(black_box(&header)).unwrap());
            }
        }
        _ => {
            let header = xfcc_benches::aca_header();
            let cache = if mode == "cached" { 16 } else { 0 };
            let policy = xfcc_benches::allowlist_policy(cache);
            for _ in 0..n {
                black_box(policy.verify(black_box(&header)).unwrap());
            }
        }
    }
}
