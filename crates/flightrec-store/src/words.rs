//! How free-text search cuts text into words: runs of letters and digits,
//! lower-cased; everything else is a space. PostgreSQL's index and every
//! blind index ([`crate::encryption::SearchKey`]) use it, so a search cuts
//! its words the same way as the text it looks in.

/// `text` with every character that is not a letter or digit made a space,
/// and the rest lower-cased.
pub fn words_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            // Most text is ASCII: no case tables to look up.
            out.push(if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            });
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::words_only;

    #[test]
    fn words_are_letters_and_digits_lower_cased() {
        assert_eq!(words_only("Order-1234, ÉTÉ İx ß!"), "order 1234  été i̇x ß ");
        assert_eq!(words_only("{\"k\":\"v\"}"), "  k   v  ");
        assert_eq!(words_only("日本語 ٣"), "日本語 ٣");
    }
}
