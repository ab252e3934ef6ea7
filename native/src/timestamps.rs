//! Dates and times as `mappers/timestamps.py` writes them (`xdm_datetime`) and as Python's
//! `date.isoformat()` writes a birth date. Only `datetime`'s range (years 1..=9999) is
//! handled: outside it Python refuses the event, and so the core leaves it to Python.

const MS_PER_DAY: i64 = 86_400_000;
const MIN_MS: i64 = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const MIN_DAYS: i64 = -719_162; // 0001-01-01
const MAX_DAYS: i64 = 2_932_896; // 9999-12-31

/// A calendar date in the proleptic Gregorian calendar, as Python's `date` has it.
#[derive(Clone, Copy)]
pub struct Date {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ`, always 24 ASCII bytes.
pub struct XdmDateTime([u8; 24]);

impl XdmDateTime {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8; 24] {
        &self.0
    }
}

/// Whether epoch milliseconds fit Python's `datetime` (what `avro_moment` accepts).
pub fn in_range_ms(ms: i64) -> bool {
    (MIN_MS..=MAX_MS).contains(&ms)
}

/// Days since 1970-01-01 to a date (Howard Hinnant's `civil_from_days`); None outside
/// `date`'s range.
pub fn date_from_days(days: i64) -> Option<Date> {
    if !(MIN_DAYS..=MAX_DAYS).contains(&days) {
        return None;
    }
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(Date {
        year: u32::try_from(year).ok()?,
        month: u32::try_from(month).ok()?,
        day: u32::try_from(day).ok()?,
    })
}

fn put(out: &mut [u8], mut n: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `mappers.timestamps.xdm_datetime` of epoch milliseconds; None outside `datetime`'s range.
pub fn xdm_datetime(ms: i64) -> Option<XdmDateTime> {
    if !in_range_ms(ms) {
        return None;
    }
    let date = date_from_days(ms.div_euclid(MS_PER_DAY))?;
    let rem = ms.rem_euclid(MS_PER_DAY) as u64;
    let mut v = *b"0000-00-00T00:00:00.000Z";
    put(&mut v[0..4], u64::from(date.year));
    put(&mut v[5..7], u64::from(date.month));
    put(&mut v[8..10], u64::from(date.day));
    put(&mut v[11..13], rem / 3_600_000);
    put(&mut v[14..16], rem / 60_000 % 60);
    put(&mut v[17..19], rem / 1000 % 60);
    put(&mut v[20..23], rem % 1000);
    Some(XdmDateTime(v))
}

impl Date {
    /// `date.isoformat()`: `YYYY-MM-DD`, the year zero-padded to four digits.
    pub fn iso(&self) -> [u8; 10] {
        let mut v = *b"0000-00-00";
        put(&mut v[0..4], u64::from(self.year));
        put(&mut v[5..7], u64::from(self.month));
        put(&mut v[8..10], u64::from(self.day));
        v
    }

    /// `f"{month:02d}-{day:02d}"`.
    pub fn day_and_month(&self) -> [u8; 5] {
        let mut v = *b"00-00";
        put(&mut v[0..2], u64::from(self.month));
        put(&mut v[3..5], u64::from(self.day));
        v
    }
}
