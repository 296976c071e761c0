//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and every input kept in
//! `fuzz/regressions/<target>/` through the fuzz targets' own bodies, on the
//! stable toolchain, so known crashers stay fixed without libFuzzer.

use xfcc_fuzz as targets;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let mut n = 0;
    for dir in [
        fuzz.join("corpus").join(target),
        fuzz.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let data = std::fs::read(&path).unwrap();
                let result = std::panic::catch_unwind(|| run(&data));
                assert!(result.is_ok(), "{target}: {} panics", path.display());
                n += 1;
            }
        }
    }
    n
}

#[test]
fn replays_parse_corpus() {
    assert!(replay("parse", targets::parse) >= 15);
}

#[test]
fn replays_decode_corpus() {
    assert!(replay("decode", targets::decode) >= 5);
}

#[test]
fn replays_roundtrip_corpus() {
    assert!(replay("roundtrip", targets::roundtrip) >= 2);
}

#[test]
fn replays_verify_corpus() {
    assert!(replay("verify", targets::verify) >= 15);
}

#[test]
fn replays_structured_decode_corpus() {
    assert!(replay("decode_structured", targets::decode_structured) >= 4);
}

#[test]
fn replays_peer_corpus() {
    assert!(
        replay("peer", |d| {
            let _ = targets::peer(d);
        }) >= 5
    );
}

/// The corpus's edge.pem chains are the proxy's (allowed by the pin, the
/// first entry); another certificate of the same CA, or none, is not.
#[test]
fn the_proxy_s_own_chain_passes_the_peer_target() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/peer");
    let run = |name: &str| targets::peer(&std::fs::read(corpus.join(name)).unwrap());
    assert_eq!(run("edge"), Ok(Some("pinned".to_owned())));
    assert_eq!(run("edge-inter"), Ok(Some("pinned".to_owned())));
    assert_eq!(
        run("inner-inter"),
        Err(("untrusted_proxy", "proxy_not_allowed"))
    );
    assert_eq!(
        run("client-rsa"),
        Err(("untrusted_proxy", "proxy_not_allowed"))
    );
    assert_eq!(
        run("empty"),
        Err(("untrusted_proxy", "no_proxy_certificate"))
    );
}
