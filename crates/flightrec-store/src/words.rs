//! How free-text search cuts text into words: runs of letters and digits,
//! lower-cased; everything else is a space. PostgreSQL's index and every
//! blind index ([`crate::encryption::SearchKey`]) use it, so a search cuts
//! its words the same way as the text it looks in.

/// `text` with every character that is not a letter or digit made a space,
/// and the rest lower-cased.
pub fn words_only(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let keep = c.is_alphanumeric();
            c.to_lowercase()
                .filter(move |_| keep)
                .chain((!keep).then_some(' '))
        })
        .collect()
}
