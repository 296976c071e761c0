//! The reader's tests: units, the module table's rules broken one at a
//! time, and CRLs.

mod units {
    #![expect(clippy::unwrap_used)]
    use super::super::*;
    use crate::error::DerErrorKind;

    fn kind(r: Result<impl Sized>) -> Option<DerErrorKind> {
        r.err().map(|e| e.kind)
    }

    #[test]
    fn kept_extensions_are_id_ce() {
        // 2.5.29.17, .37, .19 and .15.
        assert_eq!(
            [
                SUBJECT_ALT_NAME_ARC,
                EXT_KEY_USAGE_ARC,
                BASIC_CONSTRAINTS_ARC,
                KEY_USAGE_ARC
            ],
            [17, 37, 19, 15]
        );
    }

    /// The reference for [`time`]: x509-cert's `Time`, in seconds.
    fn reference_time(tag: Tag, text: &[u8]) -> Option<i64> {
        use der::Decode as _;
        let mut der = vec![tag.0, u8::try_from(text.len()).ok()?];
        der.extend_from_slice(text);
        let t = x509_cert::time::Time::from_der(&der).ok()?;
        i64::try_from(t.to_unix_duration().as_secs()).ok()
    }

    /// x509-cert's reading, and where it has none because the date is a
    /// real one before 1970: the same text with the year moved to 1971 or
    /// 1972 (same leap rule) read there, less the days of the years
    /// between, counted one year at a time.
    fn expected_time(tag: Tag, text: &[u8]) -> Option<i64> {
        reference_time(tag, text).or_else(|| {
            let digits = if tag == tag::GENERALIZED_TIME { 4 } else { 2 };
            let y: i64 = std::str::from_utf8(text.get(..digits)?)
                .ok()?
                .parse()
                .ok()?;
            if !text[..digits].iter().all(u8::is_ascii_digit) {
                return None;
            }
            let year = match digits {
                4 => y,
                _ if y >= 50 => 1900 + y,
                _ => 2000 + y,
            };
            if year >= 1970 {
                return None;
            }
            let is_leap = |y: i64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let moved: i64 = if is_leap(year) { 1972 } else { 1971 };
            let mut t = moved.to_string().as_bytes()[4 - digits..].to_vec();
            t.extend_from_slice(&text[digits..]);
            let days: i64 = (year..moved)
                .map(|y| if is_leap(y) { 366 } else { 365 })
                .sum();
            reference_time(tag, &t).map(|secs| secs - days * 86_400)
        })
    }

    fn our_time(tag: Tag, text: &[u8]) -> Option<i64> {
        let mut der = vec![tag.0, u8::try_from(text.len()).ok()?];
        der.extend_from_slice(text);
        let mut d = Der::new(&der);
        time(&mut d).ok()
    }

    #[test]
    fn dates_before_1970_read_and_print_as_written() {
        for (text, secs, shown) in [
            (&b"500101000000Z"[..], -631_152_000, "1950-01-01T00:00:00Z"),
            (b"691231235959Z", -1, "1969-12-31T23:59:59Z"),
            (b"700101000000Z", 0, "1970-01-01T00:00:00Z"),
        ] {
            assert_eq!(our_time(tag::UTC_TIME, text), Some(secs));
            assert_eq!(rfc3339(secs), shown);
        }
        assert_eq!(
            our_time(tag::GENERALIZED_TIME, b"19000228120000Z").map(rfc3339),
            Some("1900-02-28T12:00:00Z".to_owned())
        );
        // Bounds of the arithmetic: no overflow at either end.
        assert!(rfc3339(i64::MAX).len() > 20);
        assert!(!rfc3339(i64::MIN / 2).is_empty());
    }

    #[test]
    fn times_agree_with_x509_cert() {
        // Every month and day boundary over leap and common years, century
        // rules included, both encodings, and the edges of each field.
        let mut checked = 0;
        let mut accepted = 0;
        for year in [
            1949u32, 1950, 1969, 1970, 1971, 1999, 2000, 2024, 2026, 2049, 2050, 2100, 2400, 9999,
        ] {
            for month in 0..=13u32 {
                for day in [0u32, 1, 2, 28, 29, 30, 31, 32] {
                    for (h, m, s) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)] {
                        let gt = format!("{year:04}{month:02}{day:02}{h:02}{m:02}{s:02}Z");
                        let ut = &gt[2..];
                        for (tag, text) in [
                            (tag::GENERALIZED_TIME, gt.as_bytes()),
                            (tag::UTC_TIME, ut.as_bytes()),
                        ] {
                            let ours = our_time(tag, text);
                            assert_eq!(ours, expected_time(tag, text), "{tag:?} {gt}");
                            checked += 1;
                            accepted += usize::from(ours.is_some());
                        }
                    }
                }
            }
        }
        assert!(
            accepted > 1000 && checked - accepted > 1000,
            "{accepted}/{checked}"
        );
        // Not DER: fractions, offsets, missing seconds, a wrong tag.
        for text in [
            &b"20260101000000.5Z"[..],
            b"20260101000000+0100",
            b"202601010000Z",
            b"2601010000Z",
            b"260101000000z",
            b"26010100000 Z",
        ] {
            for tag in [tag::GENERALIZED_TIME, tag::UTC_TIME, tag::OCTET_STRING] {
                assert_eq!(our_time(tag, text), None, "{text:?}");
                assert_eq!(reference_time(tag, text), None, "{text:?}");
            }
        }
    }

    proptest::proptest! {
        /// Every second of years 1 to 9999 prints as a date that reads back
        /// as that second.
        #[test]
        fn rfc3339_reads_back_as_itself(secs in -62_135_596_800i64..253_402_300_800) {
            let shown = rfc3339(secs);
            let text: String = shown.chars().filter(char::is_ascii_digit).collect();
            let text = format!("{text}Z");
            proptest::prop_assert_eq!(our_time(tag::GENERALIZED_TIME, text.as_bytes()), Some(secs));
        }

        /// Any 13 or 15 bytes of digits and a few others, as either time.
        #[test]
        fn times_agree_with_x509_cert_on_any_text(
            text in proptest::collection::vec(
                proptest::sample::select(b"0123456789Z+.-".to_vec()), 11..17),
            generalized in proptest::bool::ANY,
        ) {
            let tag = if generalized { tag::GENERALIZED_TIME } else { tag::UTC_TIME };
            proptest::prop_assert_eq!(our_time(tag, &text), expected_time(tag, &text));
        }

        /// Every valid second from 1970 to 9999 reads back as itself, and
        /// prints as x509-cert's DateTime does.
        #[test]
        fn times_agree_with_x509_cert_on_valid_dates(secs in 0u64..253_402_300_800) {
            let dt = der::DateTime::from_unix_duration(core::time::Duration::from_secs(secs)).unwrap();
            let text = format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}Z",
                dt.year(), dt.month(), dt.day(), dt.hour(), dt.minutes(), dt.seconds()
            );
            let signed = i64::try_from(secs).unwrap();
            proptest::prop_assert_eq!(rfc3339(signed), dt.to_string());
            proptest::prop_assert_eq!(our_time(tag::GENERALIZED_TIME, text.as_bytes()), Some(signed));
            if (1950..2050).contains(&dt.year()) {
                proptest::prop_assert_eq!(our_time(tag::UTC_TIME, &text.as_bytes()[2..]), Some(signed));
            }
        }
    }

    #[test]
    fn rule_lengths() {
        // short form
        assert!(Der::new(&[0x04, 0x01, 0xaa]).tlv().is_ok());
        // 0x81 0x05: long form for a length the short form can say
        assert!(Der::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).tlv().is_err());
        // indefinite length (BER)
        assert!(Der::new(&[0x30, 0x80, 0, 0]).tlv().is_err());
        // leading zero length octet
        let mut v = vec![0x04, 0x82, 0x00, 0x80];
        v.extend([0u8; 0x80]);
        assert!(Der::new(&v).tlv().is_err());
        // minimal long form
        let mut v = vec![0x04, 0x81, 0x80];
        v.extend([0u8; 0x80]);
        assert_eq!(Der::new(&v).tlv().map(|t| t.value.len()).ok(), Some(0x80));
        // length past the end
        assert_eq!(
            kind(Der::new(&[0x04, 0x05, 1]).tlv()),
            Some(DerErrorKind::Framing)
        );
        // five length octets
        assert!(Der::new(&[0x04, 0x85, 1, 0, 0, 0, 0]).tlv().is_err());
    }

    #[test]
    fn rule_tags() {
        // high-tag-number form
        assert!(Der::new(&[0x1f, 0x81, 0x00, 0x00]).tlv().is_err());
        assert!(Der::new(&[0xbf, 0x81, 0x00, 0x00]).tlv().is_err());
        // reserved and unknown universal tags, constructed strings
        for t in [0x00, 0x07, 0x08, 0x0e, 0x1f, 0x20, 0x2c, 0x33, 0x3f] {
            assert!(Der::new(&[t, 0x00]).tlv().is_err(), "{t:#x}");
        }
        // every X.520 string type, SEQUENCE, SET, context tags
        for t in [
            0x05, 0x0c, 0x13, 0x14, 0x1c, 0x1e, 0x19, 0x1b, 0x30, 0x31, 0x40, 0x80, 0xa3, 0xc0,
        ] {
            assert!(Der::new(&[t, 0x00]).tlv().is_ok(), "{t:#x}");
        }
    }

    #[test]
    fn rule_trailing_data() {
        // A SEQUENCE holding an INTEGER and one stray byte.
        let bytes = [0x30, 0x04, 0x02, 0x01, 0x05, 0x00];
        let r = Der::read_all(&bytes, tag::SEQUENCE, |s| s.expect(tag::INTEGER).map(drop));
        assert_eq!(
            r.err().map(|e| (e.kind, e.offset)),
            Some((DerErrorKind::TrailingData, 5))
        );
        // After the outer TLV.
        let r = Der::read_all(&[0x30, 0x00, 0x00], tag::SEQUENCE, |_| Ok(()));
        assert_eq!(kind(r), Some(DerErrorKind::TrailingData));
    }

    fn tlv(bytes: &[u8]) -> Tlv<'_> {
        Der::new(bytes).tlv().unwrap()
    }

    #[test]
    fn rule_canonical_values() {
        let int = |v: &[u8]| {
            let mut b = vec![0x02, v.len() as u8];
            b.extend(v);
            canonical_integer(&tlv(&b)).is_ok()
        };
        assert!(!int(&[]));
        assert!(!int(&[0x00, 0x7f]));
        assert!(!int(&[0xff, 0x80]));
        assert!(int(&[0x00, 0x80]));
        assert!(int(&[0x00]));
        let bits = |v: &[u8]| {
            let mut b = vec![0x03, v.len() as u8];
            b.extend(v);
            bit_string(&tlv(&b)).is_ok()
        };
        assert!(!bits(&[]));
        assert!(bits(&[0]));
        assert!(!bits(&[1]));
        assert!(!bits(&[8, 0]));
        assert!(bits(&[3, 0b1111_1000]));
        assert!(!bits(&[3, 0b1111_1100]));
    }

    #[test]
    fn rule_oids() {
        let read = |v: &[u8]| {
            let mut b = vec![0x06, v.len() as u8];
            b.extend(v);
            oid_bytes(&mut Der::new(&b)).map(<[u8]>::len)
        };
        assert_eq!(read(&[0x55, 0x04, 0x03]).ok(), Some(3));
        // 2.25.<128-bit UUID>: one arc of 19 bytes
        let mut uuid = vec![0x69];
        uuid.extend([0x83; 18]);
        uuid.push(0x7f);
        assert!(read(&uuid).is_ok());
        assert_eq!(kind(read(&[])), Some(DerErrorKind::BadOid));
        assert_eq!(kind(read(&[0x55, 0x80, 0x03])), Some(DerErrorKind::BadOid));
        assert_eq!(kind(read(&[0x55, 0x84])), Some(DerErrorKind::BadOid));
    }
}

/// The rules of the module table, broken one at a time in certificates
/// generated with rcgen.
mod rules {
    #![expect(clippy::unwrap_used, clippy::expect_used)]
    use rcgen::{
        CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, KeyPair, SerialNumber,
    };

    use crate::cert::CertIdentity;
    use crate::error::{DerErrorKind as K, DerField as F};
    use crate::limits::Limits;

    fn params() -> CertificateParams {
        let mut p = CertificateParams::new(vec!["a.example".to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "rules");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p
    }

    fn der(p: CertificateParams) -> Vec<u8> {
        p.self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    fn replace(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = der
            .windows(from.len())
            .position(|w| w == from)
            .expect("found");
        let mut out = der.to_vec();
        out[at..at + from.len()].copy_from_slice(to);
        out
    }

    fn error(der: Vec<u8>, limits: &Limits) -> (F, K) {
        let e = CertIdentity::from_der_with(der, limits).unwrap_err();
        assert_eq!(e.kind().code(), "bad_der");
        let d = e.der_error().expect("a DER error");
        assert!(d.offset() > 0);
        (d.field(), d.kind())
    }

    #[test]
    fn rule_structure() {
        let ok = der(params());
        assert!(CertIdentity::from_der(ok.clone()).is_ok());
        // version [0] { INTEGER 2 } -> 3
        let v4 = replace(
            &ok,
            &[0xa0, 0x03, 0x02, 0x01, 0x02],
            &[0xa0, 0x03, 0x02, 0x01, 0x03],
        );
        assert_eq!(
            error(v4, &Limits::DEFAULT),
            (F::Version, K::UnsupportedVersion)
        );
        let mut p = params();
        p.serial_number = Some(SerialNumber::from_slice(&[0x11; 22]));
        assert_eq!(
            error(der(p), &Limits::DEFAULT),
            (F::SerialNumber, K::SerialTooLong)
        );
        // The first digit of notBefore (UTCTime "YY...") made a letter.
        let at = ok.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        let mut bad_time = ok.clone();
        bad_time[at + 2] = b'X';
        assert_eq!(error(bad_time, &Limits::DEFAULT), (F::Validity, K::BadTime));
    }

    #[test]
    fn rule_names() {
        let mut p = params();
        for i in 0..65u64 {
            p.distinguished_name
                .push(DnType::CustomDnType(vec![1, 2, 3, i]), "x");
        }
        let many = der(p);
        assert_eq!(
            error(many.clone(), &Limits::DEFAULT),
            (F::Issuer, K::TooManyNameAttributes)
        );
        let roomy = Limits::DEFAULT.max_name_attributes(66);
        assert!(CertIdentity::from_der_with(many, &roomy).is_ok());
        // An empty RDN: the issuer's SET { SEQUENCE { CN "rules" } } made an
        // empty SET followed by a TLV of the same total length.
        let ok = der(params());
        let cn = [
            0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05,
        ];
        let mut empty = cn;
        empty[..4].copy_from_slice(&[0x31, 0x00, 0x05, 0x0c]);
        let (field, kind) = error(replace(&ok, &cn, &empty), &Limits::DEFAULT);
        assert_eq!((field, kind), (F::Issuer, K::EmptyList));
    }

    #[test]
    fn rule_extensions() {
        let mut p = params();
        p.custom_extensions = (0..70u64)
            .map(|i| CustomExtension::from_oid_content(&[1, 2, 3, i], vec![0x05, 0x00]))
            .collect();
        let many = der(p);
        assert_eq!(
            error(many.clone(), &Limits::DEFAULT),
            (F::Extensions, K::TooManyExtensions)
        );
        assert!(CertIdentity::from_der_with(many, &Limits::DEFAULT.max_extensions(80)).is_ok());
        // A duplicate found among the first sixteen (kept on the stack) and
        // past them (on the heap), against one either side.
        for (count, first, second) in [(10u64, 2u64, 9u64), (30, 3, 25), (30, 20, 28)] {
            let mut p = params();
            p.custom_extensions = (0..count)
                .map(|i| {
                    let arc = if i == second { first } else { i };
                    CustomExtension::from_oid_content(&[1, 2, 3, arc], vec![0x05, 0x00])
                })
                .collect();
            assert_eq!(
                error(der(p), &Limits::DEFAULT),
                (F::Extensions, K::DuplicateExtension),
                "{count} {first} {second}"
            );
        }
        let ok = der(params());
        // The EKU's extnID made a second subjectAltName.
        let dup = replace(
            &ok,
            &[0x06, 0x03, 0x55, 0x1d, 0x25],
            &[0x06, 0x03, 0x55, 0x1d, 0x11],
        );
        assert_eq!(
            error(dup, &Limits::DEFAULT),
            (F::Extensions, K::DuplicateExtension)
        );
        // A DNS name that is not ASCII.
        let not_ia5 = replace(&ok, b"a.example", b"\xc3.example");
        assert_eq!(
            error(not_ia5, &Limits::DEFAULT),
            (F::SubjectAltName, K::BadString)
        );
        // ESC, BEL, CR, LF, NUL, DEL in a DNS name.
        for c in [0x1b, 0x07, b'\r', b'\n', 0, 0x7f] {
            let ctl = replace(
                &ok,
                b"a.example",
                &[b'a', c, b'e', b'x', b'a', b'm', b'p', b'l', b'e'],
            );
            assert_eq!(
                error(ctl, &Limits::DEFAULT),
                (F::SubjectAltName, K::ControlCharacter),
                "{c:#x}"
            );
        }
    }
}

/// [`CrlView`] on real CRLs and on anything an answer on the fetch path
/// can hold (feature `chain`): it reads rcgen's CRLs as they are and never
/// panics.
#[cfg(feature = "chain")]
mod crls {
    #![expect(clippy::unwrap_used)]
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, Issuer,
        KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber, date_time_ymd,
    };

    use super::super::CrlView;

    fn crl(number: u64) -> Vec<u8> {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = Issuer::new(p, KeyPair::generate().unwrap());
        CertificateRevocationListParams {
            this_update: date_time_ymd(2025, 3, 4),
            next_update: date_time_ymd(2045, 1, 1),
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap()
        .der()
        .to_vec()
    }

    #[test]
    fn reads_this_update_and_the_crl_number() {
        let der = crl(300);
        let v = CrlView::parse(&der).unwrap();
        assert_eq!(super::super::rfc3339(v.this_update), "2025-03-04T00:00:00Z");
        // The INTEGER's contents, canonical: 300 = 0x012c.
        assert_eq!(v.number, Some(&[0x01, 0x2c][..]));
        assert!(!v.signature.is_empty() && v.tbs.len() < der.len());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_a_mutated_crl(at in 0usize..400, byte in proptest::num::u8::ANY, cut in 0usize..400) {
            let mut der = crl(7);
            let at = at % der.len();
            der[at] = byte;
            der.truncate(der.len() - cut % der.len());
            let _ = CrlView::parse(&der);
        }

        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = CrlView::parse(&bytes);
            let _ = super::super::spki_algorithm_and_key(&bytes);
        }
    }
}
