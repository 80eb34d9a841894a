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
        "has_digit" => text.bytes().any(|b| b.is_ascii_digit()),
        _ => return None,
    })
}

fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The Luhn (mod 10) check over every digit.
pub fn luhn(text: &str) -> bool {
    let d = digits(text);
    if d.is_empty() {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number: 13 to 19 digits, an issuer prefix that card
/// networks use, and a valid Luhn check digit.
pub fn payment_card(text: &str) -> bool {
    let d: String = text.chars().filter(char::is_ascii_digit).collect();
    if !(13..=19).contains(&d.len()) || !luhn(&d) {
        return false;
    }
    let p = |n: usize| d[..n].parse::<u32>().unwrap_or(0);
    d.starts_with('4')                          // Visa
        || (51..=55).contains(&p(2))            // Mastercard
        || (2221..=2720).contains(&p(4))        // Mastercard 2-series
        || matches!(p(2), 34 | 37)              // American Express
        || matches!(p(2), 36 | 38 | 30)         // Diners Club
        || p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3)) // Discover
        || (3528..=3589).contains(&p(4))        // JCB
        || p(2) == 62 // UnionPay
}

/// IBAN lengths by country (ISO 13616 registry).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22), ("CY", 28),
    ("CZ", 24), ("DE", 22), ("DK", 18), ("DO", 28), ("EE", 20), ("EG", 29), ("ES", 24),
    ("FI", 18), ("FO", 18), ("FR", 27), ("GB", 22), ("GE", 22), ("GI", 23), ("GL", 18),
    ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23),
    ("IS", 26), ("IT", 27), ("JO", 30), ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32),
    ("LI", 21), ("LT", 20), ("LU", 20), ("LV", 21), ("MC", 27), ("MD", 24), ("ME", 22),
    ("MK", 19), ("MR", 27), ("MT", 31), ("MU", 30), ("NL", 18), ("NO", 15), ("PK", 24),
    ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22), ("SA", 24),
    ("SC", 31), ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27), ("ST", 25), ("SV", 28),
    ("TL", 23), ("TN", 24), ("TR", 26), ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20),
];

/// An IBAN: its country's length and the ISO 7064 mod-97 check.
pub fn iban(text: &str) -> bool {
    let s: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(cc, _)| s.starts_with(cc)) else {
        return false;
    };
    if s.len() != len || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let rearranged = s[4..].chars().chain(s[..4].chars());
    let mut remainder = 0u32;
    for c in rearranged {
        let v = c.to_digit(36).expect("alphanumeric");
        remainder = if v >= 10 {
            (remainder * 100 + v) % 97
        } else {
            (remainder * 10 + v) % 97
        };
    }
    remainder == 1
}

/// A US social security number: no area 000, 666 or 900–999, no group 00,
/// no serial 0000.
pub fn us_ssn(text: &str) -> bool {
    let d: String = text.chars().filter(char::is_ascii_digit).collect();
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// A UK national insurance number: prefixes HMRC never issues are refused.
pub fn uk_nino(text: &str) -> bool {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() != 9 {
        return false;
    }
    let prefix = &s[..2];
    !matches!(prefix, "BG" | "GB" | "KN" | "NK" | "NT" | "TN" | "ZZ")
}

/// A calendar date (`YYYY-MM-DD`, `MM/DD/YYYY` or `DD.MM.YYYY`) that exists
/// and falls in a lifetime: 1900 to 2100.
pub fn date(text: &str) -> bool {
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
