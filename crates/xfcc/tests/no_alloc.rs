//! The parse step allocates nothing: a counting global allocator proves it.
//! (Its own test binary, so no other test's allocations are counted.)
#![expect(clippy::unwrap_used)]

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use xfcc::inspect::XfccHeader;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn parsing_real_envoy_headers_does_not_allocate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/envoy");
    let headers: Vec<String> = [
        "rsa-chain",
        "two-hop",
        "utf8-special-subject",
        "many-sans",
        "injection-uri",
    ]
    .iter()
    .map(|n| std::fs::read_to_string(dir.join(format!("{n}.txt"))).unwrap())
    .collect();
    let aca = format!("{};", headers[0].split(";Subject=").next().unwrap());

    let region = Region::new(GLOBAL);
    let mut seen = 0usize;
    for h in headers.iter().chain([&aca]) {
        let header = XfccHeader::parse(h).unwrap();
        for e in header.elements() {
            seen += e.pair_count();
            seen += e.by().count() + e.uri().count() + e.dns().count();
            seen += e.cert().map_or(0, |v| v.raw().len()) + e.chain().map_or(0, |v| v.raw().len());
            seen +=
                e.subject().map_or(0, |v| v.raw().len()) + e.hash().map_or(0, |v| v.raw().len());
        }
    }
    let stats = region.change();
    assert!(seen > 10_000);
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");

    // The counter does count: decoding allocates.
    let region = Region::new(GLOBAL);
    let header = XfccHeader::parse(&headers[0]).unwrap();
    let _ = header.element(0).unwrap().decode().unwrap();
    assert!(region.change().allocations > 0);
}
