//! A decoded event to the XDM profile record, as `mappers/mapper.py` (with
//! `mappers/decoded_events.py`, `mappers/addresses.py` and `mappers/email.py`) maps it.
//!
//! Every function returns None where Python would refuse the event or where the core is not
//! sure to agree with Python; the caller then hands the value to Python. The notes Python counts
//! (`Upsert.notes`, which the consumer turns into metrics) are collected in `Profile::notes`, in
//! Python's order, so that records with notes need not take the Python path.

use crate::email::{check_email, Email};
use crate::events::{Address, Customer, Deleted, Upserted};
use crate::options::Options;
use crate::record_id::record_id;
use crate::text::{clean, strip};
use crate::timestamps::{date_from_days, in_range_ms, xdm_datetime, Date, XdmDateTime};

/// A counted outcome of `mappers.notes.NOTE_CLASSES`: a part of the customer left out. Only
/// the kind is kept here; its string is the Python constant, passed in when the core is built
/// (`lib.rs`), so `schemas/error_classes.py` stays the one home of the names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    CountryCodeDropped,
    StateProvinceDropped,
    GenderUnknown,
    DefaultAddressNotFound,
}

impl Note {
    /// In declaration order, so that `note as usize` indexes it (checked below).
    pub const ALL: [Note; 4] = [
        Note::CountryCodeDropped,
        Note::StateProvinceDropped,
        Note::GenderUnknown,
        Note::DefaultAddressNotFound,
    ];

    /// The constant's name in `mappers.notes`: the key of the constructor's `notes` mapping.
    pub fn name(self) -> &'static str {
        match self {
            Note::CountryCodeDropped => "COUNTRY_CODE_DROPPED",
            Note::StateProvinceDropped => "STATE_PROVINCE_DROPPED",
            Note::GenderUnknown => "GENDER_UNKNOWN",
            Note::DefaultAddressNotFound => "DEFAULT_ADDRESS_NOT_FOUND",
        }
    }
}

const _: () = {
    let mut i = 0;
    while i < Note::ALL.len() {
        assert!(Note::ALL[i] as usize == i);
        i += 1;
    }
};

/// XDM has four street fields; lines from the fourth on share `street4`.
const STREET_FIELDS: usize = 4;

pub struct PostalAddress<'a> {
    pub streets: Vec<String>,
    pub city: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub country_code: Option<&'a str>,
    pub state_province: Option<String>,
}

impl PostalAddress<'_> {
    /// Python writes the address only when its dict is not empty.
    pub fn is_empty(&self) -> bool {
        self.streets.is_empty()
            && self.city.is_none()
            && self.postal_code.is_none()
            && self.state.is_none()
            && self.country_code.is_none()
            && self.state_province.is_none()
    }
}

pub struct MappedAddress<'a> {
    pub address: PostalAddress<'a>,
    pub phone: Option<&'a str>,
}

/// `_tenant_fields`: `_{tenant}.commerce`.
pub struct TenantFields<'a> {
    pub website_id: i32,
    pub group_id: i32,
    pub website_code: Option<&'a str>,
    pub store_code: Option<&'a str>,
    pub store_view_code: Option<&'a str>,
    pub created_in: Option<&'a str>,
    pub store_id: Option<i32>,
    pub is_subscribed: Option<bool>,
}

pub struct Profile<'a, 'o> {
    pub record_type: &'static str,
    pub id: String,
    pub customer_id: i64,
    pub email: &'a str,
    /// The lower-cased address, when the `Email` identity is on.
    pub email_identity: Option<String>,
    /// (XDM `person.name` key, value) in the mapper's order.
    pub names: [(&'static str, Option<&'a str>); 5],
    pub birth: Option<Date>,
    pub gender: Option<&'o str>,
    pub billing: Option<MappedAddress<'a>>,
    /// The default shipping id is the billing one: Python copies the billing address.
    pub shipping_is_billing: bool,
    pub shipping: Option<MappedAddress<'a>>,
    pub created: XdmDateTime,
    /// Written only with the audit field group.
    pub updated: XdmDateTime,
    pub active: bool,
    pub tenant: Option<TenantFields<'a>>,
    /// (primary, secondary) of `Upsert.event_order`, epoch milliseconds.
    pub event_order: (i64, i64),
    /// `Upsert.notes`: one entry per occurrence, in the order Python appends them.
    pub notes: Vec<Note>,
}

pub struct DeleteRecord {
    pub id: String,
    pub customer_id: i64,
    pub event_ms: i64,
}

/// `state_province`: `CC-RRR` when it is a known ISO 3166-2 subdivision. `region_code` is ASCII
/// (the caller's check): ASCII upper-casing is then Python's `str.upper`.
fn state_province(country: &str, region_code: &str, options: &Options) -> Option<String> {
    let code = strip(region_code).to_ascii_uppercase();
    let candidate = match code.strip_prefix(country) {
        Some(rest) if rest.starts_with('-') => code,
        _ => format!("{country}-{code}"),
    };
    if options.subdivisions.contains(&candidate) {
        Some(candidate)
    } else {
        None
    }
}

fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `mappers.addresses.map_address`, its notes appended to `notes`; None where the core is not
/// sure to agree with Python (a region code that is not ASCII).
fn map_address<'a>(
    a: &Address<'a>,
    options: &Options,
    notes: &mut Vec<Note>,
) -> Option<MappedAddress<'a>> {
    let mut streets: Vec<String> = a
        .street
        .iter()
        .map(|s| strip(s))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if streets.len() > STREET_FIELDS {
        let tail = streets[STREET_FIELDS - 1..].join(", ");
        streets.truncate(STREET_FIELDS - 1);
        streets.push(tail);
    }
    let (state, region_code) = match &a.region {
        Some(region) => (clean(region.region), clean(region.region_code)),
        None => (None, None),
    };
    let country = strip(a.country_id);
    // Python reads the region code only under a valid country code.
    let (country_code, state_province) = if is_country_code(country) {
        let state_province = match region_code {
            // Unicode upper-casing may turn a non-ASCII code into a known one (`ß` to `SS`);
            // Python takes those.
            Some(code) if !code.is_ascii() => return None,
            Some(code) => {
                let found = state_province(country, code, options);
                if found.is_none() {
                    notes.push(Note::StateProvinceDropped);
                }
                found
            }
            None => None,
        };
        (Some(country), state_province)
    } else {
        notes.push(Note::CountryCodeDropped);
        (None, None)
    };
    Some(MappedAddress {
        address: PostalAddress {
            streets,
            city: clean(Some(a.city)),
            postal_code: clean(a.postcode),
            state,
            country_code,
            state_province,
        },
        phone: clean(Some(a.telephone)),
    })
}

/// `Mapper._default_address`: Some(None) when there is no address to write (no id, or an id
/// that names no address: a note); None where `map_address` declines.
fn default_address<'a>(
    c: &Customer<'a>,
    id: Option<i64>,
    options: &Options,
    notes: &mut Vec<Note>,
) -> Option<Option<MappedAddress<'a>>> {
    let Some(id) = id else { return Some(None) };
    // The first address with the id, as Python's loop finds it.
    match c.addresses.iter().find(|a| a.id == id) {
        Some(address) => map_address(address, options, notes).map(Some),
        None => {
            notes.push(Note::DefaultAddressNotFound);
            Some(None)
        }
    }
}

/// What `decoded_upsert` and `CustomerUpsertedModel` refuse beyond what Avro checks.
fn upsert_in_range(e: &Upserted) -> bool {
    let c = &e.customer;
    !e.event_id.is_empty()
        && c.id >= 1
        && c.website_id >= 0
        && c.group_id >= 0
        && c.store_id.is_none_or(|v| v >= 0)
        && c.default_billing.is_none_or(|v| v >= 1)
        && c.default_shipping.is_none_or(|v| v >= 1)
        && c.addresses.iter().all(|a| a.id >= 1)
        && in_range_ms(e.event_time)
        && in_range_ms(c.created_at)
        && in_range_ms(c.updated_at)
}

/// `Mapper._upsert` of a decoded event.
pub fn map_upsert<'a, 'o>(e: &Upserted<'a>, options: &'o Options) -> Option<Profile<'a, 'o>> {
    if !upsert_in_range(e) {
        return None;
    }
    let c = &e.customer;
    let email = strip(c.email);
    // Refused (`map.invalid_email`), or an IDN domain: Python words the one, checks the other.
    if email.is_empty() || !matches!(check_email(email, &options.tlds), Email::Valid) {
        return None;
    }
    let birth = match c.dob {
        Some(days) => Some(date_from_days(i64::from(days))?),
        None => None,
    };
    // Python's order: the person's note, then billing's, then shipping's.
    let mut notes = Vec::new();
    let gender = match c.gender {
        Some(g) => {
            let gender = options.gender_map.get(&i64::from(g)).map(String::as_str);
            if gender.is_none() {
                notes.push(Note::GenderUnknown);
            }
            gender
        }
        None => None,
    };
    let billing_notes = notes.len();
    let billing = default_address(c, c.default_billing, options, &mut notes)?;
    let shipping_is_billing =
        c.default_shipping.is_some() && c.default_shipping == c.default_billing;
    let shipping = if shipping_is_billing {
        // One address for both: mapped once, its notes counted twice
        // (`found.extend(found[billing_notes:])`).
        notes.extend_from_within(billing_notes..);
        None
    } else {
        default_address(c, c.default_shipping, options, &mut notes)?
    };
    let tenant = options.tenant_key.as_ref().map(|_| TenantFields {
        website_id: c.website_id,
        group_id: c.group_id,
        website_code: clean(Some(e.scope.website_code)),
        store_code: clean(e.scope.store_code),
        store_view_code: clean(e.scope.store_view_code),
        created_in: clean(c.created_in),
        store_id: c.store_id,
        is_subscribed: c.is_subscribed,
    });
    let record_type = e.record_type.name();
    Some(Profile {
        record_type,
        id: record_id(e.event_id, record_type),
        customer_id: c.id,
        email,
        // The address is ASCII here (an IDN domain is not handled), so ASCII lower-casing is
        // Python's `str.lower`.
        email_identity: options.email_identity.then(|| email.to_ascii_lowercase()),
        names: [
            ("firstName", clean(c.firstname)),
            ("middleName", clean(c.middlename)),
            ("lastName", clean(c.lastname)),
            ("courtesyTitle", clean(c.prefix)),
            ("suffix", clean(c.suffix)),
        ],
        birth,
        gender,
        billing,
        shipping_is_billing,
        shipping,
        created: xdm_datetime(c.created_at)?,
        updated: xdm_datetime(c.updated_at)?,
        active: c.is_active,
        tenant,
        event_order: (c.updated_at, e.event_time),
        notes,
    })
}

/// `Mapper._delete` of a decoded event.
pub fn map_delete(e: &Deleted) -> Option<DeleteRecord> {
    let valid = !e.event_id.is_empty()
        && e.customer_id >= 1
        && e.website_id.is_none_or(|w| w >= 0)
        && in_range_ms(e.event_time);
    valid.then(|| DeleteRecord {
        id: record_id(e.event_id, "CustomerDeleted"),
        customer_id: e.customer_id,
        event_ms: e.event_time,
    })
}
