//! Hexadecimal, in one place: digits in, digests and thumbprints out.

/// The value of one hex digit, either case.
pub(crate) const fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A byte from two hex digits.
pub(crate) const fn byte(hi: u8, lo: u8) -> Option<u8> {
    match (digit(hi), digit(lo)) {
        (Some(h), Some(l)) => Some(h << 4 | l),
        _ => None,
    }
}

/// Exactly `2 * N` hex digits, either case, as `N` bytes (a SHA-256 from
/// a `Hash` field, say); `None` for any other length or a non-digit.
pub(crate) fn decode<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let b = hex.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    // Through the table, with one check at the end: no branch per digit.
    let mut out = [0u8; N];
    let mut all = 0u8;
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let (hi, lo) = (VALUE[usize::from(pair[0])], VALUE[usize::from(pair[1])]);
        all |= hi | lo;
        *o = hi << 4 | lo;
    }
    (all <= 0x0F).then_some(out)
}

/// Hex digit values, `0xFF` for any other byte: one load per digit where
/// digits are decoded one by one (percent-decoding).
pub(crate) static VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(d) = digit(c as u8) {
            t[c] = d;
        }
        c += 1;
    }
    t
};

/// 64 (SHA-256) or 40 (SHA-1) hex digits. Branch-free per byte, so the
/// check of every header's `Hash` vectorises.
pub(crate) fn is_digest(s: &[u8]) -> bool {
    (s.len() == 64 || s.len() == 40)
        && s.iter().fold(true, |ok, &c| {
            let decimal = c.wrapping_sub(b'0') < 10;
            let letter = (c | 0x20).wrapping_sub(b'a') < 6;
            ok & (decimal | letter)
        })
}

/// Upper-case hex, two digits a byte (thumbprints as the Azure portal and
/// Envoy show them).
pub(crate) fn upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_exact_lengths_only() {
        assert_eq!(decode::<2>("aB0f"), Some([0xab, 0x0f]));
        assert_eq!(decode::<2>("ab0"), None);
        assert_eq!(decode::<2>("ab0f0"), None);
        assert_eq!(decode::<2>("ab0g"), None);
        assert_eq!(decode::<32>(&"00".repeat(32)), Some([0; 32]));
    }

    #[test]
    fn is_digest_agrees_with_digit_for_every_byte() {
        for c in 0..=255u8 {
            let mut s = [b'a'; 64];
            s[17] = c;
            assert_eq!(is_digest(&s), digit(c).is_some(), "{c:#x}");
            assert_eq!(VALUE[usize::from(c)] != 0xFF, digit(c).is_some(), "{c:#x}");
        }
    }

    #[test]
    fn digits_bytes_and_digests() {
        assert_eq!(digit(b'7'), Some(7));
        assert_eq!(digit(b'f'), Some(15));
        assert_eq!(digit(b'F'), Some(15));
        assert_eq!(digit(b'g'), None);
        assert_eq!(byte(b'a', b'B'), Some(0xab));
        assert_eq!(byte(b'a', b'x'), None);
        assert!(is_digest(&[b'a'; 64]));
        assert!(is_digest(&[b'0'; 40]));
        assert!(!is_digest(&[b'0'; 41]));
        assert!(!is_digest(b"abc"));
        assert_eq!(upper(&[0x0b, 0xff]), "0BFF");
    }
}
