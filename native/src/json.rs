//! The record as `orjson.dumps` writes the Python mapper's dict: compact, keys in the dict's
//! insertion order, UTF-8 unescaped, only `"`, `\` and control characters below U+0020 escaped
//! (the short forms `\b \t \n \f \r`, else `\u00XX` in lower-case hex).

use crate::mapping::{DeleteRecord, MappedAddress, Profile};

const HEX: &[u8; 16] = b"0123456789abcdef";

fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn integer(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(n.to_string().as_bytes());
}

/// An object being written: commas go between members, whatever is left out.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Obj<'o> {
    fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Writes the key (plain ASCII, never needing escapes) and returns the buffer for its value.
    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn str(&mut self, k: &str, v: &str) {
        string(self.key(k), v);
    }

    fn opt_str(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }

    fn raw(&mut self, k: &str, v: &[u8]) {
        let out = self.key(k);
        out.push(b'"');
        out.extend_from_slice(v);
        out.push(b'"');
    }

    fn int(&mut self, k: &str, v: i64) {
        integer(self.key(k), v);
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

fn customer_identity(ids: &mut Obj, customer_id: i64) {
    let out = ids.key("CustomerId");
    out.extend_from_slice(b"[{\"id\":\"");
    integer(out, customer_id);
    out.extend_from_slice(b"\",\"authenticatedState\":\"authenticated\",\"primary\":true}]");
}

fn address(o: &mut Obj, key: &str, phone_key: &str, m: Option<&MappedAddress>) {
    const STREETS: [&str; 4] = ["street1", "street2", "street3", "street4"];
    let Some(m) = m else { return };
    let a = &m.address;
    if !a.is_empty() {
        let mut ao = Obj::new(o.key(key));
        for (k, v) in STREETS.iter().zip(a.streets.iter()) {
            ao.str(k, v);
        }
        ao.opt_str("city", a.city);
        ao.opt_str("postalCode", a.postal_code);
        ao.opt_str("state", a.state);
        ao.opt_str("countryCode", a.country_code);
        ao.opt_str("stateProvince", a.state_province.as_deref());
        ao.end();
    }
    if let Some(number) = m.phone {
        let mut ph = Obj::new(o.key(phone_key));
        ph.str("number", number);
        ph.end();
    }
}

fn person(o: &mut Obj, p: &Profile) {
    let has_name = p.names.iter().any(|(_, v)| v.is_some());
    if !(has_name || p.birth.is_some() || p.gender.is_some()) {
        return;
    }
    let mut po = Obj::new(o.key("person"));
    if has_name {
        let mut name = Obj::new(po.key("name"));
        for (k, v) in p.names.iter() {
            name.opt_str(k, *v);
        }
        name.end();
    }
    if let Some(d) = p.birth {
        po.raw("birthDate", &d.iso());
        po.raw("birthDayAndMonth", &d.day_and_month());
        po.int("birthYear", i64::from(d.year));
    }
    po.opt_str("gender", p.gender);
    po.end();
}

/// The upsert record; `tenant_key` is `_{tenant_id}` when the tenant fields are on.
pub fn write_profile(p: &Profile, audit_field_group: bool, tenant_key: Option<&str>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(1024);
    let mut o = Obj::new(&mut buf);
    o.str("_id", &p.id);
    {
        let mut ids = Obj::new(o.key("identityMap"));
        customer_identity(&mut ids, p.customer_id);
        if let Some(identity) = &p.email_identity {
            let out = ids.key("Email");
            out.extend_from_slice(b"[{\"id\":");
            string(out, identity);
            out.extend_from_slice(b",\"primary\":false}]");
        }
        ids.end();
    }
    person(&mut o, p);
    {
        let mut em = Obj::new(o.key("personalEmail"));
        em.str("address", p.email);
        em.end();
    }
    address(
        &mut o,
        "billingAddress",
        "billingAddressPhone",
        p.billing.as_ref(),
    );
    let shipping = if p.shipping_is_billing {
        p.billing.as_ref()
    } else {
        p.shipping.as_ref()
    };
    address(&mut o, "shippingAddress", "shippingAddressPhone", shipping);
    {
        let mut ua = Obj::new(o.key("userAccount"));
        {
            let out = ua.key("ID");
            out.push(b'"');
            integer(out, p.customer_id);
            out.push(b'"');
        }
        ua.str("startDate", p.created.as_str());
        ua.str("status", if p.active { "active" } else { "inactive" });
        ua.end();
    }
    if audit_field_group {
        let mut audit = Obj::new(o.key("extSourceSystemAudit"));
        audit.str("createdDate", p.created.as_str());
        audit.str("lastUpdatedDate", p.updated.as_str());
        audit.end();
    }
    if let (Some(key), Some(t)) = (tenant_key, &p.tenant) {
        let mut tenant = Obj::new(o.key(key));
        let mut c = Obj::new(tenant.key("commerce"));
        c.int("websiteId", i64::from(t.website_id));
        c.int("groupId", i64::from(t.group_id));
        c.opt_str("websiteCode", t.website_code);
        c.opt_str("storeCode", t.store_code);
        c.opt_str("storeViewCode", t.store_view_code);
        c.opt_str("createdIn", t.created_in);
        if let Some(store_id) = t.store_id {
            c.int("storeId", i64::from(store_id));
        }
        if let Some(subscribed) = t.is_subscribed {
            c.key("isSubscribed")
                .extend_from_slice(if subscribed { b"true" } else { b"false" });
        }
        c.end();
        tenant.end();
    }
    o.end();
    buf
}

/// The delete record: `_id` and the `CustomerId` identity.
pub fn write_delete(d: &DeleteRecord) -> Vec<u8> {
    let mut buf = Vec::with_capacity(192);
    let mut o = Obj::new(&mut buf);
    o.str("_id", &d.id);
    let mut ids = Obj::new(o.key("identityMap"));
    customer_identity(&mut ids, d.customer_id);
    ids.end();
    o.end();
    buf
}
