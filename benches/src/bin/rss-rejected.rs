//! Memory one stranger can make a service hold: 1,000 distinct client
//! certificates of about 40 KB each (the ingress accepts any), each
//! rejected by a cached policy (capacity 1,024, as `Policy::from_env` sets
//! by default). Prints the resident set size before and after, and what the
//! cache holds.
//!
//! Usage: `rss-rejected [COUNT]`
#![expect(clippy::unwrap_used, clippy::expect_used)]

use rcgen::{CertificateParams, DnType, KeyPair};

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(1000, |n| n.parse().expect("count"));
    // Names only, as the recipe's variables (the rejected certificates'
    // cost is what is measured, not what a forger could do).
    let policy = xfcc::Policy::builder()
        .proxy_verifies_chain(true)
        .cache(1024)
        .allow(xfcc::Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    // One key for all: certificates differ by serial and SANs.
    let key = KeyPair::generate().unwrap();
    let headers: Vec<String> = (0..count)
        .map(|i| {
            let sans: Vec<String> = (0..900)
                .map(|j| format!("host-{j:04}.stranger-{i:05}.example"))
                .collect();
            let mut p = CertificateParams::new(sans).unwrap();
            p.distinguished_name
                .push(DnType::CommonName, format!("stranger-{i}"));
            let c =
                xfcc::inspect::CertIdentity::from_der(p.self_signed(&key).unwrap().der().to_vec())
                    .unwrap();
            xfcc::render::render_envoy(&[], &c, &[], {
                let mut f = xfcc::render::EnvoyFields::ACA;
                f.chain = false;
                f
            })
        })
        .collect();
    let bytes: usize = headers.iter().map(String::len).sum();
    // The headers themselves are the request's, not the service's: measure
    // from here.
    let before = rss_kib();
    for h in &headers {
        assert_eq!(policy.verify(h).unwrap_err().code(), "not_allowed");
    }
    let after = rss_kib();
    println!(
        "{count} rejected headers ({} KB each on average): RSS {before} KiB -> {after} KiB (+{} KiB); cache holds {} certificates",
        bytes / count / 1000,
        after.saturating_sub(before),
        policy.cache_len()
    );
}
