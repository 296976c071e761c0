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
