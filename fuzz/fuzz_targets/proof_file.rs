//! C2SP tlog-proof files and inclusion/consistency proofs
//! (`flightrec_core::log`): what `flightrec verify --proof` reads from a
//! file anyone may hand it.
//!
//! Properties, for any text:
//! - a proof file that parses writes back as exactly that text, which
//!   parses to the same value;
//! - verifying it against the seed log's key, origin and witness never
//!   panics, and a file that verifies proves the leaf at its index in the
//!   checkpoint it names;
//! - proof hashes taken from the text, checked as an inclusion or a
//!   consistency proof for sizes taken from it, never panic.
#![no_main]

use flightrec_core::log::{
    ConsistencyProof, Hash, InclusionProof, Leaf, ProofFile, leaf_hash, root_from_inclusion_proof,
    verify_consistency, verify_proof_file,
};
use flightrec_fuzz::{ORIGIN, log_verifier, witness_verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = ProofFile::parse(&text) {
        assert_eq!(file.to_text(), text, "parse is not strict");
        assert_eq!(ProofFile::parse(&file.to_text()).as_ref(), Ok(&file));
        check_verify(&file);
    }
    check_raw_proofs(data);
});

fn check_verify(file: &ProofFile) {
    // The seed files prove the leaves `entry <index>`.
    let entry = format!("entry {}", file.index);
    let log = log_verifier();
    let witnesses = [witness_verifier()];
    for threshold in [0, 1, 2] {
        let leaf = Leaf::Input(entry.as_bytes());
        if let Ok(checkpoint) = verify_proof_file(file, leaf, &log, ORIGIN, &witnesses, threshold) {
            assert!(threshold <= 1, "two witnesses from one");
            assert!(file.index < checkpoint.size());
            let proof = InclusionProof {
                leaf_index: file.index,
                tree_size: checkpoint.size(),
                hashes: file.proof.clone(),
            };
            let root = root_from_inclusion_proof(leaf_hash(entry.as_bytes()), &proof);
            assert_eq!(root, Ok(checkpoint.root()));
        }
        let by_hash = Leaf::Hash(leaf_hash(entry.as_bytes()));
        let _ = verify_proof_file(file, by_hash, &log, ORIGIN, &witnesses, threshold);
    }
}

/// Reads the bytes as two sizes and up to 65 hashes, and checks them as
/// proofs both ways.
fn check_raw_proofs(data: &[u8]) {
    if data.len() < 16 {
        return;
    }
    let (sizes, rest) = data.split_at(16);
    let a = u64::from_le_bytes(sizes[..8].try_into().unwrap());
    let b = u64::from_le_bytes(sizes[8..].try_into().unwrap());
    // Small sizes are where the edge cases are; keep both kinds.
    let (a, b) = if a & 1 == 0 {
        (a >> 1 & 0xFFFF, b & 0xFFFF)
    } else {
        (a, b)
    };
    let hashes: Vec<Hash> = rest
        .chunks_exact(32)
        .take(65)
        .map(|c| Hash::from_slice(c).unwrap())
        .collect();
    let leaf = hashes.first().copied().unwrap_or_default();
    let inclusion = InclusionProof {
        leaf_index: a,
        tree_size: b,
        hashes: hashes.clone(),
    };
    if root_from_inclusion_proof(leaf, &inclusion).is_ok() {
        assert!(a < b);
    }
    let consistency = ConsistencyProof {
        old_size: a,
        new_size: b,
        hashes,
    };
    if verify_consistency(leaf, leaf_hash(data), &consistency).is_ok() {
        assert!(a <= b);
    }
}
