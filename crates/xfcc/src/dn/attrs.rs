//! The attribute types a DN names: OIDs from `const_oid::db`, with the
//! short names OpenSSL prints (what Envoy's `Subject` shows), the names
//! RFC 4514 output uses, and the spellings accepted on input.

use const_oid::db;

use crate::oid::Oid;

pub(super) struct AttrInfo {
    oid: const_oid::ObjectIdentifier,
    /// Name used in our RFC 4514 output.
    pub(super) rfc4514: &'static str,
    /// OpenSSL's short name (what Envoy prints).
    pub(super) openssl: &'static str,
    /// Other accepted spellings (matched case-insensitively).
    aliases: &'static [&'static str],
}

/// A type `const_oid::db` does not name (X.520's `organizationIdentifier`
/// and its neighbours, the EV jurisdiction fields).
const fn oid(s: &str) -> const_oid::ObjectIdentifier {
    const_oid::ObjectIdentifier::new_unwrap(s)
}

const fn attr(
    oid: const_oid::ObjectIdentifier,
    rfc4514: &'static str,
    openssl: &'static str,
    aliases: &'static [&'static str],
) -> AttrInfo {
    AttrInfo {
        oid,
        rfc4514,
        openssl,
        aliases,
    }
}

pub(crate) const CN: const_oid::ObjectIdentifier = db::rfc4519::CN;

/// The attribute types OpenSSL names (`obj_mac.h`): X.520, PKCS #9, RFC
/// 4519 and the EV jurisdiction fields. Envoy's `Subject` prints these by
/// short name and any other type as a dotted OID with a `#hex` value.
static ATTRS: &[AttrInfo] = &[
    attr(CN, "CN", "CN", &["commonName"]),
    attr(db::rfc4519::SN, "SN", "SN", &["surname"]),
    attr(
        db::rfc4519::SERIAL_NUMBER,
        "serialNumber",
        "serialNumber",
        &[],
    ),
    attr(db::rfc4519::C, "C", "C", &["countryName"]),
    attr(db::rfc4519::L, "L", "L", &["localityName"]),
    attr(
        db::rfc2256::STATE_OR_PROVINCE_NAME,
        "ST",
        "ST",
        &["S", "stateOrProvinceName"],
    ),
    attr(
        db::rfc2256::STREET_ADDRESS,
        "STREET",
        "street",
        &["streetAddress"],
    ),
    attr(db::rfc4519::O, "O", "O", &["organizationName"]),
    attr(db::rfc4519::OU, "OU", "OU", &["organizationalUnitName"]),
    attr(db::rfc4519::TITLE, "title", "title", &[]),
    attr(db::rfc4519::DESCRIPTION, "description", "description", &[]),
    attr(db::rfc4519::SEARCH_GUIDE, "searchGuide", "searchGuide", &[]),
    attr(
        db::rfc4519::BUSINESS_CATEGORY,
        "businessCategory",
        "businessCategory",
        &[],
    ),
    attr(
        db::rfc4519::POSTAL_ADDRESS,
        "postalAddress",
        "postalAddress",
        &[],
    ),
    attr(db::rfc4519::POSTAL_CODE, "postalCode", "postalCode", &[]),
    attr(
        db::rfc4519::POST_OFFICE_BOX,
        "postOfficeBox",
        "postOfficeBox",
        &[],
    ),
    attr(
        db::rfc4519::PHYSICAL_DELIVERY_OFFICE_NAME,
        "physicalDeliveryOfficeName",
        "physicalDeliveryOfficeName",
        &[],
    ),
    attr(
        db::rfc4519::TELEPHONE_NUMBER,
        "telephoneNumber",
        "telephoneNumber",
        &[],
    ),
    attr(db::rfc4519::TELEX_NUMBER, "telexNumber", "telexNumber", &[]),
    attr(
        db::rfc4519::TELETEX_TERMINAL_IDENTIFIER,
        "teletexTerminalIdentifier",
        "teletexTerminalIdentifier",
        &[],
    ),
    attr(
        db::rfc4519::FACSIMILE_TELEPHONE_NUMBER,
        "facsimileTelephoneNumber",
        "facsimileTelephoneNumber",
        &[],
    ),
    attr(
        db::rfc4519::X_121_ADDRESS,
        "x121Address",
        "x121Address",
        &[],
    ),
    attr(
        db::rfc4519::INTERNATIONALI_SDN_NUMBER,
        "internationaliSDNNumber",
        "internationaliSDNNumber",
        &[],
    ),
    attr(
        db::rfc4519::REGISTERED_ADDRESS,
        "registeredAddress",
        "registeredAddress",
        &[],
    ),
    attr(
        db::rfc4519::DESTINATION_INDICATOR,
        "destinationIndicator",
        "destinationIndicator",
        &[],
    ),
    attr(
        db::rfc4519::PREFERRED_DELIVERY_METHOD,
        "preferredDeliveryMethod",
        "preferredDeliveryMethod",
        &[],
    ),
    attr(
        db::rfc2256::PRESENTATION_ADDRESS,
        "presentationAddress",
        "presentationAddress",
        &[],
    ),
    attr(
        db::rfc2256::SUPPORTED_APPLICATION_CONTEXT,
        "supportedApplicationContext",
        "supportedApplicationContext",
        &[],
    ),
    attr(db::rfc4519::MEMBER, "member", "member", &[]),
    attr(db::rfc4519::OWNER, "owner", "owner", &[]),
    attr(
        db::rfc4519::ROLE_OCCUPANT,
        "roleOccupant",
        "roleOccupant",
        &[],
    ),
    attr(db::rfc4519::SEE_ALSO, "seeAlso", "seeAlso", &[]),
    attr(
        db::rfc4519::USER_PASSWORD,
        "userPassword",
        "userPassword",
        &[],
    ),
    attr(db::rfc4519::NAME, "name", "name", &[]),
    attr(db::rfc4519::GN, "GN", "GN", &["givenName"]),
    attr(db::rfc4519::INITIALS, "initials", "initials", &[]),
    attr(
        db::rfc4519::GENERATION_QUALIFIER,
        "generationQualifier",
        "generationQualifier",
        &[],
    ),
    attr(
        db::rfc4519::X_500_UNIQUE_IDENTIFIER,
        "x500UniqueIdentifier",
        "x500UniqueIdentifier",
        &[],
    ),
    attr(db::rfc4519::DN_QUALIFIER, "dnQualifier", "dnQualifier", &[]),
    attr(
        db::rfc4519::ENHANCED_SEARCH_GUIDE,
        "enhancedSearchGuide",
        "enhancedSearchGuide",
        &[],
    ),
    attr(
        db::rfc2256::PROTOCOL_INFORMATION,
        "protocolInformation",
        "protocolInformation",
        &[],
    ),
    attr(
        db::rfc4519::DISTINGUISHED_NAME,
        "distinguishedName",
        "distinguishedName",
        &[],
    ),
    attr(
        db::rfc4519::UNIQUE_MEMBER,
        "uniqueMember",
        "uniqueMember",
        &[],
    ),
    attr(
        db::rfc4519::HOUSE_IDENTIFIER,
        "houseIdentifier",
        "houseIdentifier",
        &[],
    ),
    attr(db::rfc2256::DMD_NAME, "dmdName", "dmdName", &[]),
    attr(db::rfc3280::PSEUDONYM, "pseudonym", "pseudonym", &[]),
    attr(db::rfc5912::ID_AT_ROLE, "role", "role", &[]),
    attr(
        oid("2.5.4.97"),
        "organizationIdentifier",
        "organizationIdentifier",
        &[],
    ),
    attr(oid("2.5.4.98"), "c3", "c3", &["countryCode3c"]),
    attr(oid("2.5.4.99"), "n3", "n3", &["countryCode3n"]),
    attr(oid("2.5.4.100"), "dnsName", "dnsName", &[]),
    attr(db::rfc4519::DC, "DC", "DC", &["domainComponent"]),
    attr(db::rfc4519::UID, "UID", "UID", &["userId"]),
    attr(
        db::rfc2985::PKCS_9_AT_EMAIL_ADDRESS,
        "emailAddress",
        "emailAddress",
        &["E", "email"],
    ),
    attr(
        db::rfc2985::PKCS_9_AT_UNSTRUCTURED_NAME,
        "unstructuredName",
        "unstructuredName",
        &[],
    ),
    attr(
        db::rfc2985::PKCS_9_AT_CHALLENGE_PASSWORD,
        "challengePassword",
        "challengePassword",
        &[],
    ),
    attr(
        db::rfc2985::PKCS_9_AT_UNSTRUCTURED_ADDRESS,
        "unstructuredAddress",
        "unstructuredAddress",
        &[],
    ),
    attr(
        oid("1.3.6.1.4.1.311.60.2.1.1"),
        "jurisdictionL",
        "jurisdictionL",
        &["jurisdictionLocalityName"],
    ),
    attr(
        oid("1.3.6.1.4.1.311.60.2.1.2"),
        "jurisdictionST",
        "jurisdictionST",
        &["jurisdictionStateOrProvinceName"],
    ),
    attr(
        oid("1.3.6.1.4.1.311.60.2.1.3"),
        "jurisdictionC",
        "jurisdictionC",
        &["jurisdictionCountryName"],
    ),
];

pub(super) fn attr_info(oid: &Oid) -> Option<&'static AttrInfo> {
    ATTRS.iter().find(|a| oid.is(&a.oid))
}

pub(super) fn lookup_type(ty: &[u8]) -> Option<Oid> {
    if ty.is_empty() {
        return None;
    }
    let ty = match ty {
        [b'o' | b'O', b'i' | b'I', b'd' | b'D', b'.', rest @ ..] => rest,
        _ => ty,
    };
    // `OID.` alone leaves nothing.
    if ty.first()?.is_ascii_digit() {
        return Oid::parse(core::str::from_utf8(ty).ok()?);
    }
    let eq = |name: &str| name.as_bytes().eq_ignore_ascii_case(ty);
    ATTRS
        .iter()
        .find(|a| eq(a.rfc4514) || eq(a.openssl) || a.aliases.iter().any(|n| eq(n)))
        .map(|a| Oid::from(&a.oid))
        .or_else(|| {
            let name = core::str::from_utf8(ty).ok()?;
            const_oid::db::DB.by_name(name).map(Oid::from)
        })
}
