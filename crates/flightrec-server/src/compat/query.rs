//! Translating that API's query strings into the native routes'.

/// Renames the parameters in `renames` (theirs → ours) and keeps every other
/// one as it is, so the native handler still refuses unknown or malformed
/// parameters with its own clear 400.
pub fn rename(raw: Option<&str>, renames: &[(&str, &str)]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| {
            let key = renames
                .iter()
                .find(|(theirs, _)| *theirs == k)
                .map_or_else(|| k.to_string(), |(_, ours)| (*ours).to_owned());
            (key, v.into_owned())
        })
        .collect()
}

/// The value of the first parameter named `name`.
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Back into a query string for the native handler.
pub fn encode(pairs: &[(String, String)]) -> Option<String> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    Some(out.finish()).filter(|q| !q.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_their_parameters_and_keeps_the_others_for_the_native_check() {
        let pairs = rename(
            Some("agentId=a%201&limit=5&colour=red"),
            &[("agentId", "agent_id")],
        );
        assert_eq!(value(&pairs, "agent_id"), Some("a 1"));
        assert_eq!(value(&pairs, "agentId"), None);
        assert_eq!(
            encode(&pairs).as_deref(),
            Some("agent_id=a+1&limit=5&colour=red")
        );
        assert_eq!(encode(&rename(None, &[])), None);
    }
}
