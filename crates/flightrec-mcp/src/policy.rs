//! The recording proxy's policy: which tool calls go through.
//!
//! ```toml
//! [[rule]]
//! tool = "move_*"        # `*` any run of characters, `?` one character
//! action = "deny"        # allow | deny | dry_run
//! reason = "moves need a human"
//! ```
//!
//! Rules are tried in order and the first whose pattern matches the whole
//! tool name decides; a tool no rule names, or no policy at all, is
//! allowed.

use serde::Deserialize;

/// What happens to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Forwarded to the server.
    Allow,
    /// Refused: the client gets an MCP error result.
    Deny,
    /// Not forwarded: the client is told it was a dry run.
    DryRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A pattern for the tool's name.
    pub tool: String,
    pub action: Action,
    /// Said to the client and recorded with the call.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The rules, in the order they are tried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// The verdict on one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    pub action: Action,
    /// The rule that decided; `None` when none matched.
    pub rule: Option<&'a Rule>,
}

impl Decision<'_> {
    /// `": <the rule's reason>"`, or nothing, to end a sentence about it.
    pub fn reason_clause(&self) -> String {
        self.rule
            .and_then(|r| r.reason.as_deref())
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, or not the policy's shape; the message says where.
    #[error("the policy is not valid: {0}")]
    Invalid(String),
}

impl Policy {
    /// Reads a policy file's text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            toml::from_str(text).map_err(|e| PolicyError::Invalid(e.to_string().trim().into()))?;
        if let Some((i, _)) = policy
            .rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.tool.is_empty())
        {
            return Err(PolicyError::Invalid(format!(
                "rule {} has an empty `tool` pattern (use \"*\" for every tool)",
                i + 1
            )));
        }
        Ok(policy)
    }

    /// What to do with a call of `tool`.
    pub fn decide(&self, tool: &str) -> Decision<'_> {
        match self.rules.iter().find(|r| glob(&r.tool, tool)) {
            Some(rule) => Decision {
                action: rule.action,
                rule: Some(rule),
            },
            None => Decision {
                action: Action::Allow,
                rule: None,
            },
        }
    }
}

/// Whether `name` matches `pattern` as a whole: `*` stands for any run of
/// characters (none included), `?` for exactly one.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // The classic two-pointer walk, backtracking to the last star.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[rule]]
tool = "move_*"
action = "deny"
reason = "moves need a human"

[[rule]]
tool = "write_*"
action = "dry_run"
"#;

    #[test]
    fn the_first_matching_rule_decides() {
        let policy = Policy::parse(EXAMPLE).unwrap();
        let deny = policy.decide("move_file");
        assert_eq!(deny.action, Action::Deny);
        assert_eq!(
            deny.rule.and_then(|r| r.reason.as_deref()),
            Some("moves need a human")
        );
        assert_eq!(policy.decide("write_file").action, Action::DryRun);
        let read = policy.decide("read_file");
        assert_eq!((read.action, read.rule), (Action::Allow, None));
        assert_eq!(Policy::default().decide("anything").action, Action::Allow);
    }

    #[test]
    fn patterns_match_whole_names() {
        for (pattern, name, matches) in [
            ("*", "", true),
            ("*", "read_file", true),
            ("read_*", "read_file", true),
            ("read_*", "read_", true),
            ("read_*", "xread_file", false),
            ("*_file", "write_file", true),
            ("*_file", "write_files", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "abcbc", true),
            ("a*b*c", "acb", false),
            ("file?", "file1", true),
            ("file?", "file", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("ü*", "über", true),
        ] {
            assert_eq!(glob(pattern, name), matches, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = Policy::parse("[[rule]]\ntool = \"x\"\naction = \"block\"\n").unwrap_err();
        assert!(unknown.to_string().contains("block"), "{unknown}");
        let missing = Policy::parse("[[rule]]\naction = \"deny\"\n").unwrap_err();
        assert!(missing.to_string().contains("tool"), "{missing}");
        let extra =
            Policy::parse("[[rule]]\ntool = \"x\"\naction = \"deny\"\nwhen = 1\n").unwrap_err();
        assert!(extra.to_string().contains("when"), "{extra}");
        let empty = Policy::parse("[[rule]]\ntool = \"\"\naction = \"deny\"\n").unwrap_err();
        assert!(empty.to_string().contains("rule 1"), "{empty}");
        assert_eq!(Policy::parse("").unwrap(), Policy::default());
    }
}
