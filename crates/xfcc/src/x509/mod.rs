//! A borrowed, read-only view of an X.509 certificate's fields.
//!
//! Every uncached request reads one certificate, and x509-cert's owned
//! `Certificate` costs several times the SHA-256 of the DER to build (the
//! generic `der` machinery and dozens of allocations), and cannot hold
//! object identifiers with arcs over 32 bits. This module reads only the
//! fields [`CertIdentity`](crate::inspect::CertIdentity) keeps, straight from the
//! DER, in one linear pass over the bytes. OIDs are compared by encoding
//! (as rustls-webpki does), so any valid OID is read. It verifies no
//! signature and validates no path (rustls-webpki does, in the `chain`
//! feature).
//!
//! Every nested structure is read through [`Der::nested`], which fails when
//! anything is left after the structure's last field: no reader can forget
//! to check for trailing data.
//!
//! | rule the reader enforces | clause | test that breaks it |
//! |---|---|---|
//! | low-tag-number identifiers; known universal types only | X.690 8.1.2 | `rule_tags` |
//! | definite, minimal lengths (no `0x80`, no leading zero octet, long form only from 128) | X.690 8.1.3, 10.1 | `rule_lengths` |
//! | no byte after the certificate, or after the last field of any structure | X.690 8.1.1; RFC 5280 4.1 | `rule_trailing_data` |
//! | INTEGERs in fewest octets | X.690 8.3.2 | `rule_canonical_values` |
//! | BOOLEAN `00` or `FF` | X.690 11.1 | `rule_canonical_values` |
//! | BIT STRING: at most 7 unused bits, all zero | X.690 8.6.2, 11.2 | `rule_canonical_values` |
//! | OIDs (attribute types, extensions, EKUs, registeredIDs, a key's curve): non-empty, minimal subidentifiers, at most 128 bytes | X.690 8.19.2 | `rule_oids`; `fuzz/regressions/decode_structured/non-canonical-curve-oid` |
//! | version v1, v2 or v3 | RFC 5280 4.1.2.1 | `rule_structure` |
//! | serial number at most 20 octets (21 with a sign byte) | RFC 5280 4.1.2.2 | `rule_structure` |
//! | UTCTime / GeneralizedTime in DER form | RFC 5280 4.1.2.5 | `rule_structure` |
//! | TBSCertificate fields in order; unique IDs and extensions optional; nothing unknown | RFC 5280 4.1 | `rule_structure` |
//! | non-empty RDNs, each `SEQUENCE { OID, value }` | RFC 5280 4.1.2.4 | `rule_names` |
//! | at most [`Limits::max_name_attributes`] attributes per name | our limit | `rule_names` |
//! | each extension once | RFC 5280 4.2 | `rule_extensions` |
//! | at most [`Limits::max_extensions`] extensions | our limit | `rule_extensions` |
//! | subjectAltName and extKeyUsage: non-empty lists; IA5 names ASCII; no x400Address or ediPartyName | RFC 5280 4.2.1.6, 4.2.1.12 | `rule_extensions` |
//!
//! Errors are typed ([`DerError`]): the field, the broken rule and the
//! byte offset in the DER; never a certificate byte.

mod cert;
#[cfg(feature = "chain")]
mod crl;
mod extensions;
mod name;
mod reader;
#[cfg(test)]
mod tests;
mod time;

pub(crate) use self::cert::*;
#[cfg(feature = "chain")]
pub(crate) use self::crl::*;
pub(crate) use self::extensions::*;
pub(crate) use self::name::*;
pub(crate) use self::reader::*;
pub(crate) use self::time::*;
