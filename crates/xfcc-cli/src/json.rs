//! The JSON contract shared by `inspect` and `check` (a public interface:
//! keep it stable; `tests/cli.rs` pins it).

use serde_json::{Value, json};

use xfcc::CertIdentity;

/// `CERT`: `sha256`, `sha1`, `subject`, `subject_cn`, `issuer`, `issuer_cn`,
/// `serial`, `not_before`, `not_after` (RFC 3339), `san` {`dns`, `uri`,
/// `email`, `ip`}, `key`.
pub(crate) fn cert(c: &CertIdentity) -> Value {
    let san = c.san();
    json!({
        "sha256": c.sha256_hex(),
        "sha1": c.sha1_hex(),
        "subject": c.subject(),
        "subject_cn": c.subject_cns().collect::<Vec<_>>(),
        "issuer": c.issuer(),
        "issuer_cn": c.issuer_cns().collect::<Vec<_>>(),
        "serial": c.serial_hex(),
        "not_before": c.not_before_rfc3339(),
        "not_after": c.not_after_rfc3339(),
        "san": {
            "dns": san.dns(),
            "uri": san.uri(),
            "email": san.email(),
            "ip": san.ip().iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "key": c.public_key().to_string(),
    })
}

/// The `{"error": {...}}` object.
pub(crate) fn error(code: &str, offset: Option<usize>, message: &str) -> Value {
    json!({"error": {"code": code, "offset": offset, "message": message}})
}
