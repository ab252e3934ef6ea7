//! The decoded events, as `schemas/avro/decoder.py` reads them with the newest shipped writer
//! schemas (`schemas/avro/commerce.customer.v1`): one reader per writer layout.
//!
//! The layouts are pinned by fingerprint. A value of any other writer schema (an older or a
//! newer version, another framing) is not read here, so a new schema version falls back to
//! Python instead of being misread; `tests/native/test_core_fingerprints.py` fails when the
//! shipped schemas change.

use crate::avro::Reader;

/// CRC-64-AVRO fingerprints, wire order, of the writer schemas this module reads.
pub const FP_CREATED: [u8; 8] = [0xa5, 0xfa, 0x10, 0xf4, 0x94, 0xf3, 0xe1, 0x53]; // CustomerCreated.v2
pub const FP_UPDATED: [u8; 8] = [0x61, 0x92, 0x05, 0xf4, 0xbe, 0xfa, 0x6b, 0xd5]; // CustomerUpdated.v2
pub const FP_DELETED: [u8; 8] = [0x3d, 0x59, 0x07, 0x16, 0x87, 0x5e, 0x73, 0xdb]; // CustomerDeleted.v1
pub const FINGERPRINTS: [[u8; 8]; 3] = [FP_CREATED, FP_UPDATED, FP_DELETED];

/// Avro single-object encoding: the two marker bytes, then the 8-byte fingerprint.
const MAGIC: [u8; 2] = [0xC3, 0x01];
const HEADER: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UpsertType {
    Created,
    Updated,
}

impl UpsertType {
    pub fn name(self) -> &'static str {
        match self {
            UpsertType::Created => "CustomerCreated",
            UpsertType::Updated => "CustomerUpdated",
        }
    }
}

pub struct Scope<'a> {
    pub website_code: &'a str,
    pub store_code: Option<&'a str>,
    pub store_view_code: Option<&'a str>,
}

pub struct Region<'a> {
    pub region: Option<&'a str>,
    pub region_code: Option<&'a str>,
}

/// An address, with the fields the mapping reads; the others are read past.
pub struct Address<'a> {
    pub id: i64,
    pub street: Vec<&'a str>,
    pub city: &'a str,
    pub region: Option<Region<'a>>,
    pub postcode: Option<&'a str>,
    pub country_id: &'a str,
    pub telephone: &'a str,
}

pub struct Customer<'a> {
    pub id: i64,
    pub email: &'a str,
    pub firstname: Option<&'a str>,
    pub lastname: Option<&'a str>,
    pub middlename: Option<&'a str>,
    pub prefix: Option<&'a str>,
    pub suffix: Option<&'a str>,
    /// Days since the epoch (Avro `date`).
    pub dob: Option<i32>,
    pub gender: Option<i32>,
    pub website_id: i32,
    pub store_id: Option<i32>,
    pub group_id: i32,
    /// Epoch milliseconds (Avro `timestamp-millis`).
    pub created_at: i64,
    pub updated_at: i64,
    pub created_in: Option<&'a str>,
    pub is_active: bool,
    pub default_billing: Option<i64>,
    pub default_shipping: Option<i64>,
    pub addresses: Vec<Address<'a>>,
    pub is_subscribed: Option<bool>,
}

/// `CustomerCreated` and `CustomerUpdated`.
pub struct Upserted<'a> {
    pub record_type: UpsertType,
    pub event_id: &'a str,
    pub event_time: i64,
    pub scope: Scope<'a>,
    pub customer: Customer<'a>,
}

pub struct Deleted<'a> {
    pub event_id: &'a str,
    pub event_time: i64,
    pub customer_id: i64,
    pub website_id: Option<i32>,
}

// One event lives on the stack for one call: boxing the upsert would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Event<'a> {
    Upsert(Upserted<'a>),
    Delete(Deleted<'a>),
}

/// The event in a Kafka value; None for another framing or writer schema, or malformed bytes.
pub fn read_event(value: &[u8]) -> Option<Event<'_>> {
    if value.get(..2)? != MAGIC {
        return None;
    }
    let fingerprint = value.get(2..HEADER)?;
    let mut r = Reader::new(value, HEADER);
    let event = if fingerprint == FP_DELETED {
        Event::Delete(read_deleted(&mut r)?)
    } else if fingerprint == FP_CREATED {
        Event::Upsert(read_upserted(&mut r, UpsertType::Created)?)
    } else if fingerprint == FP_UPDATED {
        Event::Upsert(read_upserted(&mut r, UpsertType::Updated)?)
    } else {
        return None;
    };
    if r.at_end() {
        Some(event)
    } else {
        None
    }
}

fn read_scope<'a>(r: &mut Reader<'a>) -> Option<Scope<'a>> {
    Some(Scope {
        website_code: r.string()?,
        store_code: r.opt_string()?,
        store_view_code: r.opt_string()?,
    })
}

fn read_address<'a>(r: &mut Reader<'a>) -> Option<Address<'a>> {
    let id = r.long()?;
    r.string()?; // firstname
    r.string()?; // lastname
    r.opt_string()?; // middlename
    r.opt_string()?; // prefix
    r.opt_string()?; // suffix
    r.opt_string()?; // company
    let mut street = Vec::with_capacity(4);
    r.blocks(|r| {
        street.push(r.string()?);
        Some(())
    })?;
    let city = r.string()?;
    let region = r.optional(|r| {
        let region = r.opt_string()?;
        let region_code = r.opt_string()?;
        r.opt_int()?; // region_id
        Some(Region {
            region,
            region_code,
        })
    })?;
    let postcode = r.opt_string()?;
    let country_id = r.string()?;
    let telephone = r.string()?;
    r.opt_string()?; // fax
    r.opt_string()?; // vat_id
    r.boolean()?; // default_billing: the customer-level ids decide, as in Python
    r.boolean()?; // default_shipping
    Some(Address {
        id,
        street,
        city,
        region,
        postcode,
        country_id,
        telephone,
    })
}

fn read_customer<'a>(r: &mut Reader<'a>) -> Option<Customer<'a>> {
    let id = r.long()?;
    let email = r.string()?;
    let firstname = r.opt_string()?;
    let lastname = r.opt_string()?;
    let middlename = r.opt_string()?;
    let prefix = r.opt_string()?;
    let suffix = r.opt_string()?;
    let dob = r.opt_int()?;
    let gender = r.opt_int()?;
    r.opt_string()?; // taxvat
    let website_id = r.int()?;
    let store_id = r.opt_int()?;
    let group_id = r.int()?;
    let created_at = r.long()?;
    let updated_at = r.long()?;
    let created_in = r.opt_string()?;
    let is_active = r.boolean()?;
    let default_billing = r.opt_long()?;
    let default_shipping = r.opt_long()?;
    let mut addresses = Vec::with_capacity(2);
    r.blocks(|r| {
        addresses.push(read_address(r)?);
        Some(())
    })?;
    let is_subscribed = r.opt_bool()?;
    r.blocks(|r| {
        r.string()?; // custom_attributes: a map the mapping does not read
        r.string()?;
        Some(())
    })?;
    Some(Customer {
        id,
        email,
        firstname,
        lastname,
        middlename,
        prefix,
        suffix,
        dob,
        gender,
        website_id,
        store_id,
        group_id,
        created_at,
        updated_at,
        created_in,
        is_active,
        default_billing,
        default_shipping,
        addresses,
        is_subscribed,
    })
}

fn read_upserted<'a>(r: &mut Reader<'a>, record_type: UpsertType) -> Option<Upserted<'a>> {
    let event_id = r.string()?;
    let event_time = r.long()?;
    r.string()?; // source
    Some(Upserted {
        record_type,
        event_id,
        event_time,
        scope: read_scope(r)?,
        customer: read_customer(r)?,
    })
}

fn read_deleted<'a>(r: &mut Reader<'a>) -> Option<Deleted<'a>> {
    let event_id = r.string()?;
    let event_time = r.long()?;
    r.string()?; // source
    read_scope(r)?;
    let customer_id = r.long()?;
    r.opt_string()?; // email
    Some(Deleted {
        event_id,
        event_time,
        customer_id,
        website_id: r.opt_int()?,
    })
}
