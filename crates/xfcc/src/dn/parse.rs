//! DN text in: RFC 4514 and the RFC 2253 form OpenSSL and Envoy print.

use super::attrs::lookup_type;
use super::{AttrValue, DistinguishedName, DnError, NameAttribute, decode_string};
use crate::oid::Oid;
use crate::x509::Der;

impl DistinguishedName {
    /// Parses an RFC 4514 (or RFC 2253, as OpenSSL and Envoy print it) string.
    ///
    /// Accepts keywords case-insensitively (`CN`, `commonName`, `E`,
    /// `emailAddress`, ...), dotted OIDs, `#`-hex DER values, `\`-escapes of
    /// special characters and of bytes (`\C3\A9`), `,` or `;` between RDNs,
    /// `+` inside an RDN, and spaces around separators. The empty string is
    /// the empty name.
    ///
    /// # Errors
    /// A [`DnError`] naming the byte offset of the problem.
    pub fn parse(s: &str) -> Result<Self, DnError> {
        Self::parse_with(s, false)
    }

    /// Parses a `Subject` as Envoy prints it. Envoy's TLS library
    /// (BoringSSL) prints the type of an attribute whose OID has an arc over
    /// 64 bits (a UUID OID, `2.25.<128-bit>`) as nothing: `=#0C03616263`.
    /// Such an attribute compares equal to a certificate attribute of the
    /// same value whose type BoringSSL cannot print, and to nothing else.
    pub(crate) fn parse_envoy_subject(s: &str) -> Result<Self, DnError> {
        Self::parse_with(s, true)
    }

    fn parse_with(s: &str, unprintable_types: bool) -> Result<Self, DnError> {
        let mut p = DnParser {
            s: s.as_bytes(),
            pos: 0,
            unprintable_types,
        };
        let mut rdns: Vec<Vec<_>> = Vec::new();
        p.skip_spaces();
        if p.pos >= p.s.len() {
            return Ok(Self::default());
        }
        let mut rdn = Vec::new();
        loop {
            rdn.push(p.attribute()?);
            match p.s.get(p.pos) {
                None => break,
                Some(b'+') => p.pos += 1,
                Some(_) => {
                    // ',' or ';'
                    p.pos += 1;
                    rdns.push(core::mem::take(&mut rdn));
                }
            }
        }
        rdns.push(rdn);
        // The string is the reverse of the encoded order, inside RDNs too.
        let rdns = rdns
            .into_iter()
            .rev()
            .map(|mut r| {
                r.reverse();
                super::Rdn::from(r)
            })
            .collect();
        Ok(Self { rdns })
    }
}

impl core::str::FromStr for DistinguishedName {
    type Err = DnError;

    fn from_str(s: &str) -> Result<Self, DnError> {
        Self::parse(s)
    }
}

struct DnParser<'a> {
    s: &'a [u8],
    pos: usize,
    /// Whether an empty attribute type stands for one BoringSSL cannot print.
    unprintable_types: bool,
}

impl DnParser<'_> {
    fn skip_spaces(&mut self) {
        while self.s.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    fn attribute(&mut self) -> Result<NameAttribute, DnError> {
        self.skip_spaces();
        let start = self.pos;
        while let Some(&c) = self.s.get(self.pos) {
            if c.is_ascii_alphanumeric() || c == b'-' || c == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let ty = &self.s[start..self.pos];
        let oid = if ty.is_empty() && self.unprintable_types {
            Oid::UNPRINTABLE
        } else {
            lookup_type(ty).ok_or(DnError::UnknownAttribute(start))?
        };
        self.skip_spaces();
        if self.s.get(self.pos) != Some(&b'=') {
            return Err(DnError::MissingEquals(self.pos));
        }
        self.pos += 1;
        self.skip_spaces();
        let value = if self.s.get(self.pos) == Some(&b'#') {
            self.hex_value()?
        } else {
            self.string_value()?
        };
        self.skip_spaces();
        Ok(NameAttribute { oid, value })
    }

    fn hex_value(&mut self) -> Result<AttrValue, DnError> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        while let Some(&c) = self.s.get(self.pos) {
            if matches!(c, b',' | b';' | b'+' | b' ') {
                break;
            }
            let hi = crate::hex::digit(c).ok_or(DnError::InvalidHex(self.pos))?;
            let lo = self
                .s
                .get(self.pos + 1)
                .and_then(|&c| crate::hex::digit(c))
                .ok_or(DnError::InvalidHex(self.pos))?;
            bytes.push(hi << 4 | lo);
            self.pos += 2;
        }
        let mut der = Der::new(&bytes);
        let tlv = der
            .tlv()
            .ok()
            .filter(|_| der.is_empty())
            .ok_or(DnError::InvalidHex(start))?;
        Ok(match decode_string(tlv.tag, tlv.value) {
            Some(t) => AttrValue::Text(t),
            None => AttrValue::Der(bytes),
        })
    }

    fn string_value(&mut self) -> Result<AttrValue, DnError> {
        let start = self.pos;
        let mut bytes = Vec::new();
        // Length of `bytes` up to the last escaped byte, so that trailing
        // unescaped spaces can be dropped but escaped ones kept.
        let mut keep = 0;
        while let Some(&c) = self.s.get(self.pos) {
            match c {
                b',' | b';' | b'+' => break,
                b'\\' => {
                    let n = *self
                        .s
                        .get(self.pos + 1)
                        .ok_or(DnError::InvalidEscape(self.pos))?;
                    if let (Some(hi), Some(lo)) = (
                        crate::hex::digit(n),
                        self.s.get(self.pos + 2).and_then(|&c| crate::hex::digit(c)),
                    ) {
                        bytes.push(hi << 4 | lo);
                        self.pos += 3;
                    } else if matches!(
                        n,
                        b',' | b'=' | b'+' | b'<' | b'>' | b'#' | b';' | b'\\' | b'"' | b' '
                    ) {
                        bytes.push(n);
                        self.pos += 2;
                    } else {
                        return Err(DnError::InvalidEscape(self.pos));
                    }
                    keep = bytes.len();
                }
                b'"' => return Err(DnError::Unescaped(self.pos)),
                _ => {
                    bytes.push(c);
                    self.pos += 1;
                    if c != b' ' {
                        keep = bytes.len();
                    }
                }
            }
        }
        bytes.truncate(keep);
        String::from_utf8(bytes)
            .map(AttrValue::Text)
            .map_err(|_| DnError::InvalidUtf8(start))
    }
}
