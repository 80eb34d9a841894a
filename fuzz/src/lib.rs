//! What the fuzz targets and the seed-corpus generator share: the keys that
//! sign the seed checkpoints and proof files, so a seed opens with the
//! targets' verifiers and mutants of it reach the signature checks.
//!
//! Not for anything but fuzzing: the keys are fixed seeds, public here.

use chrono::{DateTime, TimeZone, Utc};
use flightrec_core::log::{CosignatureSigner, CosignatureVerifier, Signer, Verifier};

/// The log's origin, shaped like a real deployment's (`<host>/<tenant>`).
pub const ORIGIN: &str = "flightrec.local/default";
/// The witness that cosigns the seed checkpoints.
pub const WITNESS: &str = "witness.example/w1";

pub fn log_signer() -> Signer {
    Signer::from_seed(ORIGIN, [1; 32]).expect("a valid key name")
}

pub fn log_verifier() -> Verifier {
    log_signer().verifier()
}

pub fn witness_signer() -> CosignatureSigner {
    CosignatureSigner::from_seed(WITNESS, [2; 32]).expect("a valid key name")
}

pub fn witness_verifier() -> CosignatureVerifier {
    witness_signer().verifier()
}

/// The server clock the event target parses with.
pub fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

/// Splits fuzz input into `n` strings at 0xFF bytes (which UTF-8 never
/// has), replacing invalid UTF-8, so one byte string drives several string
/// inputs and a text seed is still readable.
pub fn split_strings(data: &[u8], n: usize) -> Vec<String> {
    let mut parts: Vec<String> = data
        .splitn(n, |b| *b == 0xFF)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    parts.resize(n, String::new());
    parts
}
