//! The record's `_id`, as `mappers/record_id.py` computes it.

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `{event_id}:{record_type}` (the text is valid UTF-8 here, so
/// Python's `surrogatepass` never comes into play).
pub fn record_id(event_id: &str, record_type: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    h.update(event_id.as_bytes());
    h.update(b":");
    h.update(record_type.as_bytes());
    let digest = h.finalize();
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}
