//! Envoy's JSON form of the header (`set_current_client_cert_details:
//! {format: JSON}`, Envoy 1.38 and later): an array of objects, one per
//! hop, oldest first, with the keys `by`, `hash`, `cert`, `chain`,
//! `subject`, `uri`, `dns` and `issuer`.
//!
//! ```text
//! header  = ws "[" ws element *( ws "," ws element ) ws "]" ws
//! element = "{" ws member *( ws "," ws member ) ws "}"
//! member  = key ws ":" ws value
//! ; "hash" "cert" "subject" "issuer": a string
//! ; "by" "uri" "dns" "chain": an array of strings (chain: one PEM each)
//! ```
//!
//! The reader is strict and bounded, and borrows the input like the text
//! parser:
//! - keys are matched exactly (lowercase, as Envoy writes them, with no
//!   escapes), and any key that appears twice in an object is refused
//!   (JSON parsers disagree on which of two wins);
//! - every value's type is checked;
//! - an unknown key is refused as `unknown_key` in strict syntax; lenient
//!   syntax ignores it when its value is a string, a number, `true`,
//!   `false`, `null` or an array of those, and refuses anything deeper, so
//!   nesting never goes past an array in an object in an array;
//! - strings are checked as JSON (escapes, surrogate pairs) and kept
//!   escaped: [`Value::text`] undoes the escapes when a value is read.
//!
//! Whitespace between tokens is allowed (it is JSON), but never a line
//! break: control characters were refused before this runs. The byte,
//! element and pair limits apply as to the text form; each array item
//! counts as a pair.

use std::borrow::Cow;

use super::{Element, Key, Pair, Syntax, Value};
use crate::error::{ParseError, ParseErrorKind as K};

/// Whether a header is in the JSON form: its first byte (after whitespace,
/// which only lenient syntax allows) is `[` (or `{`, which is refused as
/// `invalid_json`: Envoy writes an array even for one hop). No text-form
/// header starts so: a key comes first there.
pub(super) fn is_json(input: &str, syntax: Syntax) -> bool {
    let b = input.as_bytes();
    let first = if syntax == Syntax::Strict {
        b.first()
    } else {
        b.iter().find(|&&c| !is_ws(c))
    };
    matches!(first, Some(b'[' | b'{'))
}

const fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The key Envoy writes under this name (exactly, lowercase).
fn classify(name: &str) -> Key {
    match name {
        "by" => Key::By,
        "hash" => Key::Hash,
        "cert" => Key::Cert,
        "chain" => Key::Chain,
        "subject" => Key::Subject,
        "uri" => Key::Uri,
        "dns" => Key::Dns,
        "issuer" => Key::Issuer,
        _ => Key::Other,
    }
}

/// A bit per known key, to refuse any of them twice in one object.
const fn key_bit(key: Key) -> u16 {
    match key {
        Key::By => 1,
        Key::Hash => 2,
        Key::Cert => 4,
        Key::Chain => 8,
        Key::Subject => 16,
        Key::Uri => 32,
        Key::Dns => 64,
        Key::Issuer => 128,
        Key::Other => 0,
    }
}

/// A position in a piece of the header; `base` is where the piece starts
/// in the whole header, for error offsets.
#[derive(Debug, Clone)]
struct Cursor<'a> {
    input: &'a str,
    base: usize,
    pos: usize,
    /// Whether the input holds a tab, which a string may not (most headers
    /// have none, and strings are then scanned for two bytes, not three).
    tab: bool,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        let b = self.bytes();
        while self.pos < b.len() && is_ws(b[self.pos]) {
            self.pos += 1;
        }
    }

    const fn err(&self, kind: K, at: usize) -> ParseError {
        ParseError::new(kind, self.base + at)
    }

    /// Consumes `c` (after whitespace), or fails with `invalid_json` where
    /// something else stands.
    fn expect(&mut self, c: u8) -> Result<(), ParseError> {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(K::InvalidJson, self.pos))
        }
    }

    /// Scans a string at `pos` (which holds `"`): its contents' range, and
    /// whether every escape in it is `\n` (what Envoy writes in a PEM), with
    /// `pos` past the closing quote. Escapes are checked, not undone.
    fn string(&mut self) -> Result<(usize, usize, bool), ParseError> {
        let b = self.bytes();
        let open = self.pos;
        let mut newlines_only = true;
        self.pos += 1;
        loop {
            let rest = &b[self.pos..];
            let found = if self.tab {
                memchr::memchr3(b'"', b'\\', b'\t', rest)
            } else {
                memchr::memchr2(b'"', b'\\', rest)
            };
            let Some(i) = found else {
                return Err(self.err(K::UnterminatedQuote, open));
            };
            let at = self.pos + i;
            match b[at] {
                b'"' => {
                    self.pos = at + 1;
                    return Ok((open + 1, at, newlines_only));
                }
                // JSON strings hold no raw control character; the others
                // were refused before parsing.
                b'\t' => return Err(self.err(K::ControlCharacter, at)),
                _ => {
                    // A run of escapes is read here, without searching
                    // again for each.
                    let mut p = at;
                    while b.get(p) == Some(&b'\\') {
                        if b.get(p + 1) == Some(&b'n') {
                            p += 2;
                            continue;
                        }
                        newlines_only = false;
                        p += escape_len(b, p).ok_or_else(|| {
                            if p + 1 >= b.len() {
                                self.err(K::UnterminatedQuote, open)
                            } else {
                                self.err(K::InvalidJson, p)
                            }
                        })?;
                    }
                    self.pos = p;
                }
            }
        }
    }

    /// A string at `pos` as a [`Value`], still escaped.
    fn string_value(&mut self) -> Result<Value<'a>, ParseError> {
        let (vs, ve, newlines_only) = self.string()?;
        Ok(Value {
            raw: &self.input[vs..ve],
            quoted: true,
            json: true,
            newlines_only,
            offset: self.base + vs,
        })
    }

    /// Reads an array at `pos` (which holds `[`), handing `item` the cursor
    /// at each item; `pos` ends past the `]`.
    fn array(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err(K::InvalidJson, self.pos)),
            }
        }
    }

    /// Skips a JSON scalar: a string, a number, `true`, `false` or `null`.
    fn scalar(&mut self) -> Result<(), ParseError> {
        let b = self.bytes();
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => {
                let n = number_len(&b[self.pos..]).ok_or(self.err(K::InvalidJson, self.pos))?;
                self.pos += n;
                Ok(())
            }
            _ => {
                for word in [&b"true"[..], b"false", b"null"] {
                    if b[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(());
                    }
                }
                Err(self.err(K::JsonType, self.pos))
            }
        }
    }
}

/// The length of the escape at `b[at]` (a backslash), if it is valid
/// JSON: `\" \\ \/ \b \f \n \r \t`, or `\uXXXX` with surrogates paired.
fn escape_len(b: &[u8], at: usize) -> Option<usize> {
    match b.get(at + 1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' => {
            let unit = hex4(b.get(at + 2..at + 6)?)?;
            match unit {
                0xD800..=0xDBFF => {
                    if b.get(at + 6..at + 8)? != b"\\u" {
                        return None;
                    }
                    let low = hex4(b.get(at + 8..at + 12)?)?;
                    (0xDC00..=0xDFFF).contains(&low).then_some(12)
                }
                0xDC00..=0xDFFF => None,
                _ => Some(6),
            }
        }
        _ => None,
    }
}

fn hex4(h: &[u8]) -> Option<u32> {
    h.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        Some(acc * 16 + d)
    })
}

/// The length of a JSON number at the start of `b`.
fn number_len(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = usize::from(b.first() == Some(&b'-'));
    let int = digits(n);
    if int == 0 || (int > 1 && b[n] == b'0') {
        return None;
    }
    n += int;
    if b.get(n) == Some(&b'.') {
        let frac = digits(n + 1);
        if frac == 0 {
            return None;
        }
        n += 1 + frac;
    }
    if matches!(b.get(n), Some(b'e' | b'E')) {
        n += 1;
        if matches!(b.get(n), Some(b'+' | b'-')) {
            n += 1;
        }
        let exp = digits(n);
        if exp == 0 {
            return None;
        }
        n += exp;
    }
    Some(n)
}

/// A JSON string's contents with the escapes undone. Borrows when there
/// are none. The contents were checked when the header was parsed; an
/// escape that somehow does not decode becomes U+FFFD rather than a panic.
pub(super) fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while let Some(n) = memchr::memchr(b'\\', &b[i..]) {
        out.push_str(&raw[i..i + n]);
        let at = i + n;
        let len = escape_len(b, at).unwrap_or(2).min(b.len() - at);
        let c = match b.get(at + 1) {
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = b.get(at + 2..at + 6).and_then(hex4).unwrap_or(0xFFFD);
                let cp = if len == 12 {
                    let low = b.get(at + 8..at + 12).and_then(hex4).unwrap_or(0xDC00);
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                char::from_u32(cp).unwrap_or('\u{FFFD}')
            }
            Some(&c) if c.is_ascii() => c as char,
            _ => '\u{FFFD}',
        };
        out.push(c);
        i = at + len.max(1);
        // Never split a UTF-8 sequence (only reachable for input that was
        // not checked).
        while i < b.len() && !raw.is_char_boundary(i) {
            i += 1;
        }
    }
    out.push_str(&raw[i.min(raw.len())..]);
    Cow::Owned(out)
}

/// Where the array of the member whose key starts at `key_at` in `object`
/// (an element's text, checked when parsed) opens.
pub(super) fn array_after_key(object: &str, key_at: usize) -> Option<usize> {
    let mut c = Cursor {
        input: object,
        base: 0,
        pos: key_at,
        tab: false,
    };
    if c.peek() != Some(b'"') {
        return None;
    }
    c.string().ok()?;
    c.expect(b':').ok()?;
    c.ws();
    (c.peek() == Some(b'[')).then_some(c.pos)
}

/// Scans the elements of a JSON header, one object at a time.
#[derive(Debug, Clone)]
pub(super) struct Scanner<'a> {
    cur: Cursor<'a>,
    syntax: Syntax,
    pub(super) index: usize,
    /// True after an element: a `,` or the closing `]` comes next.
    after_element: bool,
    done: bool,
    pub(super) last_start: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `input`, which [`is_json`] accepted;
    /// `tab` says whether the input holds a tab.
    pub(super) fn new(input: &'a str, syntax: Syntax, tab: bool) -> Result<Self, ParseError> {
        let mut cur = Cursor {
            input,
            base: 0,
            pos: 0,
            tab,
        };
        cur.expect(b'[')?;
        cur.ws();
        if cur.peek() == Some(b']') {
            return Err(ParseError::new(K::Empty, 0));
        }
        Ok(Self {
            cur,
            syntax,
            index: 0,
            after_element: false,
            done: false,
            last_start: 0,
        })
    }

    /// A scanner resuming after the element that ended at `pos`, whose
    /// index was `index - 1` (the header was checked when parsed).
    pub(super) const fn resume(input: &'a str, syntax: Syntax, pos: usize, index: usize) -> Self {
        Self {
            // Checked when parsed: no string holds a tab.
            cur: Cursor {
                input,
                base: 0,
                pos,
                tab: false,
            },
            syntax,
            index,
            after_element: true,
            done: false,
            last_start: pos,
        }
    }

    /// Where scanning stands: where the next element's `,` (or the `]`) is.
    pub(super) const fn pos(&self) -> usize {
        self.cur.pos
    }

    /// The next element; `Ok(None)` after the closing `]` (and nothing but
    /// whitespace after it).
    pub(super) fn next_element(
        &mut self,
        max_pairs: usize,
    ) -> Result<Option<Element<'a>>, ParseError> {
        if self.done {
            return Ok(None);
        }
        if self.after_element {
            self.cur.ws();
            match self.cur.peek() {
                Some(b',') => self.cur.pos += 1,
                Some(b']') => {
                    self.cur.pos += 1;
                    self.cur.ws();
                    if self.cur.pos != self.cur.input.len() {
                        return Err(self.cur.err(K::InvalidJson, self.cur.pos));
                    }
                    self.done = true;
                    return Ok(None);
                }
                None => return Err(self.cur.err(K::InvalidJson, self.cur.pos)),
                Some(_) => return Err(self.cur.err(K::InvalidJson, self.cur.pos)),
            }
        }
        self.cur.ws();
        match self.cur.peek() {
            Some(b'{') => {}
            // `[,{` (what Envoy makes of a client's `[]`), `[1,...` ...
            Some(b',' | b']') | None => return Err(self.cur.err(K::InvalidJson, self.cur.pos)),
            Some(_) => return Err(self.cur.err(K::JsonType, self.cur.pos)),
        }
        self.last_start = self.cur.pos;
        let element = self.object(max_pairs)?;
        self.index += 1;
        self.after_element = true;
        Ok(Some(element))
    }

    /// One object, at `{`.
    fn object(&mut self, max_pairs: usize) -> Result<Element<'a>, ParseError> {
        let lenient = self.syntax != Syntax::Strict;
        let c = &mut self.cur;
        let start = c.pos;
        c.pos += 1;
        let mut e = Element {
            raw: "",
            offset: c.base + start,
            index: self.index,
            pairs: 0,
            syntax: self.syntax,
            json: true,
            hash: None,
            cert: None,
            chain: None,
            subject: None,
            issuer: None,
            first: [usize::MAX; 3],
        };
        c.ws();
        if c.peek() == Some(b'}') {
            return Err(c.err(K::EmptyElement, start));
        }
        let mut seen = 0u16;
        let count = |e: &mut Element<'a>, at: usize| {
            e.pairs += 1;
            if e.pairs > max_pairs {
                Err(ParseError::new(K::TooManyPairs, at))
            } else {
                Ok(())
            }
        };
        loop {
            c.ws();
            if c.peek() != Some(b'"') {
                return Err(c.err(K::InvalidJson, c.pos));
            }
            let key_at = c.pos;
            let (ks, ke, _) = c.string()?;
            let name = &c.input[ks..ke];
            if name.contains('\\') {
                return Err(c.err(K::InvalidKey, ks));
            }
            let key = classify(name);
            let bit = key_bit(key);
            if seen & bit != 0 {
                return Err(c.err(K::DuplicateKey, ks));
            }
            seen |= bit;
            c.expect(b':')?;
            c.ws();
            let value_at = c.pos;
            match key {
                Key::Hash | Key::Cert | Key::Subject | Key::Issuer => {
                    if c.peek() != Some(b'"') {
                        return Err(c.err(K::JsonType, value_at));
                    }
                    let v = c.string_value()?;
                    count(&mut e, v.offset)?;
                    match key {
                        Key::Hash => {
                            if self.syntax != Syntax::Diagnostic
                                && !crate::hex::is_digest(v.raw.as_bytes())
                            {
                                return Err(ParseError::new(K::InvalidHash, v.offset));
                            }
                            e.hash = Some(v);
                        }
                        Key::Cert => e.cert = Some(v),
                        Key::Subject => e.subject = Some(v),
                        _ => e.issuer = Some(v),
                    }
                }
                Key::By | Key::Uri | Key::Dns | Key::Chain => {
                    if c.peek() != Some(b'[') {
                        return Err(c.err(K::JsonType, value_at));
                    }
                    c.array(|c| {
                        if c.peek() != Some(b'"') {
                            return Err(c.err(K::JsonType, c.pos));
                        }
                        let (vs, _, _) = c.string()?;
                        count(&mut e, c.base + vs)
                    })?;
                    if key == Key::Chain {
                        e.chain = Some(Value {
                            raw: &c.input[value_at..c.pos],
                            quoted: false,
                            json: true,
                            newlines_only: false,
                            offset: c.base + value_at,
                        });
                    } else if let Some(slot) = key.repeatable_slot() {
                        e.first[slot] = key_at - start;
                    }
                }
                Key::Other => {
                    if !lenient {
                        return Err(c.err(K::UnknownKey, ks));
                    }
                    count(&mut e, c.base + value_at)?;
                    if c.peek() == Some(b'[') {
                        c.array(|c| {
                            if matches!(c.peek(), Some(b'[' | b'{')) {
                                return Err(c.err(K::JsonType, c.pos));
                            }
                            c.scalar()?;
                            count(&mut e, c.base + c.pos)
                        })?;
                    } else {
                        c.scalar()?;
                    }
                }
            }
            c.ws();
            match c.peek() {
                Some(b',') => c.pos += 1,
                Some(b'}') => {
                    c.pos += 1;
                    break;
                }
                _ => return Err(c.err(K::InvalidJson, c.pos)),
            }
        }
        e.raw = &c.input[start..c.pos];
        Ok(e)
    }
}

/// The pairs of a JSON element, in the object's order, each array item a
/// pair of its own. Reads an object that was checked when parsed; stops at
/// anything it does not expect.
#[derive(Debug, Clone)]
pub(super) struct Pairs<'a> {
    cur: Cursor<'a>,
    /// Inside an array: its key, the key's text and offset.
    array: Option<(Key, &'a str, usize)>,
}

impl<'a> Pairs<'a> {
    /// The pairs of `object` (an element's text), from the member at `from`
    /// (0: the first).
    pub(super) fn new(object: &'a str, base: usize, from: usize) -> Self {
        Self {
            cur: Cursor {
                input: object,
                base,
                pos: from,
                tab: false,
            },
            array: None,
        }
    }

    /// The items of the array at `at` in `object` (an element's text),
    /// each a pair with `key`, and then nothing: what follows the array is
    /// not read.
    pub(super) fn items(object: &'a str, base: usize, at: usize, key: Key) -> Self {
        Self {
            cur: Cursor {
                input: object,
                base,
                pos: at + 1,
                tab: false,
            },
            array: Some((key, "", base + at)),
        }
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let c = &mut self.cur;
        loop {
            c.ws();
            if let Some((key, key_raw, key_offset)) = self.array {
                match c.peek()? {
                    b',' => {
                        c.pos += 1;
                        continue;
                    }
                    b']' => {
                        c.pos += 1;
                        self.array = None;
                        if key_raw.is_empty() {
                            // `items`: the one array asked for.
                            return None;
                        }
                        continue;
                    }
                    b'"' => {
                        let value = c.string_value().ok()?;
                        return Some(Pair {
                            key,
                            key_raw,
                            key_offset,
                            value,
                        });
                    }
                    _ => {
                        c.scalar().ok()?;
                        continue;
                    }
                }
            }
            match c.peek()? {
                b'{' | b',' => {
                    c.pos += 1;
                    continue;
                }
                b'"' => {}
                _ => return None,
            }
            let (ks, ke, _) = c.string().ok()?;
            let key_raw = &c.input[ks..ke];
            let key = classify(key_raw);
            c.expect(b':').ok()?;
            c.ws();
            match c.peek()? {
                b'[' => {
                    c.pos += 1;
                    self.array = Some((key, key_raw, c.base + ks));
                }
                b'"' => {
                    let value = c.string_value().ok()?;
                    return Some(Pair {
                        key,
                        key_raw,
                        key_offset: c.base + ks,
                        value,
                    });
                }
                _ => c.scalar().ok()?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn escapes_are_checked_and_undone() {
        for (raw, text) in [
            (r"plain", "plain"),
            (r"a\nb", "a\nb"),
            (r#"\"\\\/\b\f\r\t"#, "\"\\/\u{8}\u{c}\r\t"),
            (r"\u00e9\u002C", "é,"),
            (r"\ud83d\ude00!", "😀!"),
        ] {
            let b = format!("\"{raw}\"");
            let mut c = Cursor {
                input: &b,
                base: 0,
                pos: 0,
                tab: true,
            };
            let (start, end, _) = c.string().unwrap();
            assert_eq!((start, end), (1, b.len() - 1), "{raw}");
            assert_eq!(unescape(raw), text);
        }
        for bad in [r"\x", r"\u12", r"\ud800", r"\udc00", r"\ud800\u0041", "\t"] {
            let b = format!("\"{bad}\"");
            let mut c = Cursor {
                input: &b,
                base: 0,
                pos: 0,
                tab: true,
            };
            assert!(c.string().is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_follow_json() {
        for ok in ["0", "-1", "12.5", "1e9", "-0.5E-3"] {
            assert_eq!(number_len(ok.as_bytes()), Some(ok.len()), "{ok}");
        }
        for bad in ["-", "01", "1.", ".5", "1e"] {
            assert_ne!(number_len(bad.as_bytes()), Some(bad.len()), "{bad}");
        }
    }
}
