//! The audit log's filters as they live in its URL: parsed once, turned
//! back into links (a chip's ×, a card, the next page) and into the query
//! the API's filter parser reads.

use crate::cursor;
use crate::error::ApiResult;

/// The window the audit log shows when the URL names none.
pub const DEFAULT_WINDOW: &str = "24h";

/// The windows a page offers, as `since` takes them, with their names.
pub const WINDOWS: [(&str, &str); 5] = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("all", "All time"),
];

/// The filters given, in order, empty values left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters(Vec<(String, String)>);

impl Filters {
    /// The filters of a query string, and the page cursor it carries.
    pub fn parse(raw: Option<&str>) -> ApiResult<(Filters, Option<u64>)> {
        let mut pairs = Vec::new();
        let mut before_seq = None;
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned() {
            match k.as_str() {
                _ if v.is_empty() => {}
                "cursor" => before_seq = Some(cursor::decode::<u64>("events", &v)?),
                _ => pairs.push((k, v)),
            }
        }
        Ok((Filters(pairs), before_seq))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Takes `name` out of the filters (its first value).
    pub fn take(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(at).1)
    }

    pub fn window(&self) -> &str {
        self.get("since").unwrap_or(DEFAULT_WINDOW)
    }

    /// This view's link.
    pub fn href(&self) -> String {
        link(self.iter())
    }

    /// This view's query string, as its link carries it.
    pub fn query(&self) -> String {
        encode(self.iter())
    }

    /// This view's link without `name`.
    pub fn without(&self, name: &str) -> String {
        link(self.iter().filter(|(k, _)| *k != name))
    }

    /// This view's link with `name` set to `value`.
    pub fn with(&self, name: &str, value: &str) -> String {
        link(
            self.iter()
                .filter(|(k, _)| *k != name)
                .chain([(name, value)]),
        )
    }

    /// The query string for the API: these filters, in the default window
    /// when they name none.
    pub fn api_query(&self) -> String {
        let window = self
            .get("since")
            .is_none()
            .then_some(("since", DEFAULT_WINDOW));
        encode(self.iter().chain(window))
    }
}

/// A link to the audit log with these filters.
pub fn link<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    format!("/?{}", encode(pairs))
}

fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_every_other_filter() {
        let (f, cursor) = Filters::parse(Some("type=edit_file&q=&actor=a%40b.c&cursor=")).unwrap();
        assert_eq!(cursor, None);
        assert_eq!(f.href(), "/?type=edit_file&actor=a%40b.c");
        assert_eq!(f.without("type"), "/?actor=a%40b.c");
        assert_eq!(
            f.with("status", "fail"),
            "/?type=edit_file&actor=a%40b.c&status=fail"
        );
        assert_eq!(f.with("type", "x"), "/?actor=a%40b.c&type=x");
        assert_eq!(f.api_query(), "type=edit_file&actor=a%40b.c&since=24h");
        assert_eq!(f.query(), "type=edit_file&actor=a%40b.c");
        let mut taken = f.clone();
        assert_eq!(taken.take("type").as_deref(), Some("edit_file"));
        assert_eq!(
            (taken.take("type"), taken.href()),
            (None, "/?actor=a%40b.c".into())
        );
        let (f, _) = Filters::parse(Some("since=all")).unwrap();
        assert_eq!((f.window(), f.api_query().as_str()), ("all", "since=all"));
    }

    #[test]
    fn a_cursor_from_elsewhere_is_refused() {
        assert!(Filters::parse(Some("cursor=bogus")).is_err());
        let ours = cursor::encode("events", &41u64);
        let (_, before) = Filters::parse(Some(&format!("cursor={ours}"))).unwrap();
        assert_eq!(before, Some(41));
    }
}
