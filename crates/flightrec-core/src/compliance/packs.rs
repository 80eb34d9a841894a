//! The rule packs a tenant can install or clone into a policy: `hipaa`,
//! `gdpr` and `finance`, each a set of built-in detectors with a severity
//! and an action chosen for that regime.

use super::{Action, Rule, Severity};

pub struct Pack {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// (detector, severity, action, rule name).
    rules: &'static [(&'static str, Severity, Action, &'static str)],
}

use Action::{Alert, AlertAndRedact};
use Severity::{Critical, High, Low, Medium};

pub const PACKS: &[Pack] = &[
    Pack {
        id: "hipaa",
        name: "HIPAA",
        description: "US health data: the Safe Harbor identifiers an agent is most likely to handle",
        rules: &[
            ("us_ssn", High, AlertAndRedact, "Social security number"),
            (
                "medical_record_number",
                High,
                AlertAndRedact,
                "Medical record number",
            ),
            ("date_of_birth", Medium, Alert, "Date of birth"),
            ("phone", Low, Alert, "Phone number"),
            ("email", Low, Alert, "Email address"),
        ],
    },
    Pack {
        id: "gdpr",
        name: "GDPR",
        description: "EU personal data: contact details, online identifiers, national and bank identifiers",
        rules: &[
            ("email", Medium, Alert, "Email address"),
            ("phone", Medium, Alert, "Phone number"),
            ("ip_address", Low, Alert, "IP address"),
            ("date_of_birth", Medium, Alert, "Date of birth"),
            ("iban", High, AlertAndRedact, "Bank account (IBAN)"),
            ("uk_nino", High, AlertAndRedact, "National insurance number"),
            ("us_passport", High, Alert, "Passport number"),
        ],
    },
    Pack {
        id: "finance",
        name: "Finance (PCI DSS)",
        description: "Cardholder data and bank identifiers",
        rules: &[
            (
                "credit_card",
                Critical,
                AlertAndRedact,
                "Payment card number",
            ),
            ("iban", High, Alert, "Bank account (IBAN)"),
            ("us_ssn", High, AlertAndRedact, "Social security number"),
        ],
    },
];

pub fn pack(id: &str) -> Option<&'static Pack> {
    PACKS.iter().find(|p| p.id == id)
}

impl Pack {
    /// The pack's rules, with ids `<pack>.<detector>`, so installing a pack
    /// twice finds its rules already there.
    pub fn rules(&self) -> Vec<Rule> {
        self.rules
            .iter()
            .map(|&(detector, severity, action, name)| {
                let builtin = super::detectors::builtin(detector).expect("packs use builtins");
                Rule {
                    id: format!("{}.{detector}", self.id),
                    name: format!("{} ({})", name, self.name),
                    description: builtin.description.to_owned(),
                    severity,
                    fields: Vec::new(),
                    detector: detector.to_owned(),
                    pattern: None,
                    validator: None,
                    action,
                }
            })
            .collect()
    }
}

/// The ids of every pack, for error messages.
pub fn pack_ids() -> String {
    PACKS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}
