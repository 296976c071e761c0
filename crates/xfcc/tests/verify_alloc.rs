//! What one uncached verify allocates, counted by a counting global
//! allocator. (Its own test binary, so no other test's allocations are
//! counted.)
#![expect(clippy::unwrap_used)]

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The uncached verify of an ACA header allocates what the decoded
/// certificate keeps and little else: no formatting on the way to a
/// decision, names, SANs and EKUs the policy does not read are not
/// built, and URL-encoded text is decoded in a buffer the thread keeps
/// (allocated by the thread's first verify, outside the count). A
/// regression guard (counts, not time): 5 allocations (the two DERs, the
/// list of intermediates, the leaf's shared identity and the decoded
/// certificate) and about 2.7 KiB today, against 38 and 8 KiB before the
/// leaf was read lazily, for a 4.7 KB header carrying two certificates; 12
/// with the `metrics` feature, whose label sets allocate (the rule's and
/// the anchor set's names are owned label values).
#[test]
fn uncached_verify_allocates_a_bounded_amount() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let full = std::fs::read_to_string(root.join("envoy/rsa-chain.txt")).unwrap();
    let aca = format!("{};", full.split(";Subject=").next().unwrap());
    let leaf = xfcc::inspect::CertIdentity::from_der(
        std::fs::read(root.join("certs/client-rsa.der")).unwrap(),
    )
    .unwrap();
    let t = leaf.not_before() + std::time::Duration::from_secs(86_400);
    let policy = xfcc::Policy::builder()
        .cache(0)
        .clock(move || t)
        .allow(
            xfcc::Rule::new("partner")
                .issuer_cn(["Contoso Issuing CA 1"])
                .thumbprint([leaf.sha256_hex()]),
        )
        .build()
        .unwrap();
    // Once outside the region: lazily initialised statics are not counted.
    policy.verify(&aca).unwrap();
    let region = Region::new(GLOBAL);
    let cert = policy.verify(&aca).unwrap();
    let stats = region.change();
    assert_eq!(cert.sha256(), leaf.sha256());
    let most = if cfg!(feature = "metrics") { 12 } else { 6 };
    assert!(stats.allocations + stats.reallocations <= most, "{stats:?}");
    assert!(stats.bytes_allocated <= 2 * aca.len(), "{stats:?}");
}
