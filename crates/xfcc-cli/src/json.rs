//! The JSON contract shared by `inspect` and `check` (a public interface:
//! keep it stable; `tests/cli.rs` pins it).

use serde_json::{Value, json};

use xfcc::{ClientCert, Rejection, inspect::CertIdentity, outcome::ProxyFields};

/// `CERT`: `sha256`, `sha1`, `subject`, `subject_cn`, `issuer`, `issuer_cn`,
/// `serial`, `not_before`, `not_after` (RFC 3339), `san` {`dns`, `uri`,
/// `email`, `ip`}, `key`, `spki_sha256`, `certificate_policies` and
/// `extensions` (dotted OIDs).
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
        "spki_sha256": c.spki_sha256_base64(),
        "certificate_policies": c.certificate_policies(),
        "extensions": c.extension_oids(),
    })
}

/// `FIELDS`: an identity read from the proxy's fields
/// (`identity_from = "proxy-fields"`): `sha256` (the proxy's `Hash`),
/// `subject` (null without `Subject`), `subject_cn`, `san` {`dns`, `uri`},
/// `spiffe_id` (null unless exactly one URI that is a SPIFFE ID).
pub(crate) fn fields(f: &ProxyFields) -> Value {
    json!({
        "sha256": f.sha256_hex(),
        "subject": f.subject_name().map(ToString::to_string),
        "subject_cn": f.subject_cns().collect::<Vec<_>>(),
        "san": {"dns": f.dns(), "uri": f.uri()},
        "spiffe_id": f.spiffe_id(),
    })
}

/// What `check` says of an allowed client: `CERT`, or `FIELDS` when the
/// identity was read from the proxy's fields.
pub(crate) fn identity(c: &ClientCert) -> Value {
    match (c.certificate(), c.proxy_fields()) {
        (Some(cert_identity), _) => cert(cert_identity),
        (None, Some(f)) => fields(f),
        (None, None) => Value::Null,
    }
}

/// `EXPLAIN`: why a header was denied. `element`, `field` (`Cert`,
/// `Chain[1]`) and `offset` locate a header that does not parse or decode;
/// `certificate` (a `CERT`, or null), `rules` (each with the policy-file
/// keys of the constraints it `failed`, and what the certificate holds for
/// a failed `certificate_policies` or `extension`: `seen`), `clock` (`now`, `leeway_seconds`;
/// for `expired`/`not_yet_valid`) and `chain` (`set`, `anchors`,
/// `intermediates`; for `chain_invalid`) explain a decoded one.
pub(crate) fn explain(r: &Rejection) -> Value {
    let why = r.explanation();
    json!({
        "element": r.element(),
        "field": r.field().map(|f| f.to_string()),
        "offset": r.offset(),
        "certificate": why.and_then(|w| w.certificate()).map(cert),
        "proxy_fields": why.and_then(|w| w.proxy_fields()).map(fields),
        "rules": why.map_or_else(Vec::new, |w| w.rules().iter().map(|m| json!({"rule": m.rule(), "failed": m.failed(), "seen": m.seen()})).collect()),
        "clock": why.and_then(|w| w.clock()).map(|(now, leeway)| json!({"now": crate::time::format_rfc3339(now), "leeway_seconds": leeway.as_secs()})),
        "chain": why.and_then(|w| w.chain()).map(|c| json!({"set": c.set(), "anchors": c.anchors(), "intermediates": c.intermediates()})),
    })
}

/// The `{"error": {...}}` object: `code` (what failed: `usage`, `policy`,
/// `io`, a parse code), `detail` (the precise code: a policy's
/// `ConfigErrorKind` code such as `names_only_rule`, else `code`),
/// `offset` and `message`.
pub(crate) fn error(code: &str, detail: &str, offset: Option<usize>, message: &str) -> Value {
    json!({"error": {"code": code, "detail": detail, "offset": offset, "message": message}})
}
