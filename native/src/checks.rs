//! The rules `schemas/xdm/validator.py` (with `schemas/xdm/formats.py`) applies to the fields
//! the core emits. The mapping already produces records that pass; this is the second look
//! the Python path takes, so that a record the validator would refuse is never sent from here.

use std::collections::HashSet;

use crate::email::{check_email, Email};
use crate::mapping::{MappedAddress, Profile};
use crate::options::XDM_GENDERS;
use crate::timestamps::XdmDateTime;

fn is_digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

/// `formats.is_date_time` on what `xdm_datetime` writes (`...T..:..:...mmmZ`): the shape and
/// the field ranges (the date itself comes from the calendar, so its day exists).
fn is_date_time(v: &XdmDateTime) -> bool {
    let v = v.as_bytes();
    let shape = is_digits(&v[0..4])
        && v[4] == b'-'
        && is_digits(&v[5..7])
        && v[7] == b'-'
        && is_digits(&v[8..10])
        && v[10] == b'T'
        && is_digits(&v[11..13])
        && v[13] == b':'
        && is_digits(&v[14..16])
        && v[16] == b':'
        && is_digits(&v[17..19])
        && v[19] == b'.'
        && is_digits(&v[20..23])
        && v[23] == b'Z';
    shape
        && v[5..7] >= b"01"[..]
        && v[5..7] <= b"12"[..]
        && v[8..10] >= b"01"[..]
        && v[8..10] <= b"31"[..]
        && v[11..13] <= b"23"[..]
        && v[14..16] <= b"59"[..]
        && v[17..19] <= b"59"[..]
}

/// `^[A-Z]{2}-[A-Z0-9]{1,3}$`, the mapper's own pattern (stricter than the schema's).
fn is_state_province(s: &str) -> bool {
    let b = s.as_bytes();
    (4..=6).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2] == b'-'
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn non_empty(s: Option<&str>) -> bool {
    s.is_none_or(|v| !v.is_empty())
}

fn valid_address(m: &MappedAddress) -> bool {
    let a = &m.address;
    a.streets.len() <= 4
        && a.streets.iter().all(|s| !s.is_empty())
        && non_empty(a.city)
        && non_empty(a.postal_code)
        && non_empty(a.state)
        && a.country_code
            .is_none_or(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        && a.state_province.as_deref().is_none_or(is_state_province)
        && non_empty(m.phone)
}

/// Whether the validator would pass the record.
pub fn valid_profile(p: &Profile, tlds: &HashSet<String>) -> bool {
    let tenant_ok = p.tenant.as_ref().is_none_or(|t| {
        non_empty(t.website_code)
            && non_empty(t.store_code)
            && non_empty(t.store_view_code)
            && non_empty(t.created_in)
    });
    p.id.len() == 64
        && p.id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && p.email_identity.as_deref().is_none_or(|e| !e.is_empty())
        && p.names.iter().all(|(_, v)| non_empty(*v))
        && p.birth.is_none_or(|d| (1..=32767).contains(&d.year))
        && p.gender.is_none_or(|g| XDM_GENDERS.contains(&g))
        && !p.email.is_empty()
        && matches!(check_email(p.email, tlds), Email::Valid)
        && is_date_time(&p.created)
        && is_date_time(&p.updated)
        && p.billing.as_ref().is_none_or(valid_address)
        && p.shipping.as_ref().is_none_or(valid_address)
        && tenant_ok
}
