//! Certificate text to DER: the encodings proxies forward a certificate in
//! (URL-encoded PEM, `\n`-escaped PEM, raw PEM, bare base64 DER), bounded,
//! with an error naming the field. Nothing here reads the DER.

use std::borrow::Cow;

use crate::error::{CertErrorKind as C, Error, Field};

/// Decodes a value holding exactly one certificate.
pub(crate) fn decode_one(value: &str, field: Field) -> Result<Vec<u8>, Error> {
    let mut one = None;
    decode_each(value, field, 1, &mut |der| one = Some(der))?;
    one.ok_or(Error::cert(C::NoCertificate, field))
}

/// Decodes a value holding one or more certificates (PEM blocks, or one
/// base64 DER). `field` names the first; `max` bounds the count.
pub(crate) fn decode_certificates(
    value: &str,
    field: Field,
    max: usize,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut ders = Vec::new();
    decode_each(value, field, max, &mut |der| ders.push(der))?;
    Ok(ders)
}

/// Where decoded certificates go, one DER at a time.
type Sink<'s> = dyn FnMut(Vec<u8>) + 's;

/// [`decode_certificates`], handing each DER to `sink`.
fn decode_each(value: &str, field: Field, max: usize, sink: &mut Sink<'_>) -> Result<(), Error> {
    if memchr::memchr(b'%', value.as_bytes()).is_none() {
        return decode_text(value.as_bytes(), field, max, sink);
    }
    // URL-encoded: percent-decoded into a buffer the thread keeps, so the
    // text on its way to DER costs no allocation (only the DER is kept).
    let mut decode = |buf: &mut Vec<u8>| {
        let len = percent_decode_checked(value, field, Newlines::Drop, buf)?;
        decode_text(buf.get(..len).unwrap_or_default(), field, max, sink)
    };
    let done = SCRATCH.try_with(|cell| {
        // Not busy: nothing here re-enters.
        let mut buf = cell.try_borrow_mut().ok()?;
        let out = decode(&mut buf);
        if buf.capacity() > SCRATCH_KEEP {
            // A rare large value: not held for the thread's life.
            *buf = Vec::new();
        }
        Some(out)
    });
    // Otherwise (the thread is exiting, say) a buffer of its own: never
    // a panic.
    done.ok()
        .flatten()
        .unwrap_or_else(|| decode(&mut Vec::new()))
}

thread_local! {
    /// Percent-decoded certificate text, reused by the next value.
    static SCRATCH: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// The most scratch space a thread keeps between values (a URL-encoded
/// chain of a few certificates fits).
const SCRATCH_KEEP: usize = 16 * 1024;

/// Certificate text (percent-decoded already) to DER.
fn decode_text(text: &[u8], field: Field, max: usize, sink: &mut Sink<'_>) -> Result<(), Error> {
    let text = unescape(text);
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(Error::cert(C::NoCertificate, field));
    }
    // base64 has no '-': a dash means PEM armour.
    if memchr::memchr(b'-', text).is_some() {
        decode_pem_blocks(text, field, max, sink)
    } else {
        decode_base64_der(text, field).map(sink)
    }
}

/// `\n`-escaped PEM (what the recipes assume): the escaped line breaks
/// carry nothing, so they are dropped in one pass, leaving the body as one
/// base64 run. Any other backslash stays, and fails later. (Line breaks
/// between base64 lines, escaped as `%0A`, were dropped while
/// percent-decoding.)
fn unescape(text: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', text).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = memchr::memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..i]);
        let after = &rest[i..];
        rest = if let Some(r) = after.strip_prefix(b"\\r\\n") {
            r
        } else if let Some(r) = after.strip_prefix(b"\\n") {
            r
        } else {
            out.push(b'\\');
            &after[1..]
        };
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

/// Percent-decodes `value` when it holds a `%`, as UTF-8 text.
pub(crate) fn percent_decode_text(value: &str, field: Field) -> Result<Cow<'_, str>, Error> {
    Ok(match percent_decode_bytes(value, field, Newlines::Keep)? {
        Cow::Borrowed(_) => Cow::Borrowed(value),
        Cow::Owned(bytes) => {
            Cow::Owned(String::from_utf8(bytes).map_err(|_| Error::cert(C::BadEncoding, field))?)
        }
    })
}

/// Percent-decodes `value` when it holds a `%`. The result is valid UTF-8
/// (checked only when an escape decoded to a non-ASCII byte: replacing
/// `%XX` by an ASCII byte keeps UTF-8 valid).
fn percent_decode_bytes(
    value: &str,
    field: Field,
    newlines: Newlines,
) -> Result<Cow<'_, [u8]>, Error> {
    if memchr::memchr(b'%', value.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(value.as_bytes()));
    }
    let mut bytes = Vec::new();
    let len = percent_decode_checked(value, field, newlines, &mut bytes)?;
    bytes.truncate(len);
    Ok(Cow::Owned(bytes))
}

/// Percent-decodes `value` into the start of `buf` (see
/// [`percent_decode_into`]) and returns the decoded length. Escapes that
/// decode to invalid UTF-8 are refused as [`BadEncoding`](C::BadEncoding),
/// so the error does not depend on where a later decoder stops.
fn percent_decode_checked(
    value: &str,
    field: Field,
    newlines: Newlines,
    buf: &mut Vec<u8>,
) -> Result<usize, Error> {
    let (len, ascii) = percent_decode_into(value.as_bytes(), newlines, buf)
        .ok_or(Error::cert(C::BadPercentEncoding, field))?;
    if !ascii && core::str::from_utf8(buf.get(..len).unwrap_or_default()).is_err() {
        return Err(Error::cert(C::BadEncoding, field));
    }
    Ok(len)
}

/// Whether [`percent_decode`] keeps `%0A` and `%0D`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Newlines {
    Keep,
    Drop,
}

/// RFC 3986 percent-decoding: `%XX` only; `+` is a plus sign. `None` for a
/// `%` without two hex digits. (The tests' entry point.)
/// A variable's comma-separated values, blanks dropped.
pub(crate) fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
fn percent_decode(input: &[u8], newlines: Newlines) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let fresh = percent_decode_into(input, newlines, &mut out).map(|(len, _)| {
        out.truncate(len);
        out
    });
    // Into a longer buffer holding an earlier value (the thread's scratch
    // space): the same bytes.
    let mut used = vec![b'%'; input.len() + 40];
    let reused = percent_decode_into(input, newlines, &mut used)
        .map(|(len, _)| used.get(..len).unwrap_or_default().to_vec());
    assert_eq!(fresh, reused);
    fresh
}

/// RFC 3986 percent-decoding of `input` into the start of `out` (grown to
/// the input's length when shorter, never shrunk): the decoded length, and
/// whether every escape decoded to an ASCII byte. `None` for a `%` without
/// two hex digits.
///
/// URL-encoded PEM has an escape every twenty bytes or so, so this copies
/// sixteen bytes at a time and looks for `%` in the block it just copied.
/// (Measured against finding every `%` of a word at a fixed stride and
/// copying the runs between them, and other variants: see
/// `benches/before-after.md`.)
fn percent_decode_into(
    input: &[u8],
    newlines: Newlines,
    out: &mut Vec<u8>,
) -> Option<(usize, bool)> {
    const PCT: u128 = u128::from_ne_bytes([b'%'; 16]);
    const LOW: u128 = u128::from_ne_bytes([0x01; 16]);
    const HIGH: u128 = u128::from_ne_bytes([0x80; 16]);
    // Never longer than the input: every escape shrinks it.
    if out.len() < input.len() {
        out.resize(input.len(), 0);
    }
    let (mut i, mut j) = (0, 0);
    let mut escaped = 0u8;
    while i < input.len() {
        if let (Some(chunk), Some(dst)) = (
            input.get(i..).and_then(<[u8]>::first_chunk::<16>),
            // `j <= i`, so sixteen bytes from `j` fit in `out`.
            out.get_mut(j..).and_then(<[u8]>::first_chunk_mut::<16>),
        ) {
            *dst = *chunk;
            let x = u128::from_le_bytes(*chunk) ^ PCT;
            // The lowest flagged byte is the first `%` (exact for the
            // lowest one; higher flags may be false positives).
            let found = x.wrapping_sub(LOW) & !x & HIGH;
            if found == 0 {
                i += 16;
                j += 16;
                continue;
            }
            let k = (found.trailing_zeros() / 8) as usize;
            i += k;
            j += k;
        } else {
            // Fewer than sixteen bytes left: one at a time.
            let &b = input.get(i)?;
            if b != b'%' {
                *out.get_mut(j)? = b;
                i += 1;
                j += 1;
                continue;
            }
        }
        // input[i] is '%'.
        let (hi, lo) = match input.get(i + 1..i + 3)? {
            &[h, l] => (
                crate::hex::VALUE[usize::from(h)],
                crate::hex::VALUE[usize::from(l)],
            ),
            _ => return None,
        };
        if (hi | lo) > 0x0F {
            return None;
        }
        let byte = hi << 4 | lo;
        i += 3;
        // Written always, kept unless it is a dropped line break: no
        // branch to mispredict on the mix of escapes PEM has.
        let keep = !(newlines == Newlines::Drop && (byte == b'\n' || byte == b'\r'));
        *out.get_mut(j)? = byte;
        j += usize::from(keep);
        escaped |= byte;
    }
    Some((j, escaped.is_ascii()))
}

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

fn decode_pem_blocks(
    text: &[u8],
    first: Field,
    max: usize,
    sink: &mut Sink<'_>,
) -> Result<(), Error> {
    let mut count = 0;
    let mut rest = text;
    loop {
        let field = nth_field(first, count);
        rest = rest.trim_ascii_start();
        if rest.is_empty() {
            break;
        }
        if count == max {
            return Err(Error::cert(
                if max == 1 && first == Field::Cert {
                    C::MultipleCertificates
                } else {
                    C::ChainTooLong
                },
                field,
            ));
        }
        // Only whitespace may stand between blocks.
        let body_and_rest = rest
            .strip_prefix(BEGIN)
            .ok_or(Error::cert(C::BadPem, field))?;
        // base64 has no '-', so the first one ends the body; it must start
        // the END line. (memchr: a substring search would build a
        // searcher per block.)
        let end = memchr::memchr(b'-', body_and_rest)
            .filter(|&e| body_and_rest[e..].starts_with(END))
            .ok_or(Error::cert(C::BadPem, field))?;
        let block_len = BEGIN.len() + end + END.len();
        // Any line width, LF or CRLF, or no line breaks at all: the body is
        // base64 once whitespace is removed. (Certificates are public, so
        // this uses a fast decoder rather than a constant-time one.)
        let body = &body_and_rest[..end];
        let der = decode_base64_der(body, field).map_err(|_| Error::cert(C::BadPem, field))?;
        sink(der);
        count += 1;
        rest = &rest[block_len..];
    }
    if count == 0 {
        return Err(Error::cert(C::NoCertificate, first));
    }
    Ok(())
}

fn nth_field(first: Field, n: usize) -> Field {
    match first {
        Field::Cert if n == 0 => Field::Cert,
        Field::Cert => Field::Chain(n),
        Field::Chain(i) => Field::Chain(i + n),
    }
}

pub(crate) fn decode_base64_der(bytes: &[u8], field: Field) -> Result<Vec<u8>, Error> {
    let bad = || Error::cert(C::BadEncoding, field);
    // URL-encoded and escaped PEM arrive here without line breaks: decode
    // directly, and strip whitespace only when that fails. Raw PEM breaks
    // its first line within 80 characters (64 or 76 is the rule): looking
    // there spares it a decode that would fail.
    let head = bytes.get(..81).unwrap_or(bytes);
    let first = if memchr::memchr3(b'\n', b'\r', b' ', head).is_some() {
        None
    } else {
        base64_simd::STANDARD.decode_to_vec(bytes).ok()
    };
    let der = match first {
        Some(der) => der,
        None => {
            // PEM bodies are 64-character runs between line breaks: copy runs.
            let mut compact = Vec::with_capacity(bytes.len());
            let mut rest = bytes;
            while let Some(i) = memchr::memchr3(b'\n', b'\r', b' ', rest) {
                compact.extend_from_slice(&rest[..i]);
                rest = &rest[i + 1..];
            }
            compact.extend_from_slice(rest);
            match base64_simd::STANDARD.decode_to_vec(&compact) {
                Ok(der) => der,
                // Tabs or form feeds (rare): drop them too, and try once more.
                Err(_) if compact.iter().any(u8::is_ascii_whitespace) => {
                    compact.retain(|b| !b.is_ascii_whitespace());
                    base64_simd::STANDARD
                        .decode_to_vec(&compact)
                        .map_err(|_| bad())?
                }
                Err(_) => return Err(bad()),
            }
        }
    };
    if der.is_empty() {
        return Err(bad());
    }
    Ok(der)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percent_decodes_rfc3986_only() {
        let keep = |s: &[u8]| percent_decode(s, Newlines::Keep);
        assert_eq!(keep(b"a%2Bb+c%2f%0A").unwrap(), b"a+b+c/\n");
        assert_eq!(keep(b"%"), None);
        assert_eq!(keep(b"%4"), None);
        assert_eq!(keep(b"%G0"), None);
        assert_eq!(keep(b"").unwrap(), b"");
        let drop = |s: &[u8]| percent_decode(s, Newlines::Drop);
        assert_eq!(drop(b"AB%0D%0ACD%0a%25").unwrap(), b"ABCD%");
    }

    /// One byte at a time, as RFC 3986 reads: what the word-at-a-time
    /// decoder must agree with.
    fn reference(input: &[u8], newlines: Newlines) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            if b == b'%' {
                let byte = crate::hex::byte(*input.get(i + 1)?, *input.get(i + 2)?)?;
                if newlines == Newlines::Keep || !matches!(byte, b'\n' | b'\r') {
                    out.push(byte);
                }
                i += 3;
            } else {
                out.push(b);
                i += 1;
            }
        }
        Some(out)
    }

    #[test]
    fn word_at_a_time_agrees_with_bytewise_at_every_offset() {
        // Escapes (valid, truncated, or bad) at every offset of the
        // sixteen-byte blocks, with every length up to three blocks.
        for len in 0..50 {
            for at in 0..len {
                for esc in [&b"%41"[..], b"%0A", b"%0d", b"%", b"%4", b"%zz", b"%%41"] {
                    let mut input: Vec<u8> = (0..len).map(|n| b'a' + (n % 26) as u8).collect();
                    input.splice(at..at, esc.iter().copied());
                    for nl in [Newlines::Keep, Newlines::Drop] {
                        assert_eq!(
                            percent_decode(&input, nl),
                            reference(&input, nl),
                            "{:?}",
                            String::from_utf8_lossy(&input)
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn percent_decode_matches_reference(input in proptest::collection::vec(
            proptest::sample::select(b"%0aAfFgG+/=\n-".to_vec()), 0..80)) {
            for nl in [Newlines::Keep, Newlines::Drop] {
                proptest::prop_assert_eq!(percent_decode(&input, nl), reference(&input, nl));
            }
        }
    }

    /// The thread's scratch buffer serves the next value, but one larger
    /// than [`SCRATCH_KEEP`] is not held after its decode.
    #[test]
    fn scratch_space_is_bounded() {
        let capacity = || SCRATCH.with(|s| s.borrow().capacity());
        let block = "-----BEGIN%20CERTIFICATE-----%0AMAMCAQA%3D%0A-----END%20CERTIFICATE-----%0A";
        let chain = block.repeat(300);
        assert!(chain.len() > SCRATCH_KEEP);
        let ders = decode_certificates(&chain, Field::Chain(0), 300).unwrap();
        assert_eq!(ders.len(), 300);
        assert_eq!(capacity(), 0);
        let one = decode_certificates(block, Field::Cert, 1).unwrap();
        assert_eq!(one, vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]]);
        assert!((block.len()..=SCRATCH_KEEP).contains(&capacity()));
        // A bad escape is refused, and leaves the buffer usable.
        let e = decode_certificates("%zz", Field::Cert, 1).unwrap_err();
        assert_eq!(
            e.kind(),
            crate::error::ErrorKind::Cert(C::BadPercentEncoding)
        );
        assert_eq!(decode_certificates(block, Field::Cert, 1).unwrap(), one);
    }

    #[test]
    fn only_ascii_whitespace_surrounds_pem_blocks() {
        let pem = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----";
        assert!(decode_certificates(&format!(" \r\n{pem}\t\n"), Field::Cert, 2).is_ok());
        for odd in [format!("\u{a0}{pem}"), format!("{pem}\u{a0}{pem}")] {
            let e = decode_certificates(&odd, Field::Cert, 2).unwrap_err();
            assert_eq!(
                e.kind(),
                crate::error::ErrorKind::Cert(C::BadPem),
                "{odd:?}"
            );
        }
    }

    #[test]
    fn simd_base64_refuses_what_the_reference_refuses() {
        use base64::Engine as _;
        // Canonical, then non-zero trailing bits, bad padding, whitespace.
        for text in [
            "QQ==", "QUE=", "QUJD", "QR==", "QUF=", "Q===", "QQ=", "=", "QU JD", "QUJD\n",
        ] {
            let reference = base64::engine::general_purpose::STANDARD.decode(text).ok();
            assert_eq!(
                base64_simd::STANDARD.decode_to_vec(text).ok(),
                reference,
                "{text:?}"
            );
        }
        assert!(base64_simd::STANDARD.decode_to_vec("QR==").is_err());
    }

    proptest::proptest! {
        /// The SIMD base64 decoder accepts exactly what the scalar `base64`
        /// crate (the reference) accepts, with the same bytes: padding,
        /// non-zero trailing bits, stray `=` and foreign bytes included.
        #[test]
        fn simd_base64_agrees_with_the_reference(text in proptest::collection::vec(
            proptest::sample::select(b"AQgw+/=9z-_ \n\x80".to_vec()), 0..70)) {
            use base64::Engine as _;
            let reference = base64::engine::general_purpose::STANDARD.decode(&text).ok();
            let fast = base64_simd::STANDARD.decode_to_vec(&text).ok();
            proptest::prop_assert_eq!(fast, reference);
        }

        /// Well-formed base64 of any bytes, long enough for the vector path.
        #[test]
        fn simd_base64_round_trips(der in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            use base64::Engine as _;
            let text = base64::engine::general_purpose::STANDARD.encode(&der);
            proptest::prop_assert_eq!(base64_simd::STANDARD.decode_to_vec(text.as_bytes()).ok(), Some(der));
        }
    }

    /// The plain reading of escaped line breaks that the one-pass
    /// [`unescape`] replaces: each `\n` (or `\r\n`) becomes a line break.
    fn reference_unescape(value: &str) -> String {
        value.replace("\\r\\n", "\n").replace("\\n", "\n")
    }

    proptest::proptest! {
        /// Any mix of line breaks (escaped, CRLF-escaped, real, none) and
        /// stray backslashes in a PEM chain decodes as the reference does.
        #[test]
        fn one_pass_unescape_agrees_with_the_reference(
            breaks in proptest::collection::vec(
                proptest::sample::select(vec!["", "\\n", "\\r\\n", "\n", "\\", "\\x"]), 0..12),
        ) {
            let pem = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
            let mut value = String::new();
            for (i, part) in pem.split('\n').enumerate() {
                value.push_str(part);
                value.push_str(breaks.get(i).copied().unwrap_or(""));
            }
            let fast = decode_certificates(&value, Field::Cert, 4);
            let slow = decode_certificates(&reference_unescape(&value), Field::Cert, 4);
            proptest::prop_assert_eq!(fast.map_err(|e| e.kind()), slow.map_err(|e| e.kind()));
        }
    }
}

/// Whether `c` must not reach a terminal or a log line as it is: a control
/// character (C0, DEL, C1) or an invisible formatting character that
/// reorders or hides text (the bidirectional overrides and isolates, the
/// marks, zero-width characters, the BOM).
pub(crate) fn is_unsafe_to_show(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `s` made safe to print on a terminal or in a log line: every control
/// character (C0, DEL, C1) and every bidirectional or invisible formatting
/// character (U+061C, U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, the BOM)
/// written as a Rust-style escape (`\u{1b}`,
/// `\u{202e}`), a backslash doubled only when the text has something to
/// escape (so ordinary text prints unchanged). Borrows when nothing needs
/// escaping, which is the usual case.
///
/// Everything this crate shows of a certificate or a header already goes
/// through it or through RFC 4514's `\XX` escapes; use it for anything
/// else of the client's that you print.
pub fn display_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_to_show) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_unsafe_to_show(c) {
            use core::fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod display_safe_tests {
    use super::display_safe;

    #[test]
    fn controls_and_bidi_overrides_are_escaped_and_plain_text_is_borrowed() {
        for (raw, shown) in [
            ("ok.example\u{1b}[31mRED", "ok.example\\u{1b}[31mRED"),
            (
                "spiffe://x/\u{1b}]0;TITLE\u{7}y",
                "spiffe://x/\\u{1b}]0;TITLE\\u{7}y",
            ),
            ("a\nINJECTED: line@x", "a\\u{a}INJECTED: line@x"),
            ("cr\rnul\0", "cr\\u{d}nul\\u{0}"),
            ("evil\u{202e}gpj.exe", "evil\\u{202e}gpj.exe"),
            ("c1\u{85}\u{9b}", "c1\\u{85}\\u{9b}"),
            ("back\\slash\u{7}", "back\\\\slash\\u{7}"),
        ] {
            assert_eq!(display_safe(raw), shown, "{raw:?}");
        }
        for plain in ["CN=José,O=Contoso", "back\\slash", ""] {
            assert!(matches!(display_safe(plain), std::borrow::Cow::Borrowed(_)));
        }
    }
}
