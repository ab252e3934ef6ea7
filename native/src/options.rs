//! The mapping's settings, as `mappers/options.py` (`MapperOptions`) and
//! `schemas/xdm/options.py` (`XdmOptions`) hold them, plus the two code lists the Python side
//! owns (`mappers.subdivisions.known_subdivisions()`, `schemas.xdm.formats.known_tlds()`):
//! passed in rather than compiled in, so the repository keeps one copy of each.

use std::collections::{HashMap, HashSet};

/// `schemas.genders.Gender`: the values XDM's `person.gender` enum admits.
pub const XDM_GENDERS: [&str; 4] = ["male", "female", "not_specified", "non_specific"];

pub struct Options {
    pub email_identity: bool,
    pub gender_map: HashMap<i64, String>,
    pub audit_field_group: bool,
    /// `_{tenant_id}`, the tenant object's key, when the tenant fields are on.
    pub tenant_key: Option<String>,
    pub subdivisions: HashSet<String>,
    pub tlds: HashSet<String>,
}

/// `XdmOptions`' tenant id rule, `[A-Za-z0-9][A-Za-z0-9_]*`: the id becomes a JSON key that is
/// written without escaping.
pub fn is_tenant_id(id: &str) -> bool {
    let b = id.as_bytes();
    match b.first() {
        Some(first) => {
            first.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    }
}
