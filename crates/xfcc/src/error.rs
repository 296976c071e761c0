//! Error types. Every error has a stable, documented code; no error message
//! ever contains bytes from the header or the certificate.

use core::fmt;

pub(crate) use crate::reason::Reason;

/// Why a header value could not be parsed.
///
/// [`code`](Self::code) is a stable machine-readable identifier; the
/// [`Display`](fmt::Display) text is for humans and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The header value is empty (or only whitespace).
    Empty,
    /// The header value is not valid UTF-8.
    InvalidUtf8,
    /// The header value is longer than [`Limits::max_bytes`](crate::inspect::Limits::max_bytes).
    TooLong,
    /// The header holds more elements than [`Limits::max_elements`](crate::inspect::Limits::max_elements).
    TooManyElements,
    /// An element holds more pairs than [`Limits::max_pairs`](crate::inspect::Limits::max_pairs).
    TooManyPairs,
    /// An element is empty (`,,` or a leading/trailing `,`).
    EmptyElement,
    /// A pair is empty (`;;` or a leading `;`).
    EmptyPair,
    /// A pair has no `=`.
    MissingEquals,
    /// A key is empty or contains characters outside `A-Za-z0-9-_`.
    InvalidKey,
    /// A key is not one Envoy emits (strict mode only).
    UnknownKey,
    /// A quoted value has no closing quote.
    UnterminatedQuote,
    /// A closing quote is followed by something other than `;`, `,` or the end.
    TextAfterQuote,
    /// A bare (unquoted) value contains `"`.
    QuoteInBareValue,
    /// A value contains a control character (CR, LF, NUL, ...).
    ControlCharacter,
    /// Whitespace around a delimiter (strict mode only).
    UnexpectedWhitespace,
    /// A singleton key (`Hash`, `Cert`, `Chain`, `Subject`) appears twice in one element.
    DuplicateKey,
    /// `Hash` is not 64 (SHA-256) or 40 (SHA-1) hex digits.
    InvalidHash,
    /// The value looks like bare base64 DER (Cloud Foundry gorouter's raw
    /// format) rather than Envoy's `key=value` form.
    WrongFormat,
    /// A format that expects bare base64 DER (`haproxy`, `caddy`,
    /// `app-service`, `gorouter`) got Envoy's `key=value` form.
    WrongFormatEnvoy,
    /// A format that expects bare base64 DER got PEM (URL-encoded or not).
    WrongFormatPem,
    /// A format that expects bare base64 DER got an RFC 9440 `:base64:` item.
    WrongFormatRfc9440,
    /// A header in Envoy's JSON form (it starts with `[`) that is not JSON
    /// as Envoy writes it: an array of one or more objects.
    InvalidJson,
    /// A value of the JSON form with the wrong type: `hash`, `cert`,
    /// `subject` and `issuer` are strings; `by`, `uri`, `dns` and `chain`
    /// arrays of strings; each array item an object. (Lenient syntax
    /// ignores an unknown key whose value is a scalar or an array of them,
    /// and refuses anything deeper with this code.)
    JsonType,
}

impl ParseErrorKind {
    /// The stable code of this error, e.g. `"unterminated_quote"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::TooLong => "too_long",
            Self::TooManyElements => "too_many_elements",
            Self::TooManyPairs => "too_many_pairs",
            Self::EmptyElement => "empty_element",
            Self::EmptyPair => "empty_pair",
            Self::MissingEquals => "missing_equals",
            Self::InvalidKey => "invalid_key",
            Self::UnknownKey => "unknown_key",
            Self::UnterminatedQuote => "unterminated_quote",
            Self::TextAfterQuote => "text_after_quote",
            Self::QuoteInBareValue => "quote_in_bare_value",
            Self::ControlCharacter => "control_character",
            Self::UnexpectedWhitespace => "unexpected_whitespace",
            Self::DuplicateKey => "duplicate_key",
            Self::InvalidHash => "invalid_hash",
            Self::WrongFormat => "wrong_format",
            Self::WrongFormatEnvoy => "wrong_format_envoy",
            Self::WrongFormatPem => "wrong_format_pem",
            Self::WrongFormatRfc9440 => "wrong_format_rfc9440",
            Self::InvalidJson => "invalid_json",
            Self::JsonType => "json_type",
        }
    }

    /// The coarse reason a service should report for this error:
    /// [`Reason::TooManyElements`], [`Reason::TooLarge`] or
    /// [`Reason::Malformed`].
    pub const fn reason(self) -> Reason {
        match self {
            Self::TooManyElements => Reason::TooManyElements,
            Self::TooLong | Self::TooManyPairs => Reason::TooLarge,
            _ => Reason::Malformed,
        }
    }

    const fn describe(self) -> &'static str {
        match self {
            Self::Empty => "header value is empty",
            Self::InvalidUtf8 => "header value is not valid UTF-8",
            Self::TooLong => "header value exceeds the byte limit",
            Self::TooManyElements => "header holds more elements than allowed",
            Self::TooManyPairs => "element holds more pairs than allowed",
            Self::EmptyElement => "empty element",
            Self::EmptyPair => "empty pair",
            Self::MissingEquals => "pair without '='",
            Self::InvalidKey => "invalid key",
            Self::UnknownKey => "unknown key",
            Self::UnterminatedQuote => "unterminated quoted value",
            Self::TextAfterQuote => "unexpected text after closing quote",
            Self::QuoteInBareValue => "'\"' inside an unquoted value",
            Self::ControlCharacter => "control character in value",
            Self::UnexpectedWhitespace => "whitespace around a delimiter",
            Self::DuplicateKey => "key may appear only once per element",
            Self::InvalidHash => "Hash is not 64 or 40 hex digits",
            Self::WrongFormat => {
                "value is bare base64 DER (Cloud Foundry raw format), not Envoy XFCC"
            }
            Self::WrongFormatEnvoy => {
                "value is Envoy XFCC (key=value pairs), not the bare base64 DER this format expects: the format is envoy"
            }
            Self::WrongFormatPem => {
                "value is PEM (URL-encoded or not), not what this format expects: the format is nginx (or alb)"
            }
            Self::WrongFormatRfc9440 => {
                "value is an RFC 9440 :base64: item, not what this format expects: the format is rfc9440"
            }
            Self::InvalidJson => {
                "value starts as Envoy's JSON form (format: JSON) but is not an array of objects in valid JSON"
            }
            Self::JsonType => {
                "a value of Envoy's JSON form has the wrong type (hash, cert, subject, issuer: strings; by, uri, dns, chain: arrays of strings)"
            }
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A header value that could not be parsed: what went wrong and where.
///
/// The offset is the byte position in the header value; the header bytes
/// themselves are never part of the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
}

impl ParseError {
    pub(crate) const fn new(kind: ParseErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// What went wrong.
    pub const fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Byte offset in the header value where the problem was found.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// A part of the header that disagrees with the forwarded certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Inconsistency {
    /// `Hash` is not the SHA-256 (or, for 40 hex digits, the SHA-1) of the certificate.
    HashMismatch,
    /// The first certificate of `Chain` is not `Cert`.
    ChainLeafMismatch,
    /// `Subject` does not name the certificate's subject.
    SubjectMismatch,
    /// The `URI` values are not exactly the certificate's URI SANs.
    UriMismatch,
    /// The `DNS` values are not exactly the certificate's DNS SANs.
    DnsMismatch,
    /// `Issuer` does not name the certificate's issuer.
    IssuerMismatch,
}

impl Inconsistency {
    /// The stable code, e.g. `"hash_mismatch"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::HashMismatch => "hash_mismatch",
            Self::ChainLeafMismatch => "chain_leaf_mismatch",
            Self::SubjectMismatch => "subject_mismatch",
            Self::UriMismatch => "uri_mismatch",
            Self::DnsMismatch => "dns_mismatch",
            Self::IssuerMismatch => "issuer_mismatch",
        }
    }

    /// The coarse reason: [`Reason::HashMismatch`] or
    /// [`Reason::Inconsistent`].
    pub const fn reason(self) -> Reason {
        match self {
            Self::HashMismatch => Reason::HashMismatch,
            _ => Reason::Inconsistent,
        }
    }
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HashMismatch => "Hash does not match the certificate",
            Self::ChainLeafMismatch => "first Chain certificate is not Cert",
            Self::SubjectMismatch => "Subject does not match the certificate",
            Self::UriMismatch => "URI values do not match the certificate's URI SANs",
            Self::DnsMismatch => "DNS values do not match the certificate's DNS SANs",
            Self::IssuerMismatch => "Issuer does not match the certificate",
        })
    }
}

/// Why a forwarded certificate could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertErrorKind {
    /// A `%` not followed by two hex digits.
    BadPercentEncoding,
    /// Not PEM, and not base64 either.
    BadEncoding,
    /// PEM armour that is not `CERTIFICATE`, or broken armour.
    BadPem,
    /// The DER is not an X.509 certificate x509-cert accepts.
    BadDer,
    /// No certificate where one was expected.
    NoCertificate,
    /// More certificates than [`Limits::max_chain`](crate::inspect::Limits::max_chain).
    ChainTooLong,
    /// Several certificates where exactly one belongs (`Cert`).
    MultipleCertificates,
}

impl CertErrorKind {
    /// The stable code, e.g. `"bad_der"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::BadPercentEncoding => "bad_percent_encoding",
            Self::BadEncoding => "bad_encoding",
            Self::BadPem => "bad_pem",
            Self::BadDer => "bad_der",
            Self::NoCertificate => "no_certificate",
            Self::ChainTooLong => "chain_too_long",
            Self::MultipleCertificates => "multiple_certificates",
        }
    }
}

impl fmt::Display for CertErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadPercentEncoding => "invalid percent-encoding",
            Self::BadEncoding => "certificate is neither PEM nor base64 DER",
            Self::BadPem => "invalid PEM certificate",
            Self::BadDer => "certificate DER does not parse as X.509",
            Self::NoCertificate => "no certificate found",
            Self::ChainTooLong => "too many certificates in chain",
            Self::MultipleCertificates => "more than one certificate where one is expected",
        })
    }
}

/// Which forwarded field an error concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `Cert` (or the single-certificate header of another format).
    Cert,
    /// `Chain` (or the chain header of another format); the index is the
    /// position in the chain.
    Chain(usize),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cert => f.write_str("Cert"),
            Self::Chain(i) => write!(f, "Chain[{i}]"),
        }
    }
}

/// The kind of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The header value does not parse.
    Parse(ParseErrorKind),
    /// A certificate does not decode.
    Cert(CertErrorKind),
    /// The header's parts disagree with the certificate.
    Inconsistent(Inconsistency),
}

impl ErrorKind {
    /// The precise stable code (`unterminated_quote`, `bad_der`, `subject_mismatch`, ...).
    pub const fn code(self) -> &'static str {
        match self {
            Self::Parse(k) => k.code(),
            Self::Cert(k) => k.code(),
            Self::Inconsistent(k) => k.code(),
        }
    }

    /// The coarse reason, whose [`code`](Reason::code) suits a response
    /// body: malformed, too large, too many elements, bad certificate, hash
    /// mismatch or inconsistent. Mapped by type: the match is exhaustive
    /// over the kinds, so a new kind cannot silently become malformed.
    pub const fn reason(self) -> Reason {
        match self {
            Self::Parse(k) => k.reason(),
            Self::Cert(_) => Reason::BadCertificate,
            Self::Inconsistent(k) => k.reason(),
        }
    }
}

/// An error from decoding or checking a forwarded certificate header.
///
/// Opaque: inspect it with [`kind`](Self::kind), [`offset`](Self::offset),
/// [`element`](Self::element) and [`field`](Self::field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: Option<usize>,
    element: Option<usize>,
    field: Option<Field>,
    der: Option<DerError>,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            offset: None,
            element: None,
            field: None,
            der: None,
        }
    }

    pub(crate) const fn cert(kind: CertErrorKind, field: Field) -> Self {
        Self {
            kind: ErrorKind::Cert(kind),
            offset: None,
            element: None,
            field: Some(field),
            der: None,
        }
    }

    /// `bad_der`, with what the DER reader found.
    pub(crate) const fn der(e: DerError, field: Field) -> Self {
        Self {
            der: Some(e),
            ..Self::cert(CertErrorKind::BadDer, field)
        }
    }

    pub(crate) const fn inconsistent(kind: Inconsistency) -> Self {
        Self::new(ErrorKind::Inconsistent(kind))
    }

    pub(crate) const fn with_element(mut self, index: usize) -> Self {
        self.element = Some(index);
        self
    }

    pub(crate) const fn with_offset(mut self, offset: usize) -> Self {
        self.offset = Some(offset);
        self
    }

    /// What went wrong.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Byte offset in the header value, when known.
    pub const fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// Index of the element concerned, when known.
    pub const fn element(&self) -> Option<usize> {
        self.element
    }

    /// The forwarded field concerned, for certificate errors.
    pub const fn field(&self) -> Option<Field> {
        self.field
    }

    /// For [`CertErrorKind::BadDer`]: the part of the certificate, the rule
    /// it breaks and the offset in its DER.
    pub const fn der_error(&self) -> Option<DerError> {
        self.der
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Self::new(ErrorKind::Parse(e.kind())).with_offset(e.offset())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Parse(k) => write!(f, "{k}")?,
            ErrorKind::Cert(k) => write!(f, "{k}")?,
            ErrorKind::Inconsistent(k) => write!(f, "{k}")?,
        }
        if let Some(der) = self.der {
            write!(f, " ({der})")?;
        }
        if let Some(field) = self.field {
            write!(f, " in {field}")?;
        }
        if let Some(e) = self.element {
            write!(f, " (element {e})")?;
        }
        if let Some(o) = self.offset {
            write!(f, " at byte {o}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The part of a certificate where a [`DerError`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DerField {
    /// The outer `Certificate` or `TBSCertificate` structure.
    Certificate,
    /// `version`.
    Version,
    /// `serialNumber`.
    SerialNumber,
    /// The TBS `signature` or outer `signatureAlgorithm` algorithm identifier.
    SignatureAlgorithm,
    /// `issuer`.
    Issuer,
    /// `validity`.
    Validity,
    /// `subject`.
    Subject,
    /// `subjectPublicKeyInfo`.
    SubjectPublicKeyInfo,
    /// `issuerUniqueID` or `subjectUniqueID`.
    UniqueIdentifier,
    /// `extensions` (the list, or an extension other than the two below).
    Extensions,
    /// The subjectAltName extension's value.
    SubjectAltName,
    /// The extKeyUsage extension's value.
    ExtKeyUsage,
    /// The basicConstraints extension's value.
    BasicConstraints,
    /// The keyUsage extension's value.
    KeyUsage,
    /// `signatureValue`.
    SignatureValue,
}

impl DerField {
    /// The stable code, e.g. `"subject"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Certificate => "certificate",
            Self::Version => "version",
            Self::SerialNumber => "serial_number",
            Self::SignatureAlgorithm => "signature_algorithm",
            Self::Issuer => "issuer",
            Self::Validity => "validity",
            Self::Subject => "subject",
            Self::SubjectPublicKeyInfo => "subject_public_key_info",
            Self::UniqueIdentifier => "unique_identifier",
            Self::Extensions => "extensions",
            Self::SubjectAltName => "subject_alt_name",
            Self::ExtKeyUsage => "ext_key_usage",
            Self::BasicConstraints => "basic_constraints",
            Self::KeyUsage => "key_usage",
            Self::SignatureValue => "signature_value",
        }
    }
}

/// The DER or RFC 5280 rule a certificate breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DerErrorKind {
    /// A bad identifier or length octet, or a length past the end.
    Framing,
    /// A field of the wrong type, or a missing field.
    UnexpectedTag,
    /// Bytes after the last field of a structure.
    TrailingData,
    /// An INTEGER, BOOLEAN or BIT STRING not in its DER form.
    NotCanonical,
    /// An OID that is empty, not minimally encoded, or over 128 bytes.
    BadOid,
    /// A time that is not a DER UTCTime or GeneralizedTime.
    BadTime,
    /// A string whose bytes its type does not allow.
    BadString,
    /// An empty list where at least one entry is required.
    EmptyList,
    /// A version other than v1, v2 or v3.
    UnsupportedVersion,
    /// A serial number over 20 octets.
    SerialTooLong,
    /// An extension present twice.
    DuplicateExtension,
    /// More extensions than [`Limits::max_extensions`](crate::inspect::Limits::max_extensions).
    TooManyExtensions,
    /// More attributes in one name than [`Limits::max_name_attributes`](crate::inspect::Limits::max_name_attributes).
    TooManyNameAttributes,
    /// A subjectAltName kind that is not read (x400Address, ediPartyName).
    UnsupportedGeneralName,
    /// A control character (U+0000 to U+001F, U+007F) in a DNS name, URI
    /// or e-mail address: RFC 5280 and RFC 3986 allow none, and printed
    /// raw one can recolour a terminal or forge a log line.
    ControlCharacter,
}

impl DerErrorKind {
    /// The stable code, e.g. `"duplicate_extension"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Framing => "framing",
            Self::UnexpectedTag => "unexpected_tag",
            Self::TrailingData => "trailing_data",
            Self::NotCanonical => "not_canonical",
            Self::BadOid => "bad_oid",
            Self::BadTime => "bad_time",
            Self::BadString => "bad_string",
            Self::EmptyList => "empty_list",
            Self::UnsupportedVersion => "unsupported_version",
            Self::SerialTooLong => "serial_too_long",
            Self::DuplicateExtension => "duplicate_extension",
            Self::TooManyExtensions => "too_many_extensions",
            Self::TooManyNameAttributes => "too_many_name_attributes",
            Self::UnsupportedGeneralName => "unsupported_general_name",
            Self::ControlCharacter => "control_character",
        }
    }
}

/// Why a certificate's DER does not read: where, what, and the byte
/// offset in the DER. Carries no certificate byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DerError {
    field: DerField,
    kind: DerErrorKind,
    offset: usize,
}

impl DerError {
    /// An error of `kind` at DER byte `offset` of `field` (the reader's
    /// constructor).
    pub(crate) const fn new(field: DerField, kind: DerErrorKind, offset: usize) -> Self {
        Self {
            field,
            kind,
            offset,
        }
    }

    /// The part of the certificate.
    pub const fn field(&self) -> DerField {
        self.field
    }

    /// The rule broken.
    pub const fn kind(&self) -> DerErrorKind {
        self.kind
    }

    /// Byte offset in the certificate's DER.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} at DER byte {}",
            self.field.code(),
            self.kind.code(),
            self.offset
        )
    }
}
/// An unknown format name ([`Format`](crate::Format)'s `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format (expected one of envoy, rfc9440, nginx, traefik, alb, app-service, gorouter, haproxy, caddy)"
)]
pub struct UnknownFormat;
