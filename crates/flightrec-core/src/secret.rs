//! A value that must never be printed by accident.

use std::fmt;

/// Wraps a secret (API key, password, token). `Debug` and `Display` print
/// `[redacted]`; the value is reachable only through [`Secret::expose`], so
/// every place that reveals one is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only to hash it, compare it, or show it once
    /// to the person it belongs to.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Secrets arrive in request bodies (a password at sign-in); they are
/// never serialised back out.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("fr_live_supersecret");
        assert_eq!(
            format!("{s} {s:?} {:?}", Some(&s)),
            "[redacted] Secret([redacted]) Some(Secret([redacted]))"
        );
        assert_eq!(s.expose(), "fr_live_supersecret");
    }
}
