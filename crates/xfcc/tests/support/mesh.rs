//! What an Istio sidecar forwards by default, made from an Envoy capture.

/// Envoy's element with its `Cert` and `Chain` removed.
#[expect(clippy::unwrap_used)]
pub(crate) fn without_cert(header: &str) -> String {
    let mut out = header.to_owned();
    for key in [";Cert=\"", ";Chain=\""] {
        while let Some(at) = out.find(key) {
            let close = at + key.len() + out[at + key.len()..].find('"').unwrap();
            out.replace_range(at..=close, "");
        }
    }
    out
}
