//! Checks that tell a real identifier from a string of the same shape:
//! check digits where the format has them, reserved ranges where it does
//! not. A rule's match counts only if its validator accepts it.

/// The validators a rule may name.
pub const NAMES: &[&str] = &[
    "luhn",
    "payment_card",
    "iban",
    "us_ssn",
    "uk_nino",
    "date",
    "phone",
    "has_digit",
];

/// Runs the named validator; `None` for an unknown name.
pub fn check(name: &str, text: &str) -> Option<bool> {
    Some(match name {
        "luhn" => luhn(text),
        "payment_card" => payment_card(text),
        "iban" => iban(text),
        "us_ssn" => us_ssn(text),
        "uk_nino" => uk_nino(text),
        "date" => date(text),
        "phone" => phone(text),
        "has_digit" => text.chars().any(|c| digit_value(c).is_some()),
        _ => return None,
    })
}

/// A decimal digit's value: ASCII or full-width (`０`–`９`, as CJK input
/// methods type them). Other scripts' digits are not read as numbers.
pub fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(digit_value).collect()
}

/// The digits of `text` as an ASCII string.
fn digit_string(text: &str) -> String {
    text.chars()
        .filter_map(digit_value)
        .filter_map(|d| char::from_digit(d, 10))
        .collect()
}

/// `text` with full-width digits written as ASCII ones.
fn ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match digit_value(c) {
            Some(d) => char::from_digit(d, 10).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// The Luhn (mod 10) check over every digit.
pub fn luhn(text: &str) -> bool {
    let d = digits(text);
    !d.is_empty() && luhn_digits(&d)
}

fn luhn_digits(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| match (i % 2, x * 2) {
            (1, y) if y > 9 => y - 9,
            (1, y) => y,
            _ => x,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number: 13 to 19 digits, an issuer prefix that card
/// networks use, and a valid Luhn check digit.
pub fn payment_card(text: &str) -> bool {
    payment_card_digits(&digits(text))
}

/// [`payment_card`] over the number's digits.
pub fn payment_card_digits(d: &[u32]) -> bool {
    if !(13..=19).contains(&d.len()) {
        return false;
    }
    let p = |n: usize| d[..n].iter().fold(0, |acc, x| acc * 10 + x);
    let issued = d[0] == 4                      // Visa
        || (51..=55).contains(&p(2))            // Mastercard
        || (2221..=2720).contains(&p(4))        // Mastercard 2-series
        || (2200..=2204).contains(&p(4))        // Mir
        || matches!(p(2), 34 | 37)              // American Express
        || matches!(p(2), 36 | 38 | 30)         // Diners Club
        || p(2) == 35 || matches!(p(4), 1800 | 2131) // JCB
        || p(2) == 50 || (56..=69).contains(&p(2)); // Maestro, Discover, UnionPay, RuPay
    issued && luhn_digits(d)
}

/// An IBAN, by the SWIFT registry: its country's length and BBAN format,
/// and the ISO 7064 mod-97 check. Spaces may stand anywhere.
pub fn iban(text: &str) -> bool {
    let electronic: String = ascii_digits(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    electronic.parse::<iban::Iban>().is_ok()
}

/// A US social security number: no area 000, 666 or 900–999, no group 00,
/// no serial 0000.
pub fn us_ssn(text: &str) -> bool {
    let d = digit_string(text);
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// A UK national insurance number: prefixes HMRC never issues are refused.
pub fn uk_nino(text: &str) -> bool {
    let s: String = ascii_digits(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if s.len() != 9 {
        return false;
    }
    let prefix = &s[..2];
    !matches!(prefix, "BG" | "GB" | "KN" | "NK" | "NT" | "TN" | "ZZ")
}

/// A calendar date (`YYYY-MM-DD`, `MM/DD/YYYY` or `DD.MM.YYYY`) that exists
/// and falls in a lifetime: 1900 to 2100.
pub fn date(text: &str) -> bool {
    let text = &ascii_digits(text);
    let parts: Vec<u32> = text
        .split(['-', '/', '.'])
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let [a, b, c] = parts[..] else { return false };
    let (y, m, d) = if text.contains('-') {
        (a, b, c)
    } else if text.contains('/') {
        (c, a, b)
    } else {
        (c, b, a)
    };
    (1900..=2100).contains(&y) && chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
}

/// A phone number has 10 to 15 digits (E.164 allows at most 15).
pub fn phone(text: &str) -> bool {
    (10..=15).contains(&digits(text).len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_from_published_examples() {
        // Test card numbers the networks publish.
        assert!(payment_card("4111 1111 1111 1111"));
        assert!(payment_card("5500-0000-0000-0004"));
        assert!(payment_card("340000000000009"));
        assert!(!payment_card("4111 1111 1111 1112"), "bad check digit");
        assert!(
            !payment_card("1234 5678 9012 3452"),
            "no issuer starts with 1"
        );
        // IBAN examples from the ISO 13616 registry.
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("DE8937040044053201300"), "one digit short");
        assert!(us_ssn("123-45-6789"));
        assert!(!us_ssn("666-45-6789") && !us_ssn("900-12-3456") && !us_ssn("123-00-6789"));
        assert!(uk_nino("AB 12 34 56 C") && !uk_nino("GB123456C"));
        assert!(date("1984-02-29") && !date("1985-02-29") && date("07/04/1976"));
        assert!(phone("+44 20 7946 0958") && !phone("555-0199"));
        assert_eq!(check("nope", "x"), None);
    }
}
