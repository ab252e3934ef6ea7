//! The Avro binary reader, as `schemas/avro/compiled_reader.py` reads a body: zig-zag varints,
//! length-prefixed UTF-8 strings, `["null", X]` unions and blocked arrays and maps.
//!
//! Every read returns None on anything malformed, so a bad value can only ever fall back to
//! Python, which words the refusal.

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Reader { bytes, pos }
    }

    /// Whether the whole value was read: trailing bytes mean a layout we do not know.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub fn long(&mut self) -> Option<i64> {
        let mut n: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            // A tenth byte may only carry the last bit; anything longer overflows a long.
            if shift == 63 && b > 1 {
                return None;
            }
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
        Some(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    pub fn int(&mut self) -> Option<i32> {
        i32::try_from(self.long()?).ok()
    }

    pub fn boolean(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    pub fn string(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.long()?).ok()?;
        let end = self.pos.checked_add(len)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        std::str::from_utf8(s).ok()
    }

    /// The branch of a `["null", X]` union: false for null. Any other index is malformed.
    fn present(&mut self) -> Option<bool> {
        match self.long()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    pub fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        Some(if self.present()? {
            Some(read(self)?)
        } else {
            None
        })
    }

    pub fn opt_string(&mut self) -> Option<Option<&'a str>> {
        self.optional(Self::string)
    }

    pub fn opt_long(&mut self) -> Option<Option<i64>> {
        self.optional(Self::long)
    }

    pub fn opt_int(&mut self) -> Option<Option<i32>> {
        self.optional(Self::int)
    }

    pub fn opt_bool(&mut self) -> Option<Option<bool>> {
        self.optional(Self::boolean)
    }

    /// Calls `item` for each item of an array or map, block by block.
    pub fn blocks(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        loop {
            let mut count = self.long()?;
            if count == 0 {
                return Some(());
            }
            if count < 0 {
                count = count.checked_neg()?;
                self.long()?; // the block's size in bytes, not needed to read it
            }
            // Every item of the arrays and maps read here takes at least one byte, so a count
            // beyond the bytes left is malformed (and would otherwise spin or over-allocate).
            let left = self.bytes.len() - self.pos;
            if usize::try_from(count).ok()? > left {
                return None;
            }
            for _ in 0..count {
                item(self)?;
            }
        }
    }
}
