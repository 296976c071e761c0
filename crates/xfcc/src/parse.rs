//! Zero-copy parser for Envoy's `X-Forwarded-Client-Cert` header.
//!
//! The grammar this module accepts (strict mode, the default):
//!
//! ```text
//! header   = element *( "," element )
//! element  = pair *( ";" pair ) [ ";" ]          ; trailing ";" as Azure Container Apps documents
//! pair     = key "=" value
//! key      = By / Hash / Cert / Chain / Subject / URI / DNS / SAN   ; case-insensitive, SAN = URI
//! value    = quoted / bare
//! quoted   = DQUOTE *( qchar / "\" any ) DQUOTE      ; then ";" "," or end
//! bare     = *( any byte except "," ";" DQUOTE CTL ) ; "=" allowed
//! ```
//!
//! Envoy documents the header at
//! <https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert>.
//! What it really emits differs in one way that matters: `By`, `URI` and
//! `DNS` are written unquoted even when they contain `,` `;` or `=`
//! (envoyproxy/envoy#32945). Such a header is ambiguous; this parser splits it
//! exactly as written and leaves the [consistency checks](crate::inspect::Element::decode)
//! to notice that the pieces no longer match the certificate.
//!
//! [`Syntax::Lenient`] additionally allows whitespace around delimiters, empty
//! pairs and elements, and unknown keys.
//!
//! Parsing never allocates: [`XfccHeader`] and [`Element`] borrow the input.
//!
//! # Example
//! ```
//! use xfcc::inspect::XfccHeader;
//! let header = XfccHeader::parse(
//!     "By=spiffe://edge;Hash=6a0e4d5c8b7f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b;URI=spiffe://client",
//! )?;
//! assert_eq!(header.len(), 1);
//! let element = header.elements().next().unwrap();
//! assert_eq!(element.by().next().unwrap().raw(), "spiffe://edge");
//! assert_eq!(element.uri().next().unwrap().raw(), "spiffe://client");
//! # Ok::<(), xfcc::error::ParseError>(())
//! ```

use std::borrow::Cow;

use crate::error::{ParseError, ParseErrorKind as K};
use crate::limits::Limits;

mod json;

/// How forgiving the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Syntax {
    /// What Envoy emits, plus the trailing `;` that Azure Container Apps
    /// documents. No whitespace around delimiters, no empty pairs or
    /// elements, known keys only. The default.
    #[default]
    Strict,
    /// Also allows whitespace around delimiters, empty pairs and elements,
    /// and unknown keys (kept as [`Key::Other`]).
    Lenient,
    /// As [`Lenient`](Self::Lenient), and a `Hash` that is not 64 or 40 hex
    /// digits (`Hash=abc`, as Envoy's own docs write it) is kept as it is
    /// rather than refused: for tools that show what a proxy sent (`xfcc
    /// inspect`), where it is a problem of that element. A policy refuses
    /// this syntax at build time.
    Diagnostic,
}

/// Parser settings: [`Limits`] and [`Syntax`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    limits: Limits,
    syntax: Syntax,
}

impl ParseOptions {
    /// Strict syntax, default limits.
    pub const DEFAULT: Self = Self {
        limits: Limits::DEFAULT,
        syntax: Syntax::Strict,
    };

    /// With these limits. Default [`Limits::DEFAULT`].
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// With this syntax. Default [`Syntax::Strict`].
    #[must_use]
    pub const fn with_syntax(mut self, syntax: Syntax) -> Self {
        self.syntax = syntax;
        self
    }

    /// The limits in force.
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The syntax in force.
    pub const fn syntax(&self) -> Syntax {
        self.syntax
    }
}

/// A key of an XFCC pair, matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// `By`: a URI SAN of the proxy's own certificate (repeatable).
    By,
    /// `Hash`: hex SHA-256 of the client certificate's DER.
    Hash,
    /// `Cert`: the client certificate, URL-encoded PEM.
    Cert,
    /// `Chain`: the client's chain as it sent it, leaf first, URL-encoded PEM.
    Chain,
    /// `Subject`: the client certificate's subject, RFC 2253.
    Subject,
    /// `URI` (or the legacy `SAN`): a URI SAN of the client (repeatable).
    Uri,
    /// `DNS`: a DNS SAN of the client (repeatable).
    Dns,
    /// `Issuer`: the client certificate's issuer, RFC 2253 (Envoy 1.38 and
    /// later, `set_current_client_cert_details: {issuer: true}`).
    Issuer,
    /// Any other key (lenient mode only).
    Other,
}

impl Key {
    fn classify(key: &[u8]) -> Self {
        let eq = |k: &str| key.eq_ignore_ascii_case(k.as_bytes());
        match key.len() {
            2 if eq("by") => Self::By,
            3 if eq("uri") => Self::Uri,
            3 if eq("san") => Self::Uri,
            3 if eq("dns") => Self::Dns,
            4 if eq("hash") => Self::Hash,
            4 if eq("cert") => Self::Cert,
            5 if eq("chain") => Self::Chain,
            6 if eq("issuer") => Self::Issuer,
            7 if eq("subject") => Self::Subject,
            _ => Self::Other,
        }
    }

    const fn singleton_bit(self) -> u8 {
        match self {
            Self::Hash => 1,
            Self::Cert => 2,
            Self::Chain => 4,
            Self::Subject => 8,
            Self::Issuer => 16,
            _ => 0,
        }
    }

    /// A slot for each key that may repeat, so that an element knows
    /// without scanning again where the first one is.
    const fn repeatable_slot(self) -> Option<usize> {
        match self {
            Self::By => Some(0),
            Self::Uri => Some(1),
            Self::Dns => Some(2),
            _ => None,
        }
    }
}

/// A value as it appears in the header, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a str,
    quoted: bool,
    /// A value of the JSON form: `raw` is a JSON string's contents (or, for
    /// `chain`, the whole array), still escaped.
    json: bool,
    /// A JSON string whose only escapes are `\n` (a PEM as Envoy writes it).
    newlines_only: bool,
    offset: usize,
}

impl<'a> Value<'a> {
    /// The text between the quotes (or the bare value), with no unescaping.
    ///
    /// For `Subject` this is the RFC 2253 string to hand to a DN parser: do
    /// not XFCC-unescape it, since RFC 2253 already escapes `"` and `\`.
    /// In the JSON form it is the JSON string's contents, still escaped
    /// (and for `chain`, the whole array): read values with
    /// [`text`](Self::text).
    pub const fn raw(&self) -> &'a str {
        self.raw
    }

    /// The value as the proxy meant it: in the text form exactly
    /// [`raw`](Self::raw) (a `Subject` stays RFC 2253-escaped), in the
    /// JSON form the string with its JSON escapes undone. Borrows unless
    /// there was an escape to undo. This is what the crate compares and
    /// decodes.
    pub fn text(&self) -> Cow<'a, str> {
        if self.json {
            json::unescape(self.raw)
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// Whether the value came from the JSON form of the header.
    pub const fn is_json(&self) -> bool {
        self.json
    }

    /// A certificate value as the certificate decoder takes it: in the
    /// JSON form, a PEM whose only escapes are `\n` (Envoy escapes only its
    /// line breaks) is handed over as it is, since the decoder reads
    /// `\n`-escaped PEM (the recipes' form) without copying it; any other
    /// escape is undone first. The text form is `raw`.
    pub(crate) fn pem_text(&self) -> Cow<'a, str> {
        if self.json && !self.newlines_only {
            json::unescape(self.raw)
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// Byte offset of the value's first character in the header (after the
    /// opening quote, if any).
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The value with Envoy's escapes undone: `\"` becomes `"` and `\\`
    /// becomes `\`; any other `\x` is kept as is. In the JSON form, every
    /// JSON escape is undone (as [`text`](Self::text)). Borrows unless an
    /// escape is present.
    pub fn unescaped(&self) -> Cow<'a, str> {
        if self.json {
            return json::unescape(self.raw);
        }
        if !self.quoted || !self.raw.contains('\\') {
            return Cow::Borrowed(self.raw);
        }
        let mut out = String::with_capacity(self.raw.len());
        let mut chars = self.raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('"' | '\\')) => out.push(n),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }
}

/// One `key=value` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair<'a> {
    key: Key,
    key_raw: &'a str,
    key_offset: usize,
    value: Value<'a>,
}

impl<'a> Pair<'a> {
    /// The key, classified.
    pub const fn key(&self) -> Key {
        self.key
    }

    /// The value.
    pub const fn value(&self) -> Value<'a> {
        self.value
    }
}

/// A parsed header: one or more elements, one per proxy hop, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XfccHeader<'a> {
    input: &'a str,
    len: usize,
    syntax: Syntax,
    /// The first element, kept from validation, and where scanning resumes
    /// after it: most headers have one element, which is then never
    /// scanned twice.
    first: Element<'a>,
    resume: usize,
    resume_after_comma: bool,
    /// The JSON form (Envoy's `format: JSON`).
    json: bool,
}

impl<'a> XfccHeader<'a> {
    /// Parses with [`ParseOptions::DEFAULT`] (strict syntax, default limits).
    ///
    /// # Errors
    /// A [`ParseError`] with the kind and byte offset of the first problem.
    pub fn parse(input: &'a str) -> Result<Self, ParseError> {
        Self::parse_with(input, &ParseOptions::DEFAULT)
    }

    /// Parses raw header bytes (as `http::HeaderValue::as_bytes` gives them).
    ///
    /// # Errors
    /// [`ParseErrorKind::InvalidUtf8`](crate::error::ParseErrorKind::InvalidUtf8)
    /// for non-UTF-8 input; otherwise as [`parse_with`](Self::parse_with).
    pub fn parse_bytes(input: &'a [u8], options: &ParseOptions) -> Result<Self, ParseError> {
        if input.len() > options.limits.bytes() {
            return Err(ParseError::new(K::TooLong, options.limits.bytes()));
        }
        match std::str::from_utf8(input) {
            Ok(s) => Self::parse_with(s, options),
            Err(e) => Err(ParseError::new(K::InvalidUtf8, e.valid_up_to())),
        }
    }

    /// Parses with the given options.
    ///
    /// # Errors
    /// A [`ParseError`] with the kind and byte offset of the first problem.
    pub fn parse_with(input: &'a str, options: &ParseOptions) -> Result<Self, ParseError> {
        let limits = &options.limits;
        if input.len() > limits.bytes() {
            return Err(ParseError::new(K::TooLong, limits.bytes()));
        }
        let (ctl, tab) = find_ctl_and_tab(input.as_bytes());
        if let Some(at) = ctl {
            return Err(refine_error(
                input,
                ParseError::new(K::ControlCharacter, at),
            ));
        }
        if json::is_json(input, options.syntax) {
            return Self::parse_json(input, options, tab);
        }
        let mut scanner = Scanner::new(input, options.syntax);
        let mut len = 0usize;
        let mut first = None;
        loop {
            match scanner.next_element(limits.pairs()) {
                Ok(Some(e)) => {
                    if first.is_none() {
                        first = Some((e, scanner.pos, scanner.after_comma));
                    }
                    len += 1;
                    if len > limits.elements() {
                        return Err(ParseError::new(K::TooManyElements, scanner.last_start));
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(refine_error(input, e)),
            }
        }
        let Some((first, resume, resume_after_comma)) = first else {
            return Err(ParseError::new(K::Empty, 0));
        };
        Ok(Self {
            input,
            len,
            syntax: options.syntax,
            first,
            resume,
            resume_after_comma,
            json: false,
        })
    }

    /// The JSON form: an array of objects (see the `json` module).
    /// `tab`: whether the input holds a tab.
    fn parse_json(input: &'a str, options: &ParseOptions, tab: bool) -> Result<Self, ParseError> {
        let limits = &options.limits;
        let mut scanner = json::Scanner::new(input, options.syntax, tab)?;
        let mut len = 0usize;
        let mut first = None;
        while let Some(e) = scanner.next_element(limits.pairs())? {
            if first.is_none() {
                first = Some((e, scanner.pos()));
            }
            len += 1;
            if len > limits.elements() {
                return Err(ParseError::new(K::TooManyElements, scanner.last_start));
            }
        }
        let Some((first, resume)) = first else {
            return Err(ParseError::new(K::Empty, 0));
        };
        Ok(Self {
            input,
            len,
            syntax: options.syntax,
            first,
            resume,
            resume_after_comma: false,
            json: true,
        })
    }

    /// Whether the header is in Envoy's JSON form (an array of objects, as
    /// `set_current_client_cert_details: {format: JSON}` writes it, and as
    /// an `APPEND_FORWARD` hop writes whenever the header it received
    /// looked like JSON) rather than the `key=value` text form.
    pub const fn is_json(&self) -> bool {
        self.json
    }

    /// The header value that was parsed.
    pub const fn as_str(&self) -> &'a str {
        self.input
    }

    /// Number of elements (at least one).
    #[expect(clippy::len_without_is_empty)] // a parsed header is never empty
    pub const fn len(&self) -> usize {
        self.len
    }

    /// The elements, oldest hop first.
    pub fn elements(&self) -> Elements<'a> {
        let scanner = if self.json {
            Scan::Json(json::Scanner::resume(
                self.input,
                self.syntax,
                self.resume,
                1,
            ))
        } else {
            let mut scanner = Scanner::new(self.input, self.syntax);
            scanner.pos = self.resume;
            scanner.index = 1;
            scanner.after_comma = self.resume_after_comma;
            Scan::Text(scanner)
        };
        Elements {
            first: Some(self.first),
            scanner,
        }
    }

    /// The element at `index`, counting from 0.
    pub fn element(&self, index: usize) -> Option<Element<'a>> {
        self.elements().nth(index)
    }
}

/// Iterator over the elements of an [`XfccHeader`].
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    first: Option<Element<'a>>,
    scanner: Scan<'a>,
}

/// The scanner of either form.
#[derive(Debug, Clone)]
enum Scan<'a> {
    Text(Scanner<'a>),
    Json(json::Scanner<'a>),
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        // The header was validated when parsed, so scanning cannot fail here;
        // if it somehow did, stop rather than panic.
        match &mut self.scanner {
            Scan::Text(s) => s.next_element(usize::MAX).ok().flatten(),
            Scan::Json(s) => s.next_element(usize::MAX).ok().flatten(),
        }
    }
}

/// One element: what one proxy hop said about its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    raw: &'a str,
    offset: usize,
    index: usize,
    pairs: usize,
    syntax: Syntax,
    hash: Option<Value<'a>>,
    cert: Option<Value<'a>>,
    chain: Option<Value<'a>>,
    subject: Option<Value<'a>>,
    issuer: Option<Value<'a>>,
    /// From the JSON form.
    json: bool,
    /// For each [`Key::repeatable_slot`], the offset in `raw` of the first
    /// such pair (`usize::MAX` when there is none): reading them again
    /// starts there, after the long `Cert` and `Chain` values.
    first: [usize; 3],
}

impl<'a> Element<'a> {
    /// Position of this element in the header, from 0.
    pub const fn index(&self) -> usize {
        self.index
    }

    /// Byte offset of the element in the header.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The element's text.
    pub const fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Number of pairs.
    pub const fn pair_count(&self) -> usize {
        self.pairs
    }

    /// `Hash`, if present (validated as 64 or 40 hex digits).
    pub const fn hash(&self) -> Option<Value<'a>> {
        self.hash
    }

    /// `Cert`, if present (still URL-encoded).
    pub const fn cert(&self) -> Option<Value<'a>> {
        self.cert
    }

    /// `Chain`, if present (still URL-encoded).
    pub const fn chain(&self) -> Option<Value<'a>> {
        self.chain
    }

    /// `Subject`, if present.
    pub const fn subject(&self) -> Option<Value<'a>> {
        self.subject
    }

    /// `Issuer`, if present: the issuer's name, RFC 2253, as Envoy 1.38 and
    /// later write it with `set_current_client_cert_details: {issuer: true}`.
    pub const fn issuer(&self) -> Option<Value<'a>> {
        self.issuer
    }

    /// Whether the element is an object of Envoy's JSON form. Its `URI` and
    /// `DNS` values are then exactly the proxy's, whatever they hold: JSON
    /// escapes them, where the text form writes them bare.
    pub const fn is_json(&self) -> bool {
        self.json
    }

    /// All pairs, in order. In the JSON form each item of an array (`by`,
    /// `uri`, `dns`, `chain`) is a pair of its own.
    pub fn pairs(&self) -> Pairs<'a> {
        let inner = if self.json {
            PairsInner::Json(json::Pairs::new(self.raw, self.offset, 0))
        } else {
            PairsInner::Text(Scanner::at(self.raw, self.offset, self.syntax))
        };
        Pairs { inner }
    }

    /// The `By` values, in order.
    pub fn by(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        self.values(Key::By)
    }

    /// The `URI` (and legacy `SAN`) values, in order. Envoy writes `URI=`
    /// (an empty value) when the certificate has no URI SAN.
    pub fn uri(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        self.values(Key::Uri)
    }

    /// The `DNS` values, in order.
    pub fn dns(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        self.values(Key::Dns)
    }

    /// The certificates of `Chain` one by one: in the JSON form each item
    /// of the array; `None` in the text form, where `Chain` is one value.
    pub(crate) fn chain_items(&self) -> Option<impl Iterator<Item = Value<'a>> + 'a> {
        let chain = self.chain.filter(|_| self.json)?;
        let at = chain.offset - self.offset;
        Some(json::Pairs::items(self.raw, self.offset, at, Key::Chain).map(|p| p.value))
    }

    /// The pairs from the first `By`, `URI` or `DNS` (whichever of `keys`
    /// comes first) to the end; nothing when the element has none of them.
    pub(crate) fn pairs_from_first(&self, keys: &[Key]) -> Pairs<'a> {
        let from = keys
            .iter()
            .filter_map(|k| k.repeatable_slot())
            .map(|slot| self.first[slot])
            .min()
            .unwrap_or(usize::MAX);
        let start = from.min(self.raw.len());
        let inner = if self.json {
            PairsInner::Json(json::Pairs::new(self.raw, self.offset, start))
        } else {
            PairsInner::Text(Scanner::at(
                &self.raw[start..],
                self.offset + start,
                self.syntax,
            ))
        };
        Pairs { inner }
    }

    fn values(&self, key: Key) -> impl Iterator<Item = Value<'a>> + 'a {
        // In the JSON form, the one array of the key (not the rest of the
        // object, where the long `cert` and `chain` strings may be).
        let array = key
            .repeatable_slot()
            .map(|slot| self.first[slot])
            .filter(|&at| self.json && at < self.raw.len())
            .and_then(|at| json::array_after_key(self.raw, at));
        let (pairs, only) = match array {
            Some(at) => (
                Pairs {
                    inner: PairsInner::Json(json::Pairs::items(self.raw, self.offset, at, key)),
                },
                true,
            ),
            None => (self.pairs_from_first(&[key]), false),
        };
        pairs.filter(move |p| only || p.key == key).map(|p| p.value)
    }
}

/// Iterator over the pairs of an [`Element`].
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    inner: PairsInner<'a>,
}

#[derive(Debug, Clone)]
enum PairsInner<'a> {
    Text(Scanner<'a>),
    Json(json::Pairs<'a>),
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let scanner = match &mut self.inner {
            PairsInner::Text(s) => s,
            PairsInner::Json(p) => return p.next(),
        };
        loop {
            match scanner.next_pair() {
                Ok(Step::Pair(p, _)) => return Some(p),
                Ok(Step::Skip) => continue,
                Ok(Step::End) | Err(_) => return None,
            }
        }
    }
}

/// What follows a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delim {
    Semicolon,
    Comma,
    End,
}

enum Step<'a> {
    Pair(Pair<'a>, Delim),
    /// An empty pair skipped in lenient mode (or an allowed trailing `;`).
    Skip,
    /// End of element (a `,` consumed, or end of input).
    End,
}

#[derive(Debug, Clone)]
struct Scanner<'a> {
    input: &'a str,
    /// Offset of `input` within the whole header (for error offsets).
    base: usize,
    pos: usize,
    syntax: Syntax,
    index: usize,
    last_start: usize,
    /// True once the current element's end was reached.
    element_done: bool,
    /// True when the last element ended with `,`, so another must follow.
    after_comma: bool,
}

const fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Offset of the first control character (other than tab), if any. Written
/// as a branch-free reduction per chunk so that it vectorises.
#[cfg(test)]
fn find_ctl(b: &[u8]) -> Option<usize> {
    find_ctl_and_tab(b).0
}

/// [`find_ctl`], and whether a tab comes before that point (or anywhere,
/// when there is none): the chunks it looks at byte by byte are the only
/// ones that can hold a tab.
fn find_ctl_and_tab(b: &[u8]) -> (Option<usize>, bool) {
    let ctl = |c: u8| (c < 0x20 && c != b'\t') || c == 0x7f;
    let mut tab = false;
    // Over 64-byte chunks, a branch-free minimum the compiler vectorises:
    // `(c + 1) & 0x7f` is at most 0x20 for every control byte (and for a
    // few others: tab, 0x80..=0x9f, 0xff), so a chunk whose minimum is
    // above 0x20 has none; the others are looked at byte by byte.
    let mut chunks = b.chunks_exact(64);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let min = chunk
            .iter()
            .fold(u8::MAX, |m, &c| m.min(c.wrapping_add(1) & 0x7f));
        if min <= 0x20 {
            tab |= chunk.contains(&b'\t');
            if let Some(i) = chunk.iter().position(|&c| ctl(c)) {
                return (Some(n * 64 + i), tab);
            }
        }
    }
    let tail = b.len() - chunks.remainder().len();
    let rest = chunks.remainder();
    tab |= rest.contains(&b'\t');
    (rest.iter().position(|&c| ctl(c)).map(|i| tail + i), tab)
}

const fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl<'a> Scanner<'a> {
    const fn new(input: &'a str, syntax: Syntax) -> Self {
        Self::at(input, 0, syntax)
    }

    const fn at(input: &'a str, base: usize, syntax: Syntax) -> Self {
        Self {
            input,
            base,
            pos: 0,
            syntax,
            index: 0,
            last_start: base,
            element_done: false,
            after_comma: false,
        }
    }

    const fn lenient(&self) -> bool {
        matches!(self.syntax, Syntax::Lenient | Syntax::Diagnostic)
    }

    fn bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    fn err(&self, kind: K, at: usize) -> ParseError {
        ParseError::new(kind, self.base + at)
    }

    fn skip_ows(&mut self) {
        let b = self.bytes();
        while self.pos < b.len() && is_ows(b[self.pos]) {
            self.pos += 1;
        }
    }

    /// Scans one element. `Ok(None)` at the end of input.
    fn next_element(&mut self, max_pairs: usize) -> Result<Option<Element<'a>>, ParseError> {
        let b = self.bytes();
        loop {
            if self.lenient() {
                self.skip_ows();
            }
            if self.pos >= b.len() {
                if !self.after_comma || self.lenient() {
                    return Ok(None);
                }
                // Header ended right after a ",".
                return Err(self.err(K::EmptyElement, self.pos));
            }
            if b[self.pos] == b',' {
                if self.lenient() {
                    self.pos += 1;
                    continue;
                }
                return Err(self.err(K::EmptyElement, self.pos));
            }
            break;
        }
        let start = self.pos;
        self.last_start = self.base + start;
        self.element_done = false;
        let mut element = Element {
            raw: "",
            offset: self.base + start,
            index: self.index,
            pairs: 0,
            syntax: self.syntax,
            hash: None,
            cert: None,
            chain: None,
            subject: None,
            issuer: None,
            json: false,
            first: [usize::MAX; 3],
        };
        let mut seen = 0u8;
        let mut end = start;
        loop {
            match self.next_pair()? {
                Step::Pair(pair, delim) => {
                    element.pairs += 1;
                    if element.pairs > max_pairs {
                        return Err(ParseError::new(K::TooManyPairs, pair.value.offset));
                    }
                    let bit = pair.key.singleton_bit();
                    if seen & bit != 0 {
                        return Err(ParseError::new(K::DuplicateKey, pair.key_offset));
                    }
                    seen |= bit;
                    match pair.key {
                        Key::Hash => {
                            if self.syntax != Syntax::Diagnostic
                                && !crate::hex::is_digest(pair.value.raw.as_bytes())
                            {
                                return Err(ParseError::new(K::InvalidHash, pair.value.offset));
                            }
                            element.hash = Some(pair.value);
                        }
                        Key::Cert => element.cert = Some(pair.value),
                        Key::Chain => element.chain = Some(pair.value),
                        Key::Subject => element.subject = Some(pair.value),
                        Key::Issuer => element.issuer = Some(pair.value),
                        key => {
                            if let Some(slot) = key.repeatable_slot() {
                                let at = pair.key_offset - element.offset;
                                element.first[slot] = element.first[slot].min(at);
                            }
                        }
                    }
                    end = self.value_end(&pair);
                    if delim == Delim::Comma || delim == Delim::End {
                        break;
                    }
                }
                Step::Skip => {}
                Step::End => break,
            }
        }
        if element.pairs == 0 {
            return Err(self.err(K::EmptyElement, start));
        }
        element.raw = &self.input[start..end.max(start)];
        self.index += 1;
        Ok(Some(element))
    }

    /// Position just past a pair's value (and its closing quote).
    fn value_end(&self, pair: &Pair<'a>) -> usize {
        let v = pair.value.offset - self.base + pair.value.raw.len();
        if pair.value.quoted { v + 1 } else { v }
    }

    /// Scans one pair at `pos`, consuming the delimiter after it.
    fn next_pair(&mut self) -> Result<Step<'a>, ParseError> {
        let b = self.bytes();
        if self.element_done {
            return Ok(Step::End);
        }
        let pair_start = self.pos;
        if self.lenient() {
            self.skip_ows();
        }
        if self.pos >= b.len() {
            self.element_done = true;
            return Ok(Step::End);
        }
        match b[self.pos] {
            b';' => {
                if self.lenient() {
                    self.pos += 1;
                    return Ok(Step::Skip);
                }
                return Err(self.err(K::EmptyPair, self.pos));
            }
            b',' => {
                // Only reached in lenient mode (an empty pair before ",") or
                // after an allowed trailing ";".
                self.pos += 1;
                self.element_done = true;
                self.after_comma = true;
                return Ok(Step::End);
            }
            c if is_ows(c) => return Err(self.err(K::UnexpectedWhitespace, self.pos)),
            _ => {}
        }

        // Key.
        let key_start = self.pos;
        while self.pos < b.len() && is_token(b[self.pos]) {
            self.pos += 1;
        }
        let key_end = self.pos;
        if self.lenient() {
            self.skip_ows();
        }
        match b.get(self.pos) {
            Some(b'=') => {}
            None | Some(b';' | b',') => return Err(self.err(K::MissingEquals, pair_start)),
            Some(c) if is_ows(*c) => return Err(self.err(K::UnexpectedWhitespace, self.pos)),
            Some(_) => return Err(self.err(K::InvalidKey, key_start)),
        }
        if key_end == key_start {
            return Err(self.err(K::InvalidKey, key_start));
        }
        let key_raw = &self.input[key_start..key_end];
        let key = Key::classify(key_raw.as_bytes());
        if key == Key::Other && !self.lenient() {
            return Err(self.err(K::UnknownKey, key_start));
        }
        self.pos += 1; // '='
        if self.lenient() {
            self.skip_ows();
        }

        // Value.
        let value = if b.get(self.pos) == Some(&b'"') {
            let open = self.pos;
            self.pos += 1;
            let vstart = self.pos;
            // Control characters were rejected up front; jump between
            // quotes and backslashes.
            loop {
                match memchr::memchr2(b'"', b'\\', &b[self.pos..]) {
                    None => return Err(self.err(K::UnterminatedQuote, open)),
                    Some(i) if b[self.pos + i] == b'"' => {
                        self.pos += i;
                        break;
                    }
                    Some(i) => {
                        // A backslash escapes the next byte, whatever it is.
                        if self.pos + i + 1 >= b.len() {
                            return Err(self.err(K::UnterminatedQuote, open));
                        }
                        self.pos += i + 2;
                    }
                }
            }
            let v = Value {
                raw: &self.input[vstart..self.pos],
                quoted: true,
                json: false,
                newlines_only: false,
                offset: self.base + vstart,
            };
            self.pos += 1; // closing quote
            if self.lenient() {
                self.skip_ows();
            }
            match b.get(self.pos) {
                None | Some(b';' | b',') => {}
                Some(_) => return Err(self.err(K::TextAfterQuote, self.pos)),
            }
            v
        } else {
            let vstart = self.pos;
            match memchr::memchr3(b';', b',', b'"', &b[self.pos..]) {
                Some(i) if b[self.pos + i] == b'"' => {
                    return Err(self.err(K::QuoteInBareValue, self.pos + i));
                }
                Some(i) => self.pos += i,
                None => self.pos = b.len(),
            }
            let mut vend = self.pos;
            if self.lenient() {
                while vend > vstart && is_ows(b[vend - 1]) {
                    vend -= 1;
                }
            }
            Value {
                raw: &self.input[vstart..vend],
                quoted: false,
                json: false,
                newlines_only: false,
                offset: self.base + vstart,
            }
        };

        let delim = match b.get(self.pos) {
            None => Delim::End,
            Some(b',') => {
                self.pos += 1;
                Delim::Comma
            }
            Some(_) => {
                // ';'
                self.pos += 1;
                // A ';' right before ',' or the end closes the element (the
                // trailing ';' of Azure Container Apps' documented form).
                let mut look = self.pos;
                if self.lenient() {
                    while look < b.len() && is_ows(b[look]) {
                        look += 1;
                    }
                }
                match b.get(look) {
                    None => {
                        self.pos = look;
                        Delim::End
                    }
                    Some(b',') => {
                        self.pos = look + 1;
                        Delim::Comma
                    }
                    Some(_) => Delim::Semicolon,
                }
            }
        };
        if delim != Delim::Semicolon {
            self.element_done = true;
            self.after_comma = delim == Delim::Comma;
        }
        Ok(Step::Pair(
            Pair {
                key,
                key_raw,
                key_offset: self.base + key_start,
                value,
            },
            delim,
        ))
    }
}

/// Whether `input` is read as Envoy's JSON form under `syntax` (what
/// [`XfccHeader::parse_with`] decides before it parses).
pub(crate) fn is_json_form(input: &str, syntax: Syntax) -> bool {
    json::is_json(input, syntax)
}

/// Turns a syntax error on what is really a different format into a clearer one.
fn refine_error(input: &str, e: ParseError) -> ParseError {
    if matches!(e.kind(), K::MissingEquals | K::InvalidKey) && looks_like_bare_base64_der(input) {
        return ParseError::new(K::WrongFormat, 0);
    }
    // No Envoy header begins like these: nginx's (URL-encoded) PEM, and
    // RFC 9440's `:base64:`.
    let head = input.trim_start().as_bytes();
    let starts = |p: &[u8]| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"-----BEGIN") || starts(b"%2D%2D%2D%2D%2DBEGIN") {
        return ParseError::new(K::WrongFormatPem, 0);
    }
    if starts(b":MII") {
        return ParseError::new(K::WrongFormatRfc9440, 0);
    }
    e
}

/// Whether `s` looks like a base64 DER certificate (it starts with `MII`,
/// the encoding of a long SEQUENCE header, and is all base64).
pub(crate) fn looks_like_bare_base64_der(s: &str) -> bool {
    let s = s.trim();
    s.len() >= 64
        && s.starts_with("MII")
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn find_ctl_agrees_with_a_bytewise_scan() {
        let slow = |b: &[u8]| {
            b.iter()
                .position(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
        };
        for len in [1usize, 7, 8, 9, 17, 63, 64, 65, 130] {
            for at in 0..len {
                for c in 0..=255u8 {
                    // Printable text around one byte of every value, with a
                    // tab and a high byte elsewhere.
                    let mut b: Vec<u8> = (0..len).map(|n| b'a' + (n % 26) as u8).collect();
                    b[(at + 1) % len] = if c % 2 == 0 { b'\t' } else { 0xc3 };
                    b[at] = c;
                    assert_eq!(find_ctl(&b), slow(&b), "len {len} at {at} byte {c:#x}");
                }
            }
        }
    }
    use crate::error::ParseErrorKind;

    const H: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

    fn kind(input: &str) -> ParseErrorKind {
        XfccHeader::parse(input).unwrap_err().kind()
    }

    fn lenient(input: &str) -> Result<XfccHeader<'_>, ParseError> {
        XfccHeader::parse_with(input, &ParseOptions::DEFAULT.with_syntax(Syntax::Lenient))
    }

    #[test]
    fn accepts_envoy_full_element() {
        let s = format!(
            "By=spiffe://a/b;By=spiffe://a/c;Hash={H};Cert=\"-----BEGIN%20CERTIFICATE-----%0AMII%2B%3D%0A\";Chain=\"x\";Subject=\"CN=a\\,b,O=c\";URI=spiffe://client;URI=;DNS=a.example;DNS=b.example"
        );
        let h = XfccHeader::parse(&s).unwrap();
        assert_eq!(h.len(), 1);
        let e = h.elements().next().unwrap();
        assert_eq!(
            e.by().map(|v| v.raw()).collect::<Vec<_>>(),
            ["spiffe://a/b", "spiffe://a/c"]
        );
        assert_eq!(e.hash().unwrap().raw(), H);
        assert!(e.cert().unwrap().quoted);
        assert_eq!(
            e.cert().unwrap().raw(),
            "-----BEGIN%20CERTIFICATE-----%0AMII%2B%3D%0A"
        );
        assert_eq!(e.chain().unwrap().raw(), "x");
        assert_eq!(e.subject().unwrap().raw(), "CN=a\\,b,O=c");
        assert_eq!(
            e.uri().map(|v| v.raw()).collect::<Vec<_>>(),
            ["spiffe://client", ""]
        );
        assert_eq!(
            e.dns().map(|v| v.raw()).collect::<Vec<_>>(),
            ["a.example", "b.example"]
        );
        assert_eq!(e.pair_count(), 10);
        assert_eq!(e.as_str(), s);
    }

    #[test]
    fn accepts_keys_in_any_case_and_legacy_san() {
        let s = format!("BY=x;hash={H};SAN=spiffe://legacy;dns=d");
        let e = XfccHeader::parse(&s).unwrap().element(0).unwrap();
        assert_eq!(e.by().count(), 1);
        assert!(e.hash().is_some());
        assert_eq!(e.uri().next().unwrap().raw(), "spiffe://legacy");
        assert_eq!(e.dns().next().unwrap().raw(), "d");
    }

    #[test]
    fn accepts_aca_trailing_semicolon() {
        let s = format!("Hash={H};Cert=\"a\";Chain=\"b\";");
        let h = XfccHeader::parse(&s).unwrap();
        assert_eq!(h.len(), 1);
        let e = h.element(0).unwrap();
        assert_eq!(e.chain().unwrap().raw(), "b");
        assert_eq!(e.as_str(), format!("Hash={H};Cert=\"a\";Chain=\"b\""));
        // Also before a following element.
        let two = format!("Hash={H};,Hash={H};");
        assert_eq!(XfccHeader::parse(&two).unwrap().len(), 2);
    }

    #[test]
    fn accepts_delimiters_inside_quotes() {
        let s = r#"Subject="CN=a\,b\;c\"d\\e+OU=x,O=y;z";URI=u"#;
        let e = XfccHeader::parse(s).unwrap().element(0).unwrap();
        assert_eq!(e.subject().unwrap().raw(), r#"CN=a\,b\;c\"d\\e+OU=x,O=y;z"#);
        assert_eq!(e.uri().next().unwrap().raw(), "u");
    }

    #[test]
    fn accepts_equals_in_bare_value() {
        let e = XfccHeader::parse("URI=urn:a=b=c")
            .unwrap()
            .element(0)
            .unwrap();
        assert_eq!(e.uri().next().unwrap().raw(), "urn:a=b=c");
    }

    #[test]
    fn splits_elements_in_order() {
        let s = format!("Hash={H};URI=first,By=proxy;Hash={H};URI=second");
        let h = XfccHeader::parse(&s).unwrap();
        assert_eq!(h.len(), 2);
        let e: Vec<_> = h.elements().collect();
        assert_eq!(e[0].index(), 0);
        assert_eq!(e[1].index(), 1);
        assert_eq!(e[1].offset(), s.find(",By").unwrap() + 1);
        assert_eq!(e[1].uri().next().unwrap().raw(), "second");
        assert_eq!(e[1].by().next().unwrap().offset(), s.find("proxy").unwrap());
    }

    #[test]
    fn unescapes_only_quote_and_backslash() {
        let e = XfccHeader::parse(r#"Subject="a\"b\\c\,d""#)
            .unwrap()
            .element(0)
            .unwrap();
        assert_eq!(e.subject().unwrap().unescaped(), r#"a"b\c\,d"#);
        let e = XfccHeader::parse("URI=plain").unwrap().element(0).unwrap();
        assert!(matches!(
            e.uri().next().unwrap().unescaped(),
            Cow::Borrowed("plain")
        ));
    }

    #[test]
    fn accepts_empty_values() {
        let e = XfccHeader::parse("Subject=\"\";URI=")
            .unwrap()
            .element(0)
            .unwrap();
        assert_eq!(e.subject().unwrap().raw(), "");
        assert_eq!(e.uri().next().unwrap().raw(), "");
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(kind(""), ParseErrorKind::Empty);
        assert_eq!(lenient(" , ").unwrap_err().kind(), ParseErrorKind::Empty);
    }

    #[test]
    fn rejects_unterminated_quote_at_the_quote() {
        let e = XfccHeader::parse("URI=a;Cert=\"abc").unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::UnterminatedQuote);
        assert_eq!(e.offset(), 11);
        assert_eq!(kind("Cert=\"abc\\\""), ParseErrorKind::UnterminatedQuote);
        assert_eq!(kind("Cert=\"abc\\"), ParseErrorKind::UnterminatedQuote);
    }

    #[test]
    fn rejects_text_after_quote() {
        assert_eq!(kind("Cert=\"a\"b;URI=x"), ParseErrorKind::TextAfterQuote);
        assert_eq!(kind("Cert=\"a\" ;URI=x"), ParseErrorKind::TextAfterQuote);
    }

    #[test]
    fn rejects_quote_in_bare_value() {
        // Quote smuggling: Subject=x";Cert=<legit>;URI=";Cert=<forged>
        let e = XfccHeader::parse("Subject=x\";Cert=\"a\";URI=\";Cert=\"b\"").unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::QuoteInBareValue);
        assert_eq!(e.offset(), 9);
    }

    #[test]
    fn rejects_pair_without_equals() {
        assert_eq!(kind("URI=a;Cert"), ParseErrorKind::MissingEquals);
        assert_eq!(kind("Cert;URI=a"), ParseErrorKind::MissingEquals);
    }

    #[test]
    fn rejects_invalid_keys() {
        assert_eq!(kind("=a"), ParseErrorKind::InvalidKey);
        assert_eq!(kind("\"By\"=a"), ParseErrorKind::InvalidKey);
        assert_eq!(kind("B.y=a"), ParseErrorKind::InvalidKey);
    }

    #[test]
    fn rejects_unknown_key_in_strict_mode_only() {
        assert_eq!(kind("URI=a;Foo=b"), ParseErrorKind::UnknownKey);
        let h = lenient("URI=a;Foo=b").unwrap();
        let pairs: Vec<_> = h.element(0).unwrap().pairs().collect();
        assert_eq!(pairs[1].key(), Key::Other);
        assert_eq!(pairs[1].key_raw, "Foo");
    }

    #[test]
    fn rejects_duplicate_singletons() {
        for key in ["Hash", "Cert", "Chain", "Subject"] {
            let value = if key == "Hash" {
                H.to_owned()
            } else {
                "\"x\"".to_owned()
            };
            let s = format!("{key}={value};URI=a;{}={value}", key.to_ascii_lowercase());
            let e = XfccHeader::parse(&s).unwrap_err();
            assert_eq!(e.kind(), ParseErrorKind::DuplicateKey, "{key}");
            assert_eq!(e.offset(), s.rfind(';').unwrap() + 1, "{key}");
        }
    }

    #[test]
    fn accepts_repeated_multi_keys_and_same_singleton_in_other_elements() {
        let s = format!("By=a;By=b;URI=c;URI=d;DNS=e;DNS=f;Hash={H},Hash={H}");
        assert_eq!(XfccHeader::parse(&s).unwrap().len(), 2);
    }

    #[test]
    fn rejects_empty_pairs_and_elements_in_strict_mode() {
        assert_eq!(kind("URI=a;;DNS=b"), ParseErrorKind::EmptyPair);
        assert_eq!(kind(";URI=a"), ParseErrorKind::EmptyPair);
        assert_eq!(kind("URI=a,,URI=b"), ParseErrorKind::EmptyElement);
        assert_eq!(kind(",URI=a"), ParseErrorKind::EmptyElement);
        assert_eq!(kind("URI=a,"), ParseErrorKind::EmptyElement);
        assert_eq!(kind("URI=a;;"), ParseErrorKind::EmptyPair);
    }

    #[test]
    fn lenient_skips_whitespace_and_empties() {
        let h = lenient(
            " URI = a ; ; DNS=\"b\" , , Hash = "
                .to_owned()
                .as_str()
                .trim_end(),
        )
        .err()
        .map(|e| e.kind());
        // "Hash = " ends without a value: empty bare value is not a valid hash.
        assert_eq!(h, Some(ParseErrorKind::InvalidHash));
        let h = lenient(" URI = a ; ; DNS=\"b\" , , URI=c ;").unwrap();
        assert_eq!(h.len(), 2);
        let e0 = h.element(0).unwrap();
        assert_eq!(e0.uri().next().unwrap().raw(), "a");
        assert_eq!(e0.dns().next().unwrap().raw(), "b");
        assert_eq!(h.element(1).unwrap().uri().next().unwrap().raw(), "c");
    }

    #[test]
    fn rejects_whitespace_in_strict_mode() {
        assert_eq!(kind(" URI=a"), ParseErrorKind::UnexpectedWhitespace);
        assert_eq!(kind("URI=a; DNS=b"), ParseErrorKind::UnexpectedWhitespace);
        assert_eq!(kind("URI =a"), ParseErrorKind::UnexpectedWhitespace);
    }

    #[test]
    fn rejects_control_characters() {
        assert_eq!(kind("URI=a\nb"), ParseErrorKind::ControlCharacter);
        assert_eq!(kind("Cert=\"a\r\nb\""), ParseErrorKind::ControlCharacter);
        assert_eq!(kind("Cert=\"a\\\0\""), ParseErrorKind::ControlCharacter);
    }

    #[test]
    fn rejects_bad_hash() {
        assert_eq!(kind("Hash=abc"), ParseErrorKind::InvalidHash);
        let colons = "AB:".repeat(31) + "AB";
        assert_eq!(kind(&format!("Hash={colons}")), ParseErrorKind::InvalidHash);
        let g = "g".repeat(64);
        assert_eq!(kind(&format!("Hash={g}")), ParseErrorKind::InvalidHash);
        // Uppercase (Linkerd 1) and SHA-1 length are fine on the wire.
        assert!(XfccHeader::parse(&format!("Hash={}", H.to_uppercase())).is_ok());
        assert!(XfccHeader::parse(&format!("Hash={}", &H[..40])).is_ok());
    }

    #[test]
    fn rejects_non_utf8() {
        let e = XfccHeader::parse_bytes(b"URI=\xff", &ParseOptions::DEFAULT).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::InvalidUtf8);
        assert_eq!(e.offset(), 4);
    }

    #[test]
    fn enforces_limits() {
        let opts = ParseOptions::DEFAULT.with_limits(Limits::DEFAULT.max_bytes(10));
        let e = XfccHeader::parse_with("URI=0123456789", &opts).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (ParseErrorKind::TooLong, 10));
        let e = XfccHeader::parse_bytes(b"URI=0123456789", &opts).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::TooLong);

        let opts = ParseOptions::DEFAULT.with_limits(Limits::DEFAULT.max_elements(2));
        assert!(XfccHeader::parse_with("URI=a,URI=b", &opts).is_ok());
        let e = XfccHeader::parse_with("URI=a,URI=b,URI=c", &opts).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (ParseErrorKind::TooManyElements, 12)
        );

        let opts = ParseOptions::DEFAULT.with_limits(Limits::DEFAULT.max_pairs(2));
        assert!(XfccHeader::parse_with("URI=a;URI=b", &opts).is_ok());
        let e = XfccHeader::parse_with("URI=a;URI=b;URI=c", &opts).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::TooManyPairs);

        let many = vec!["URI=a"; 33].join(",");
        assert_eq!(kind(&many), ParseErrorKind::TooManyElements);
        let big = format!("URI={}", "a".repeat(64 * 1024));
        assert_eq!(kind(&big), ParseErrorKind::TooLong);
    }

    #[test]
    fn detects_gorouter_raw_format() {
        let der_b64 = format!("MIIC{}", "A".repeat(200));
        assert_eq!(kind(&der_b64), ParseErrorKind::WrongFormat);
    }

    #[test]
    fn unquoted_uri_with_delimiters_splits_as_written() {
        // What Envoy emits for a URI SAN of `spiffe://x,Cert="..."` (envoy#32945):
        // the parser splits it; consistency checks catch the mismatch later.
        let s = format!("Hash={H};URI=spiffe://x,Cert=\"victim\"");
        let h = XfccHeader::parse(&s).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            h.element(0).unwrap().uri().next().unwrap().raw(),
            "spiffe://x"
        );
        assert_eq!(h.element(1).unwrap().cert().unwrap().raw(), "victim");
    }

    #[test]
    fn error_messages_never_echo_input() {
        let secret = "SECRETSECRET";
        for input in [
            format!("Cert=\"{secret}"),
            format!("URI={secret}\""),
            secret.to_owned(),
            format!("Hash={secret}"),
        ] {
            let e = XfccHeader::parse(&input).unwrap_err();
            assert!(!e.to_string().contains(secret), "{e}");
            assert!(!format!("{e:?}").contains(secret));
        }
    }
}
