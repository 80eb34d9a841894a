//! The credential formats masked inside text, chosen from what widely used
//! secret scanners look for. Each pattern is anchored on something a
//! harmless string does not have (a vendor prefix, a fixed shape, or a
//! `name=` in front), so a UUID, a git SHA or a base64 image passes.

use regex::{Regex, RegexSet};
use std::sync::LazyLock;

/// One credential format: the `kind` that names it in `[MASKED:<kind>]`
/// and `redactions`, and the capture group that is the secret itself (0
/// for the whole match), so the text around it survives.
pub struct Detector {
    pub kind: &'static str,
    pub regex: Regex,
    pub group: usize,
}

/// (kind, pattern, group). Earlier entries win where matches overlap.
const PATTERNS: &[(&str, &str, usize)] = &[
    (
        "private_key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        0,
    ),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        0,
    ),
    (
        "aws_access_key",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
        0,
    ),
    (
        "aws_secret_key",
        r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})"#,
        1,
    ),
    (
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        0,
    ),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}", 0),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
        0,
    ),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", 0),
    (
        "openai_key",
        r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{32,}\b)",
        0,
    ),
    (
        "stripe_key",
        r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
        0,
    ),
    ("webhook_secret", r"\bwhsec_[A-Za-z0-9+/=]{16,}", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0),
    ("google_oauth_secret", r"\bGOCSPX-[A-Za-z0-9_-]{20,}", 0),
    (
        "sendgrid_key",
        r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}\b",
        0,
    ),
    ("twilio_key", r"\bSK[0-9a-f]{32}\b", 0),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", 0),
    ("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", 0),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b", 0),
    ("telegram_bot_token", r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b", 0),
    ("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}\b", 0),
    (
        "shopify_token",
        r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        0,
    ),
    ("azure_storage_key", r"AccountKey=([A-Za-z0-9+/]{86}==)", 1),
    ("flightrec_key", r"\bfr_[A-Za-z0-9]{40}\b", 0),
    (
        "url_password",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@",
        1,
    ),
    (
        "authorization",
        r#"(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate)\s+)?([^\s"',;]{8,})"#,
        1,
    ),
    (
        "bearer_token",
        r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)",
        1,
    ),
    (
        "cookie",
        r#"(?i)\b(?:set-)?cookie["']?\s*:\s*["']?([^\r\n"']{4,})"#,
        1,
    ),
    (
        "password",
        r#"(?i)(?:^|[\s"'{,;&?(-])(?:password|passwd|pwd|passphrase|secret|client_secret|api_?key|access_?token|auth_?token|refresh_?token|token)["']?\s*[=:]\s*["']?([^\s"'&,;{}()]{6,})"#,
        1,
    ),
];

/// Word boundaries are ASCII ones: faster, and every format above is ASCII.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

pub static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .map(|(kind, pattern, group)| Detector {
            kind,
            regex: Regex::new(&ascii_boundaries(pattern)).expect("a valid detector pattern"),
            group: *group,
        })
        .collect()
});

/// All patterns at once, to find in one pass which (if any) to run.
pub static ANY: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(PATTERNS.iter().map(|(_, p, _)| ascii_boundaries(p)))
        .expect("valid detector patterns")
});

/// The kinds of credential the detectors know, for documentation and tests.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    PATTERNS.iter().map(|(kind, _, _)| *kind)
}
