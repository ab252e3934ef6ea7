//! The e-mail rule of `schemas/xdm/formats.py` (`is_email`), used by `mappers/email.py`.

use std::collections::HashSet;

pub enum Email {
    Valid,
    Invalid,
    /// An internationalised domain: Python checks its IDNA form, which is left to Python.
    Unsure,
}

fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// `[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?` on a lower-cased label.
fn is_label(l: &[u8]) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (l.first(), l.last()) {
        (Some(&first), Some(&last)) => {
            l.len() <= 63 && alnum(first) && alnum(last) && l.iter().all(|&b| alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// `schemas.xdm.formats.is_email`, with the known top-level domains (`known_tlds()`).
pub fn check_email(value: &str, tlds: &HashSet<String>) -> Email {
    let Some(at) = value.rfind('@') else {
        return Email::Invalid;
    };
    let (local, domain) = (&value[..at], &value[at + 1..]);
    // A dot-atom local part is ASCII, so its bytes are its characters (Python's len).
    let lb = local.as_bytes();
    let dot_atom = !lb.is_empty()
        && lb.len() <= 64
        && lb.first() != Some(&b'.')
        && lb.last() != Some(&b'.')
        && !local.contains("..")
        && lb.iter().all(|&b| b == b'.' || is_atext(b));
    if !dot_atom {
        return Email::Invalid;
    }
    if !domain.is_ascii() {
        return Email::Unsure;
    }
    if domain.len() > 253 {
        return Email::Invalid;
    }
    let lower = domain.to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    let tld_known = match labels.last() {
        Some(tld) => labels.len() >= 2 && tlds.contains(*tld),
        None => false,
    };
    if tld_known && labels.iter().all(|l| is_label(l.as_bytes())) {
        Email::Valid
    } else {
        Email::Invalid
    }
}
