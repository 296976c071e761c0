//! Object identifiers held as their DER contents and compared by encoding,
//! as rustls-webpki treats them.
//!
//! const-oid cannot hold arcs over 32 bits, and real PKIs use them (UUID
//! OIDs `2.25.<128-bit>`, in extensions, EKUs and name attributes). Here an
//! OID is the bytes X.690 8.19 defines: any number of arcs of any size,
//! printed in dotted form whatever their length.

use core::fmt;

/// Longest OID encoding accepted, in bytes (about 300 decimal digits).
/// Far above anything registered; bounds the work of printing and parsing.
pub(crate) const MAX_LEN: usize = 128;

const INLINE: usize = 22;

/// An object identifier: its DER contents, canonical and non-empty.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Oid(Repr);

/// Short OIDs (all the common ones) are stored inline; the rest on the
/// heap. One representation per byte string, so the derived traits compare
/// encodings.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Oid {
    /// Takes DER contents (no tag or length) when they are a canonical
    /// encoding: non-empty, at most [`MAX_LEN`] bytes, no arc with a leading
    /// `0x80` byte, and the last byte ends an arc.
    pub(crate) fn from_der(bytes: &[u8]) -> Option<Self> {
        if !is_canonical(bytes) {
            return None;
        }
        Some(Self::from_canonical(bytes))
    }

    fn from_canonical(bytes: &[u8]) -> Self {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut buf = [0u8; INLINE];
                buf[..bytes.len()].copy_from_slice(bytes);
                Self(Repr::Inline { len, buf })
            }
            _ => Self(Repr::Heap(bytes.into())),
        }
    }

    /// Not an OID: the type of a `Subject` attribute that Envoy's TLS
    /// library printed as nothing (see `DistinguishedName::parse_envoy_subject`).
    pub(crate) const UNPRINTABLE: Self = Self(Repr::Inline {
        len: 0,
        buf: [0; INLINE],
    });

    /// Whether an arc needs more than 64 bits (ten base-128 bytes, or
    /// nine with more than one bit in the first): what BoringSSL, and so
    /// Envoy, cannot print.
    pub(crate) fn has_arc_over_64_bits(&self) -> bool {
        self.as_bytes()
            .split_inclusive(|b| b & 0x80 == 0)
            .any(|arc| arc.len() > 10 || (arc.len() == 10 && arc[0] > 0x81))
    }

    /// The DER contents.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(b) => b,
        }
    }

    /// Whether this is `other` (a const-oid constant).
    pub(crate) fn is(&self, other: &const_oid::ObjectIdentifier) -> bool {
        self.as_bytes() == other.as_bytes()
    }

    /// Parses dotted decimal (`2.25.329800735698586629295641978511506172918`):
    /// at least two arcs, the first 0, 1 or 2, the second below 40 unless
    /// the first is 2, arcs of any size without leading zeros.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let mut arcs = s.split('.');
        let first: u8 = match arcs.next()? {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            _ => return None,
        };
        let second = Decimal::parse(arcs.next()?)?;
        if first < 2 && !second.below(40) {
            return None;
        }
        let mut out = Vec::new();
        // The first two arcs share one subidentifier: 40 * first + second.
        second.add_small(40 * first).encode_base128(&mut out)?;
        for arc in arcs {
            Decimal::parse(arc)?.encode_base128(&mut out)?;
        }
        Self::from_der(&out)
    }
}

impl From<&const_oid::ObjectIdentifier> for Oid {
    fn from(oid: &const_oid::ObjectIdentifier) -> Self {
        // const-oid only holds canonical encodings.
        Self::from_canonical(oid.as_bytes())
    }
}

/// X.690 8.19.2: each subidentifier in as few bytes as possible (no
/// leading `0x80`), the last byte of each with bit 8 clear.
pub(crate) fn is_canonical(bytes: &[u8]) -> bool {
    if bytes.is_empty() || bytes.len() > MAX_LEN || bytes.last().is_some_and(|b| b & 0x80 != 0) {
        return false;
    }
    let mut arc_start = true;
    for &b in bytes {
        if arc_start && b == 0x80 {
            return false;
        }
        arc_start = b & 0x80 == 0;
    }
    true
}

impl fmt::Display for Oid {
    /// Dotted decimal, for arcs of any size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut arc = Decimal::zero();
        for &b in self.as_bytes() {
            arc.mul_add(128, u32::from(b & 0x7f));
            if b & 0x80 != 0 {
                continue;
            }
            if first {
                // The first subidentifier is 40 * first arc + second arc.
                let top: u8 = if arc.below(40) {
                    0
                } else if arc.below(80) {
                    1
                } else {
                    2
                };
                write!(f, "{top}.")?;
                arc.sub_small(40 * top);
                first = false;
            } else {
                f.write_str(".")?;
            }
            arc.write(f)?;
            arc = Decimal::zero();
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An unsigned integer of any size, as base-10^9 limbs (least significant
/// first): enough arithmetic to convert arcs between base 128 and decimal.
struct Decimal {
    limbs: Vec<u32>,
}

const BASE: u64 = 1_000_000_000;

impl Decimal {
    const fn zero() -> Self {
        Self { limbs: Vec::new() }
    }

    /// Decimal digits without a leading zero (except `0` itself).
    fn parse(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        // A bound on the work (MAX_LEN bytes hold fewer digits than this).
        if bytes.is_empty()
            || bytes.len() > 2 * MAX_LEN + 16
            || !bytes.iter().all(u8::is_ascii_digit)
            || (bytes.len() > 1 && bytes[0] == b'0')
        {
            return None;
        }
        let mut n = Self::zero();
        for &d in bytes {
            n.mul_add(10, u32::from(d - b'0'));
        }
        Some(n)
    }

    fn mul_add(&mut self, mul: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.limbs {
            let v = u64::from(*limb) * u64::from(mul) + carry;
            *limb = (v % BASE) as u32;
            carry = v / BASE;
        }
        while carry > 0 {
            self.limbs.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }

    /// Divides by `div` in place, returning the remainder.
    fn div_rem(&mut self, div: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let v = rem * BASE + u64::from(*limb);
            *limb = (v / u64::from(div)) as u32;
            rem = v % u64::from(div);
        }
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
        rem as u32
    }

    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    fn below(&self, n: u32) -> bool {
        match self.limbs.as_slice() {
            [] => true,
            [x] => *x < n,
            _ => false,
        }
    }

    fn add_small(mut self, n: u8) -> Self {
        self.mul_add(1, u32::from(n));
        self
    }

    /// Subtracts `n`, which must not exceed the value.
    fn sub_small(&mut self, n: u8) {
        let mut borrow = u64::from(n);
        for limb in &mut self.limbs {
            if borrow == 0 {
                break;
            }
            let v = u64::from(*limb);
            if v >= borrow {
                *limb = (v - borrow) as u32;
                borrow = 0;
            } else {
                *limb = (v + BASE - borrow) as u32;
                borrow = 1;
            }
        }
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// Appends the value as one base-128 subidentifier. `None` past
    /// [`MAX_LEN`].
    fn encode_base128(mut self, out: &mut Vec<u8>) -> Option<()> {
        let mut groups = vec![self.div_rem(128) as u8];
        while !self.is_zero() {
            groups.push(self.div_rem(128) as u8 | 0x80);
            if out.len() + groups.len() > MAX_LEN {
                return None;
            }
        }
        out.extend(groups.iter().rev());
        (out.len() <= MAX_LEN).then_some(())
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((top, rest)) = self.limbs.split_last() else {
            return f.write_str("0");
        };
        write!(f, "{top}")?;
        for limb in rest.iter().rev() {
            write!(f, "{limb:09}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn prints_and_parses_arcs_of_any_size() {
        for dotted in [
            "2.5.4.3",
            "0.9.2342.19200300.100.1.25",
            "1.2.840.113549.1.9.1",
            "1.39.0",
            "2.999.1",
            "2.25.329800735698586629295641978511506172918",
            "2.25.340282366920938463463374607431768211455",
            "1.3.6.1.4.1.99999999999999999999999999999999999999999999999999.7",
            "2.1000000000000000000000000000000000",
        ] {
            let oid = Oid::parse(dotted).expect(dotted);
            assert_eq!(oid.to_string(), dotted);
            assert_eq!(Oid::from_der(oid.as_bytes()), Some(oid.clone()));
        }
        assert_eq!(
            Oid::parse("2.5.4.3").unwrap().as_bytes(),
            const_oid::db::rfc4519::CN.as_bytes()
        );
        // const-oid agrees wherever it can hold the OID.
        for dotted in [
            "1.2.840.10045.3.1.7",
            "2.16.840.1.101.3.4.2.1",
            "1.3.6.1.5.5.7.3.2",
        ] {
            let theirs = const_oid::ObjectIdentifier::new(dotted).unwrap();
            assert_eq!(Oid::parse(dotted).unwrap().as_bytes(), theirs.as_bytes());
            assert_eq!(Oid::from(&theirs).to_string(), dotted);
        }
    }

    #[test]
    fn refuses_non_canonical_and_out_of_range() {
        for bad in [
            "", "3.1", "1", "1.40", "0.40", "01.2", "1.02", "1..2", "1.2.", "a.b", "1.2.-3",
        ] {
            assert_eq!(Oid::parse(bad), None, "{bad:?}");
        }
        assert!(Oid::parse(&format!("1.2.{}", "9".repeat(400))).is_none());
        assert!(Oid::from_der(&[]).is_none());
        assert!(Oid::from_der(&[0x2a, 0x86]).is_none());
        assert!(Oid::from_der(&[0x2a, 0x80, 0x01]).is_none());
        assert!(Oid::from_der(&[0x80, 0x01]).is_none());
        assert!(Oid::from_der(&[0x01; MAX_LEN + 1]).is_none());
        assert!(Oid::from_der(&[0x01; MAX_LEN]).is_some());
    }

    #[test]
    fn finds_arcs_over_64_bits() {
        let over = |s: &str| Oid::parse(s).unwrap().has_arc_over_64_bits();
        assert!(!over("1.2.18446744073709551615"));
        assert!(over("1.2.18446744073709551616"));
        assert!(over("2.25.329800735698586629295641978511506172918"));
        assert!(!over("2.5.4.3"));
        assert!(!Oid::UNPRINTABLE.has_arc_over_64_bits());
    }

    #[test]
    fn inline_and_heap_forms_compare_by_bytes() {
        let long = Oid::parse("2.25.329800735698586629295641978511506172918.1.2.3.4.5.6").unwrap();
        assert!(long.as_bytes().len() > INLINE);
        assert_eq!(Oid::from_der(long.as_bytes()).unwrap(), long);
        assert_ne!(Oid::parse("2.5.4.3").unwrap(), long);
    }
}
