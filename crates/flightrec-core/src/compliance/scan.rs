//! Running a set of rules over an event: every string of the fields the
//! rules read is tried against all their patterns at once, matches are
//! validated, redacting rules rewrite the text, and each rule that fired
//! reports where, with an excerpt that never shows what it found.

use super::{Find, Rule, builtin, compile_pattern, validators};
use crate::event::{CONTENT_FIELDS, Event, Redaction, TEXT_FIELDS};
use regex::{Regex, RegexSet};
use std::collections::BTreeMap;

/// Characters of context either side of a finding in its excerpt.
const EXCERPT_CONTEXT: usize = 32;

/// Where a rule came from: the tenant's own rules, or a version of a
/// policy attached to the event's agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub policy_id: Option<String>,
    pub policy_version: Option<u32>,
}

/// One rule firing on one field of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Index into the [`RuleSet`].
    pub rule: usize,
    /// The field's path, e.g. `input.patient.ssn`.
    pub path: String,
    /// The text around the first match, every match replaced by
    /// `[<detector>]`.
    pub excerpt: String,
    /// How many times the rule matched in this field.
    pub matches: usize,
}

struct Compiled {
    rule: Rule,
    origin: Origin,
    regex: Regex,
    group: usize,
    find: Find,
    /// The check each value must pass: the rule's own, else its
    /// detector's.
    validator: Option<String>,
    /// The top-level fields it reads.
    fields: Vec<&'static str>,
}

/// Rules compiled for screening events.
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<Compiled>,
    /// Every rule's pattern, to find the few that can match a string in
    /// one pass.
    any: Option<RegexSet>,
    /// The union of the rules' fields.
    fields: Vec<&'static str>,
}

impl RuleSet {
    /// Compiles rules; the first unsound one is refused with its problems.
    pub fn compile(rules: Vec<(Rule, Origin)>) -> Result<RuleSet, String> {
        let mut compiled = Vec::with_capacity(rules.len());
        for (rule, origin) in rules {
            let problems = rule.problems();
            if !problems.is_empty() {
                return Err(format!("rule {:?}: {}", rule.id, problems.join("; ")));
            }
            let (regex, group, find, default_validator) = match builtin(&rule.detector) {
                Some(b) => (
                    Regex::new(&b.regex_source()).expect("built-in patterns compile"),
                    b.group,
                    b.find,
                    b.validator,
                ),
                None => {
                    let pattern = rule.pattern.as_deref().unwrap_or_default();
                    (compile_pattern(pattern)?, 0, Find::Whole, None)
                }
            };
            let fields: Vec<&'static str> = if rule.fields.iter().any(|f| f == "*") {
                TEXT_FIELDS.to_vec()
            } else if rule.fields.is_empty() {
                CONTENT_FIELDS.to_vec()
            } else {
                TEXT_FIELDS
                    .iter()
                    .copied()
                    .filter(|f| rule.fields.iter().any(|r| r == f))
                    .collect()
            };
            let validator = rule
                .validator
                .clone()
                .or(default_validator.map(str::to_owned));
            compiled.push(Compiled {
                rule,
                origin,
                regex,
                group,
                find,
                validator,
                fields,
            });
        }
        let any = if compiled.is_empty() {
            None
        } else {
            Some(
                RegexSet::new(compiled.iter().map(|c| c.regex.as_str()))
                    .map_err(|e| format!("the rules do not compile together: {e}"))?,
            )
        };
        let fields = TEXT_FIELDS
            .iter()
            .copied()
            .filter(|f| compiled.iter().any(|c| c.fields.contains(f)))
            .collect();
        Ok(RuleSet {
            rules: compiled,
            any,
            fields,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn rule(&self, i: usize) -> (&Rule, &Origin) {
        let c = &self.rules[i];
        (&c.rule, &c.origin)
    }

    /// Screens `event`: redacts what redacting rules found (noting each in
    /// `redactions`) and returns what every rule found, in field order.
    pub fn screen(&self, event: &mut Event) -> Vec<Finding> {
        let Some(any) = &self.any else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        let mut redactions = Vec::new();
        event
            .body
            .visit_strings_mut(&self.fields, &mut |path, text| {
                let top = path.split(['.', '[']).next().unwrap_or(path);
                let spans = self.spans(any, text, Some(top));
                if spans.is_empty() {
                    return;
                }
                let mut per_rule: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
                for &(start, _, i) in &spans {
                    per_rule.entry(i).or_insert((start, 0)).1 += 1;
                }
                for (&i, &(first, matches)) in &per_rule {
                    if self.rules[i].rule.action.alerts() {
                        findings.push(Finding {
                            rule: i,
                            path: path.to_owned(),
                            excerpt: self.excerpt(text, first, &spans),
                            matches,
                        });
                    }
                }
                let redacting: Vec<(usize, usize, usize)> = spans
                    .iter()
                    .copied()
                    .filter(|&(_, _, i)| self.rules[i].rule.action.redacts())
                    .collect();
                if !redacting.is_empty() {
                    let (redacted, kinds) = self.replace(text, &redacting, "REDACTED:");
                    *text = redacted;
                    for kind in kinds {
                        redactions.push(Redaction {
                            path: path.to_owned(),
                            kind,
                        });
                    }
                }
            });
        if !redactions.is_empty() {
            event.body.redactions.extend(redactions);
            event.canonicalise();
        }
        findings
    }

    /// What the rules find in `text`, whatever fields they read: (start,
    /// end, rule index) of every value, sorted.
    pub fn find(&self, text: &str) -> Vec<(usize, usize, usize)> {
        match &self.any {
            Some(any) => self.spans(any, text, None),
            None => Vec::new(),
        }
    }

    /// (start, end, rule) of every validated value the rules that read
    /// `field` (all rules when `None`) find in `text`, sorted.
    fn spans(&self, any: &RegexSet, text: &str, field: Option<&str>) -> Vec<(usize, usize, usize)> {
        let mut spans = Vec::new();
        for i in any.matches(text).iter() {
            let c = &self.rules[i];
            if field.is_some_and(|f| !c.fields.contains(&f)) {
                continue;
            }
            let passes = |value: &str| {
                c.validator
                    .as_deref()
                    .is_none_or(|v| validators::check(v, value).unwrap_or(false))
            };
            for caps in c.regex.captures_iter(text) {
                let Some(m) = caps.get(c.group) else { continue };
                let mut keep = |value: std::ops::Range<usize>| {
                    if !value.is_empty() && passes(&text[value.clone()]) {
                        spans.push((value.start, value.end, i));
                    }
                };
                match c.find {
                    Find::Whole => keep(m.range()),
                    Find::Within(within) => within(text, m.range()).into_iter().for_each(keep),
                }
            }
        }
        spans.sort();
        spans
    }

    /// `text` with each span (sorted by start) replaced by
    /// `[<label><detector>]`; overlapping spans merge into the first.
    /// Returns the kinds replaced, without repeats.
    fn replace(
        &self,
        text: &str,
        spans: &[(usize, usize, usize)],
        label: &str,
    ) -> (String, Vec<String>) {
        let mut out = String::with_capacity(text.len());
        let mut kinds: Vec<String> = Vec::new();
        let mut at = 0;
        for &(start, end, i) in spans {
            if end <= at {
                continue;
            }
            let start = start.max(at);
            out.push_str(&text[at..start]);
            let kind = &self.rules[i].rule.detector;
            out.push_str(&format!("[{label}{kind}]"));
            if !kinds.contains(kind) {
                kinds.push(kind.clone());
            }
            at = end;
        }
        out.push_str(&text[at..]);
        (out, kinds)
    }

    /// Up to [`EXCERPT_CONTEXT`] characters either side of the match at
    /// `first`, with every match in that window (and any cut through its
    /// edge) replaced, so no found value shows.
    fn excerpt(&self, text: &str, first: usize, spans: &[(usize, usize, usize)]) -> String {
        let end_of_first = spans
            .iter()
            .filter(|s| s.0 == first)
            .map(|s| s.1)
            .max()
            .unwrap_or(first);
        let mut from = first;
        for _ in 0..EXCERPT_CONTEXT {
            match text[..from].char_indices().next_back() {
                Some((i, _)) => from = i,
                None => break,
            }
        }
        let mut to = end_of_first;
        for _ in 0..EXCERPT_CONTEXT {
            match text[to..].chars().next() {
                Some(c) => to += c.len_utf8(),
                None => break,
            }
        }
        // Widen the window over any match it would cut in half.
        for &(s, e, _) in spans {
            if s < from && e > from {
                from = s;
            }
            if s < to && e > to {
                to = e;
            }
        }
        let inside: Vec<(usize, usize, usize)> = spans
            .iter()
            .filter(|&&(s, e, _)| s >= from && e <= to)
            .map(|&(s, e, i)| (s - from, e - from, i))
            .collect();
        let (body, _) = self.replace(&text[from..to], &inside, "");
        let mut excerpt = String::new();
        if from > 0 {
            excerpt.push('…');
        }
        excerpt.push_str(&body);
        if to < text.len() {
            excerpt.push('…');
        }
        excerpt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::{Action, Severity, packs};
    use crate::event::{Limits, parse_event};
    use serde_json::json;

    fn event(value: serde_json::Value) -> Event {
        parse_event(value, chrono::Utc::now(), &Limits::default(), || {
            "e1".into()
        })
        .unwrap()
    }

    fn pack(id: &str) -> RuleSet {
        let rules = packs::pack(id).unwrap().rules();
        RuleSet::compile(rules.into_iter().map(|r| (r, Origin::default())).collect()).unwrap()
    }

    #[test]
    fn redacts_and_reports_without_the_value() {
        let set = pack("finance");
        let mut e = event(json!({
            "type": "tool_call",
            "input": {"card": "charge 4111 1111 1111 1111 for order 88", "note": "ok"},
            "output": "ssn on file: 123-45-6789",
        }));
        let findings = set.screen(&mut e);
        assert_eq!(findings.len(), 2);
        let card = &findings[0];
        assert_eq!(card.path, "input.card");
        assert_eq!(card.excerpt, "charge [credit_card] for order 88");
        assert!(!card.excerpt.contains("4111"));
        assert_eq!(
            e.body.input.as_ref().unwrap()["card"],
            "charge [REDACTED:credit_card] for order 88"
        );
        assert_eq!(
            e.body.output.as_ref().unwrap(),
            "ssn on file: [REDACTED:us_ssn]"
        );
        assert!(e.canonical_body.contains("[REDACTED:us_ssn]"));
        assert!(!e.canonical_body.contains("6789"));
        assert_eq!(e.body.redactions.len(), 2);
        assert!(!e.body.credential_masked);
    }

    #[test]
    fn look_alikes_with_bad_check_digits_pass() {
        let set = pack("finance");
        let mut e = event(json!({
            "type": "tool_call",
            "content": "card 4111 1111 1111 1112, iban GB82 WEST 1234 5698 7654 33, ssn 666-12-3456",
        }));
        assert_eq!(set.screen(&mut e), vec![]);
    }

    #[test]
    fn custom_rules_read_only_their_fields() {
        let rule = Rule {
            id: "ticket".into(),
            name: "Internal ticket".into(),
            description: String::new(),
            severity: Severity::Low,
            fields: vec!["message".into()],
            detector: "regex".into(),
            pattern: Some(r"\bTCK-\d{4}\b".into()),
            validator: None,
            action: Action::Alert,
        };
        let set = RuleSet::compile(vec![(rule, Origin::default())]).unwrap();
        let mut e = event(json!({"type": "x", "message": "see TCK-1234", "content": "TCK-9999"}));
        let found = set.screen(&mut e);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "message");
        assert_eq!(found[0].excerpt, "see [regex]");
    }

    #[test]
    fn excerpts_are_cut_on_character_boundaries() {
        let set = pack("hipaa");
        let text = format!("{} MRN: 00A12345 {}", "é".repeat(50), "ü".repeat(50));
        let mut e = event(json!({"type": "x", "content": text}));
        let found = set.screen(&mut e);
        assert_eq!(found.len(), 1);
        assert!(found[0].excerpt.starts_with('…') && found[0].excerpt.ends_with('…'));
        assert!(found[0].excerpt.contains("MRN: [medical_record_number]"));
    }
}
