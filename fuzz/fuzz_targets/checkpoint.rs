//! Checkpoints, signed notes, cosignatures and key strings
//! (`flightrec_core::log`): what a verifier reads from a server or a file.
//!
//! Properties, for any text:
//! - a checkpoint that parses is exactly the text it was parsed from, and
//!   its text parses back to it;
//! - a note that opens with the log's key is the text before its
//!   signatures, and a checkpoint that opens names the origin asked for;
//! - `verify_cosignatures` only reports the one witness it was given;
//! - a verifier or private key string that parses writes itself back the
//!   same (but for trailing line ends).
//!
//! And the text's lines, as origin and extension lines of a new checkpoint:
//! when that checkpoint can be made, signing and cosigning it then opening
//! and verifying the note gives it back.
#![no_main]

use flightrec_core::log::{
    Checkpoint, CosignatureSigner, CosignatureVerifier, Signer, Verifier, cosign, leaf_hash, open,
    open_checkpoint, sign_checkpoint, verify_cosignatures,
};
use flightrec_fuzz::{ORIGIN, WITNESS, log_signer, log_verifier, witness_signer, witness_verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let log = log_verifier();
    let witness = witness_verifier();

    if let Ok(checkpoint) = Checkpoint::parse(&text) {
        assert_eq!(checkpoint.to_text(), text, "parse is not strict");
        assert_eq!(Checkpoint::parse(&checkpoint.to_text()), Ok(checkpoint));
    }

    if let Ok(opened) = open(&text, std::slice::from_ref(&log)) {
        assert!(text.starts_with(&opened), "opened text is not the note's");
    }
    if let Ok(checkpoint) = open_checkpoint(&text, ORIGIN, std::slice::from_ref(&log)) {
        assert_eq!(checkpoint.origin(), ORIGIN);
    }
    if let Ok(cosignatures) = verify_cosignatures(&text, std::slice::from_ref(&witness)) {
        assert!(cosignatures.len() <= 1, "{cosignatures:?}");
        assert!(cosignatures.iter().all(|c| c.name == WITNESS));
    }

    let key_text = text.trim_end_matches(['\n', '\r']);
    if let Ok(v) = Verifier::parse(&text) {
        assert_eq!(v.to_key_string(), key_text);
        assert_eq!(Verifier::parse(&v.to_key_string()), Ok(v));
    }
    if let Ok(v) = CosignatureVerifier::parse(&text) {
        assert_eq!(v.to_key_string(), key_text);
        assert_eq!(CosignatureVerifier::parse(&v.to_key_string()), Ok(v));
    }
    if let Ok(s) = Signer::parse_private_key(&text) {
        let again = Signer::parse_private_key(&s.to_private_key_string()).unwrap();
        assert!(again.verifier() == s.verifier());
    }
    if let Ok(s) = CosignatureSigner::parse_private_key(&text) {
        let again = CosignatureSigner::parse_private_key(&s.to_private_key_string()).unwrap();
        assert!(again.verifier() == s.verifier());
    }

    sign_and_open(&text, data);
});

/// Makes a checkpoint of the text's lines, signs and cosigns it, and checks
/// that it opens and verifies as itself.
fn sign_and_open(text: &str, data: &[u8]) {
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    let extensions: Vec<String> = lines.map(str::to_owned).collect();
    let size = data.len() as u64 * 0x1_0000_0001;
    let Ok(checkpoint) =
        Checkpoint::new(origin, size, leaf_hash(data)).and_then(|c| c.with_extensions(extensions))
    else {
        return;
    };
    let signer = log_signer();
    let note = sign_checkpoint(&checkpoint, &signer).expect("a checkpoint signs");
    let opened = open_checkpoint(&note, origin, &[signer.verifier()]).expect("it opens");
    assert_eq!(opened, checkpoint);

    let time = u64::from(data.first().copied().unwrap_or(0)) << 40;
    let line = cosign(&checkpoint.to_text(), &witness_signer(), time).expect("it cosigns");
    let cosigned = format!("{note}{line}");
    let opened = open_checkpoint(&cosigned, origin, &[signer.verifier()]).expect("it opens");
    assert_eq!(opened, checkpoint);
    let found = verify_cosignatures(&cosigned, &[witness_verifier()]).expect("it verifies");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].timestamp, time);
}
