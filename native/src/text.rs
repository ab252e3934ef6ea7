//! Text clean-up as `mappers/text.py` does it: Python's `str.strip()` and `clean()`.

/// Python's `str.isspace`: Unicode White_Space plus the information separators U+001C..U+001F,
/// which Python counts as white space and Rust's `char::is_whitespace` does not.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.strip()` without arguments.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// `mappers.text.clean`: stripped, and None when nothing is left.
pub fn clean(s: Option<&str>) -> Option<&str> {
    let v = strip(s?);
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}
