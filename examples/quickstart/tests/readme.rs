//! The README's Rust quick start is this crate's `main.rs`, byte for byte.
#![expect(clippy::unwrap_used)]

#[test]
fn the_readme_shows_this_program() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../../README.md")).unwrap();
    let main = std::fs::read_to_string(root.join("src/main.rs")).unwrap();
    let fence = "```rust,no_run\n";
    let start = readme.find(fence).unwrap() + fence.len();
    let end = start + readme[start..].find("```\n").unwrap();
    assert_eq!(
        &readme[start..end],
        main,
        "the README's first rust,no_run block and examples/quickstart/src/main.rs differ: copy one onto the other"
    );
}
