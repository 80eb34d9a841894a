//! The built-in detectors: personal and regulated data a rule can look
//! for by name. Formats with a check digit or reserved ranges come with a
//! validator, so a string that merely looks right does not fire. Numbers
//! may be written in ASCII or full-width digits (what CJK input methods
//! type); `\d` in a pattern stands for either.

use super::spans;
use std::ops::Range;

/// One built-in detector.
pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub pattern: &'static str,
    /// The capture group that is the sensitive value (0: the whole match),
    /// so a label in front (`DOB:`) stays readable.
    pub group: usize,
    /// The check a value must pass (one of [`super::validators::NAMES`]).
    pub validator: Option<&'static str>,
    pub find: Find,
}

/// How a detector's values are found in what its pattern matched.
#[derive(Clone, Copy)]
pub enum Find {
    /// The match (its `group`) is the value, kept if the validator passes.
    Whole,
    /// The match is a run that may hold values, or none, or more than
    /// one: the function picks them out (a card number followed by its
    /// CVV is still found), and each must then pass the validator too.
    Within(fn(text: &str, run: Range<usize>) -> Vec<Range<usize>>),
}

impl Builtin {
    /// The pattern as compiled: `\d` matches ASCII and full-width digits.
    pub fn regex_source(&self) -> String {
        self.pattern.replace(r"\d", "[0-9０-９]")
    }
}

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "us_ssn",
        description: "US social security number (area, group and serial ranges checked)",
        pattern: r"\b(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})\b",
        group: 0,
        validator: Some("us_ssn"),
        find: Find::Whole,
    },
    Builtin {
        name: "credit_card",
        description: "payment card number (issuer prefix and Luhn check digit)",
        // Any run of digit groups long enough to hold one.
        pattern: r"\b\d(?:[ -]?\d){12,}\b",
        group: 0,
        validator: Some("payment_card"),
        find: Find::Within(spans::cards_within),
    },
    Builtin {
        name: "iban",
        description: "international bank account number (SWIFT registry: country length, BBAN format, mod-97 check)",
        // A country code and check digits, then every alphanumeric group
        // that follows: the IBAN is the prefix its country's length says.
        pattern: r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9０-９])+",
        group: 0,
        validator: Some("iban"),
        find: Find::Within(spans::ibans_within),
    },
    Builtin {
        name: "email",
        description: "email address",
        pattern: r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
        group: 0,
        validator: None,
        find: Find::Whole,
    },
    Builtin {
        name: "phone",
        description: "phone number: international (+…) or North American (555) 555-0100 forms",
        pattern: r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]?\d{2,4}){2,4}\b|(?:\(\d{3}\) ?|\b\d{3}[.-])\d{3}[.-]\d{4}\b)",
        group: 0,
        validator: Some("phone"),
        find: Find::Within(spans::standalone_dotted),
    },
    Builtin {
        name: "ip_address",
        description: "IPv4 address",
        pattern: r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b",
        group: 0,
        validator: None,
        find: Find::Within(spans::standalone_dotted),
    },
    Builtin {
        name: "date_of_birth",
        description: "a date labelled as a date of birth (DOB, born on, …)",
        pattern: r"(?i)\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|born(?: on)?)\s*[:=]?\s*(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4})\b",
        group: 1,
        validator: Some("date"),
        find: Find::Whole,
    },
    Builtin {
        name: "medical_record_number",
        description: "a medical record number labelled as such (MRN, medical record no.)",
        pattern: r"(?i)\b(?:mrn|medical record (?:number|no\.?|#))\s*[:#=]?\s*([A-Z0-9][A-Z0-9-]{4,14})\b",
        group: 1,
        validator: Some("has_digit"),
        find: Find::Whole,
    },
    Builtin {
        name: "us_passport",
        description: "a US passport number labelled as a passport number",
        pattern: r"(?i)\bpassport(?:\s+(?:number|no\.?|num|#))?\s*[:#=]?\s*([A-Z]?\d{8,9})\b",
        group: 1,
        validator: None,
        find: Find::Whole,
    },
    Builtin {
        name: "uk_nino",
        description: "UK national insurance number (unissued prefixes refused)",
        pattern: r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        group: 0,
        validator: Some("uk_nino"),
        find: Find::Whole,
    },
];

pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}
