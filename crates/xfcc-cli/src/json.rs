//! The JSON contract shared by `inspect` and `check` (a public interface:
//! keep it stable).

use serde_json::{Value, json};

use xfcc::CertIdentity;

/// `CERT`: the identity of one certificate (the core's `Serialize`).
pub(crate) fn cert(c: &CertIdentity) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

/// The `{"error": {...}}` object.
pub(crate) fn error(code: &str, offset: Option<usize>, message: &str) -> Value {
    json!({"error": {"code": code, "offset": offset, "message": message}})
}

/// Human-readable lines for one certificate.
pub(crate) fn cert_text(c: &CertIdentity, indent: &str) -> String {
    let san = c.san();
    let mut out = String::new();
    let mut line = |k: &str, v: String| {
        if !v.is_empty() {
            out.push_str(&format!("{indent}{k:<11} {v}\n"));
        }
    };
    line("subject", c.subject().to_owned());
    line("issuer", c.issuer().to_owned());
    line("serial", c.serial_hex());
    line(
        "valid",
        format!("{} .. {}", c.not_before_rfc3339(), c.not_after_rfc3339()),
    );
    line("sha256", c.sha256_hex());
    line("sha1", c.sha1_hex());
    line("key", c.public_key().to_string());
    line("san dns", san.dns().join(", "));
    line("san uri", san.uri().join(", "));
    line("san email", san.email().join(", "));
    line(
        "san ip",
        san.ip()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    );
    line("eku", c.extended_key_usages().join(", "));
    out
}
