//! Finding valid numbers inside longer runs. A pattern cannot tell where a
//! card number ends and its CVV begins, or an IBAN and the currency after
//! it: the regex matches the whole run, and these functions pick out the
//! parts that pass their checks.

use super::validators;
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// The digits a card number has.
const CARD_DIGITS: Range<usize> = 13..20;
/// A card number written in groups has groups of 3 to 8 digits (4-4-4-4,
/// 4-6-5, 4-6-4); a list of short numbers is not a card number.
const CARD_GROUP_DIGITS: Range<usize> = 3..9;
/// The characters an IBAN has, at least (Norway) and at most (ISO 13616).
const IBAN_CHARS: Range<usize> = 15..35;

/// Card numbers in a run of digit groups (`4111 1111 1111 1111 123`).
/// Each is a whole number of groups: from each group, the longest span
/// that passes the card check. An unbroken number is a card number only
/// whole. A run that continues an IBAN is part of that IBAN.
pub fn cards_within(text: &str, run: Range<usize>) -> Vec<Range<usize>> {
    if continues_iban(text, run.start) {
        return Vec::new();
    }
    // Every digit of the run, and each group as its span of `digits`.
    let mut digits: Vec<u32> = Vec::new();
    let groups: Vec<(Range<usize>, Range<usize>)> = digit_groups(text, run)
        .into_iter()
        .map(|g| {
            let first = digits.len();
            digits.extend(text[g.clone()].chars().filter_map(validators::digit_value));
            (g, first..digits.len())
        })
        .collect();
    let could_be_card = |groups: &[(Range<usize>, Range<usize>)]| match groups {
        [(_, d)] => CARD_DIGITS.contains(&d.len()),
        _ => groups
            .iter()
            .all(|(_, d)| CARD_GROUP_DIGITS.contains(&d.len())),
    };
    let mut found = Vec::new();
    let mut first = 0;
    while first < groups.len() {
        // A card has at most 19 digits, so only a few groups onwards.
        let last_possible = (first..groups.len())
            .take_while(|&last| groups[last].1.end - groups[first].1.start < CARD_DIGITS.end)
            .last()
            .unwrap_or(first);
        let longest_valid = (first..=last_possible).rev().find(|&last| {
            could_be_card(&groups[first..=last])
                && validators::payment_card_digits(
                    &digits[groups[first].1.start..groups[last].1.end],
                )
        });
        match longest_valid {
            Some(last) => {
                found.push(groups[first].0.start..groups[last].0.end);
                first = last + 1;
            }
            None => first += 1,
        }
    }
    found
}

/// IBANs in a run that starts with a country code and check digits and
/// goes on over every alphanumeric group after it (`DE89 3704 0044 0532
/// 0130 00 EUR`). From each place a country code could start, the
/// longest prefix the registry accepts (its country's length, its BBAN
/// format, the mod-97 check) is the IBAN.
pub fn ibans_within(text: &str, run: Range<usize>) -> Vec<Range<usize>> {
    let run_text = &text[run.clone()];
    let mut found = Vec::new();
    let mut word = 0;
    while word < run_text.len() {
        if let Some(end) = iban_at(run_text, word) {
            found.push(run.start + word..run.start + end);
            word = end;
        }
        match run_text[word..].find(' ') {
            Some(space) => word += space + 1,
            None => break,
        }
    }
    found
}

/// The end of the longest IBAN that starts at `start`, if one does.
fn iban_at(run_text: &str, start: usize) -> Option<usize> {
    // (byte end, check value) of each character that is not a space.
    let mut chars = run_text[start..]
        .char_indices()
        .filter(|(_, c)| *c != ' ')
        .map(|(i, c)| (start + i + c.len_utf8(), iban_value(c)));
    let mut head = [0; 4];
    for (n, slot) in head.iter_mut().enumerate() {
        let value = chars.next()?.1?;
        let is_letter = value >= 10;
        if is_letter != (n < 2) {
            return None;
        }
        *slot = value;
    }
    // The check reads the characters after the head, then the head: carried
    // along, so each length costs one step.
    let mut remainder = 0;
    let mut longest = None;
    for (n, (end, value)) in chars.take(IBAN_CHARS.end - 5).enumerate() {
        let Some(value) = value else { break };
        remainder = mod97_push(remainder, value);
        let length = n + 5;
        let ends_a_group = end == run_text.len() || run_text[end..].starts_with(' ');
        if length >= IBAN_CHARS.start
            && ends_a_group
            && head.iter().fold(remainder, |r, &v| mod97_push(r, v)) == 1
            && validators::iban(&run_text[start..end])
        {
            longest = Some(end);
        }
    }
    longest
}

/// A character's value in the IBAN check: digits (ASCII or full-width)
/// 0–9, capital letters 10–35.
fn iban_value(c: char) -> Option<u32> {
    validators::digit_value(c).or_else(|| c.is_ascii_uppercase().then(|| c.to_digit(36)).flatten())
}

/// `remainder` with one more character appended, mod 97.
fn mod97_push(remainder: u32, value: u32) -> u32 {
    if value >= 10 {
        (remainder * 100 + value) % 97
    } else {
        (remainder * 10 + value) % 97
    }
}

/// The run, unless it is part of a longer dotted number: in `1.2.3.4.5`
/// (a version, an OID) there is no address, and in `14.115.231.1454` no
/// phone number.
pub fn standalone_dotted(text: &str, run: Range<usize>) -> Vec<Range<usize>> {
    let glued_before = text[..run.start]
        .strip_suffix('.')
        .is_some_and(|before| before.ends_with(|c: char| c.is_ascii_digit()));
    let glued_after = text[run.end..]
        .strip_prefix('.')
        .is_some_and(|after| after.starts_with(|c: char| c.is_ascii_digit()));
    if glued_before || glued_after {
        Vec::new()
    } else {
        vec![run]
    }
}

/// Whether the digits at `at` follow an IBAN's country code and check
/// digits (`DE89 3704 …`): a card check there would read a bank account.
fn continues_iban(text: &str, at: usize) -> bool {
    static IBAN_HEAD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b[A-Z]{2}[0-9０-９]{2}(?: ?[A-Z0-9０-９]{1,4})*? ?$")
            .expect("a valid pattern")
    });
    // An IBAN is at most 34 characters and 8 spaces long.
    let mut from = at.saturating_sub(48);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    IBAN_HEAD.is_match(&text[from..at])
}

/// The maximal digit sequences of `run`, in order.
fn digit_groups(text: &str, run: Range<usize>) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in text[run.clone()].char_indices() {
        let i = run.start + i;
        match (validators::digit_value(c).is_some(), open) {
            (true, None) => open = Some(i),
            (false, Some(start)) => {
                groups.push(start..i);
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        groups.push(start..run.end);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(f: fn(&str, Range<usize>) -> Vec<Range<usize>>, text: &str) -> Vec<&str> {
        f(text, 0..text.len())
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn a_card_number_followed_by_its_cvv_is_found_without_it() {
        assert_eq!(
            found(cards_within, "4111 1111 1111 1111 123"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            found(cards_within, "4111111111111111 123"),
            ["4111111111111111"]
        );
    }

    #[test]
    fn a_long_unbroken_number_holds_no_card_number() {
        assert!(found(cards_within, "41111111111111111234").is_empty());
    }

    #[test]
    fn a_card_inside_an_iban_is_not_a_card() {
        let text = "DE89 3704 0044 0532 0130 01";
        let run = text.find("3704").unwrap()..text.len();
        assert!(cards_within(text, run).is_empty());
    }

    #[test]
    fn an_iban_followed_by_an_uppercase_word_is_found_without_it() {
        assert_eq!(
            found(ibans_within, "DE89 3704 0044 0532 0130 00 EUR"),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(
            found(
                ibans_within,
                "GB82WEST12345698765432 GB82 WEST 1234 5698 7654 32"
            ),
            ["GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32"]
        );
        assert!(found(ibans_within, "DE89 3704 0044 0532 0130 01 EUR").is_empty());
    }
}
