//! METRICS.md is the one metrics reference: every metric the code records
//! is in it, and it lists none the code does not record.
#![expect(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

fn names(text: &str, quote: char) -> BTreeSet<String> {
    text.split(quote)
        .filter(|s| {
            s.starts_with("xfcc_") && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .filter(|s| !s.ends_with("layer_missing"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_recorded_metric_is_documented_and_no_other() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let code = std::fs::read_to_string(root.join("src/metrics.rs")).unwrap();
    let doc = std::fs::read_to_string(root.join("METRICS.md")).unwrap();
    let recorded = names(&code, '"');
    let documented = names(&doc, '`');
    assert!(recorded.len() >= 5, "{recorded:?}");
    assert_eq!(recorded, documented);
}
