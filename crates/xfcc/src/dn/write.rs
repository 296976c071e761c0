//! DN text out: RFC 4514, and OpenSSL's `XN_FLAG_RFC2253` (what Envoy's
//! `Subject` shows).

use core::fmt;

use der::Encode;

use super::attrs::attr_info;
use super::{AttrValue, DistinguishedName};

impl DistinguishedName {
    /// Renders the name as OpenSSL's `XN_FLAG_RFC2253` (and so Envoy's
    /// `Subject`) does: like RFC 4514, but with bytes outside printable
    /// ASCII written as `\XX`.
    pub fn to_openssl_rfc2253(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut out, Style::OpenSsl);
        out
    }

    fn write(&self, f: &mut impl fmt::Write, style: Style) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().rev().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            // OpenSSL reverses its flat entry list, so the members of a
            // multi-valued RDN come out in reverse encoded order too.
            for (j, attr) in rdn.iter().rev().enumerate() {
                if j > 0 {
                    f.write_char('+')?;
                }
                let info = attr_info(&attr.oid);
                let known = info.is_some();
                match (info, style) {
                    (Some(a), Style::Rfc4514) => f.write_str(a.rfc4514)?,
                    (Some(a), Style::OpenSsl) => f.write_str(a.openssl)?,
                    (None, _) => write!(f, "{}", attr.oid)?,
                }
                f.write_char('=')?;
                match &attr.value {
                    // OpenSSL dumps fields with no short name as hex DER.
                    AttrValue::Text(t) if known || style == Style::Rfc4514 => {
                        write_escaped(f, t, style)?;
                    }
                    AttrValue::Text(t) => write_hex_der_of_text(f, t)?,
                    AttrValue::Der(d) => write_hex(f, d)?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for DistinguishedName {
    /// RFC 4514: most significant RDN last, `+` inside multi-valued RDNs,
    /// UTF-8 kept, special characters escaped, and control characters and
    /// bidirectional or invisible formatting characters written as `\XX`
    /// hex (RFC 4514 allows any character escaped so), so the text is safe
    /// to print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, Style::Rfc4514)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Rfc4514,
    OpenSsl,
}

fn write_escaped(f: &mut impl fmt::Write, t: &str, style: Style) -> fmt::Result {
    let last = t.len().saturating_sub(1);
    for (i, c) in t.char_indices() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            f.write_char('\\')?;
            f.write_char(c)?;
        } else if crate::text::is_unsafe_to_show(c) || (style == Style::OpenSsl && !c.is_ascii()) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                write!(f, "\\{b:02X}")?;
            }
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

fn write_hex(f: &mut impl fmt::Write, d: &[u8]) -> fmt::Result {
    f.write_char('#')?;
    for b in d {
        write!(f, "{b:02X}")?;
    }
    Ok(())
}

fn write_hex_der_of_text(f: &mut impl fmt::Write, t: &str) -> fmt::Result {
    match der::asn1::Utf8StringRef::new(t).and_then(|s| s.to_der()) {
        Ok(d) => write_hex(f, &d),
        Err(_) => write_escaped(f, t, Style::OpenSsl),
    }
}
