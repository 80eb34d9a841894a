//! Generated negative cases: good proofs, checkpoints, signed notes,
//! cosignatures and proof files are mutated one way at a time, and every
//! mutant must be refused. Each mutant is named after its mutation, so a
//! failure says which one got through.

use flightrec_core::log::note::{Signer, Verifier, open};
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, CosignatureSigner, CosignatureVerifier, Hash, InclusionProof,
    Leaf, LogError, MemoryTiles, ProofFile, RightEdge, consistency_proof, cosign, inclusion_proof,
    open_checkpoint, require_cosignatures, sign_checkpoint, verify_consistency,
    verify_cosignatures, verify_inclusion, verify_proof_file,
};

use crate::reference::Reference;

const GARBAGE: Hash = Hash([0xab; 32]);

fn flip(hash: Hash, byte: usize, bit: u8) -> Hash {
    let mut out = hash;
    out.0[byte] ^= 1 << bit;
    out
}

/// (name, leaf hash, proof, trusted root) for every way we break one good proof.
fn inclusion_mutants(
    r: &Reference,
    leaf: Hash,
    good: &InclusionProof,
    root: Hash,
) -> Vec<(String, Hash, InclusionProof, Hash)> {
    let (i, n) = (good.leaf_index, good.tree_size);
    let with = |f: &dyn Fn(&mut InclusionProof)| {
        let mut p = good.clone();
        f(&mut p);
        p
    };
    let mut out: Vec<(String, Hash, InclusionProof, Hash)> = Vec::new();
    for (k, _) in good.hashes.iter().enumerate() {
        for (byte, bit) in [(0, 3), (31, 0), (17, 7)] {
            out.push((
                format!("flip bit {bit} of byte {byte} of hash {k}"),
                leaf,
                with(&|p| p.hashes[k] = flip(p.hashes[k], byte, bit)),
                root,
            ));
        }
    }
    for (name, index) in [
        ("index - 1", i.wrapping_sub(1)),
        ("index + 1", i + 1),
        ("index ^ 2", i ^ 2),
        ("index = size", n),
        ("index = u64::MAX", u64::MAX),
    ] {
        out.push((name.into(), leaf, with(&|p| p.leaf_index = index), root));
    }
    // A wrong size is judged against the true root of that size, as a
    // verifier holding a checkpoint for it would. (With the original root a
    // smaller size can legitimately "verify": e.g. leaf 0's path in a tree
    // of 4 also computes the root of 4 when read as a path in a tree of 3.
    // That proves nothing false, since no checkpoint pairs 3 with that root.)
    for (name, size) in [
        ("size - 1", n - 1),
        ("size + 1", n + 1),
        ("size * 2", n * 2),
        ("size / 2", n / 2),
    ] {
        if size > i && (size as usize) <= r.leaves.len() {
            out.push((
                name.into(),
                leaf,
                with(&|p| p.tree_size = size),
                r.root(size as usize),
            ));
        }
    }
    out.push(("size = 0".into(), leaf, with(&|p| p.tree_size = 0), root));
    out.push((
        "size = u64::MAX".into(),
        leaf,
        with(&|p| p.tree_size = u64::MAX),
        root,
    ));
    out.push(("wrong leaf".into(), flip(leaf, 0, 0), good.clone(), root));
    out.push((
        "empty-tree root".into(),
        leaf,
        good.clone(),
        Hash::EMPTY_TREE,
    ));
    out.push(("random root".into(), leaf, good.clone(), GARBAGE));
    if leaf != root {
        out.push(("leaf as root".into(), leaf, good.clone(), leaf));
    }
    out.push((
        "trailing garbage".into(),
        leaf,
        with(&|p| p.hashes.push(GARBAGE)),
        root,
    ));
    out.push((
        "trailing root".into(),
        leaf,
        with(&|p| p.hashes.push(root)),
        root,
    ));
    out.push((
        "preceding garbage".into(),
        leaf,
        with(&|p| p.hashes.insert(0, GARBAGE)),
        root,
    ));
    out.push((
        "preceding root".into(),
        leaf,
        with(&|p| p.hashes.insert(0, root)),
        root,
    ));
    if !good.hashes.is_empty() {
        out.push((
            "truncated (last hash removed)".into(),
            leaf,
            with(&|p| {
                p.hashes.pop();
            }),
            root,
        ));
        out.push((
            "first hash removed".into(),
            leaf,
            with(&|p| {
                p.hashes.remove(0);
            }),
            root,
        ));
        out.push((
            "all hashes removed".into(),
            leaf,
            with(&|p| p.hashes.clear()),
            root,
        ));
        out.push((
            "last hash duplicated".into(),
            leaf,
            with(&|p| p.hashes.push(*p.hashes.last().unwrap())),
            root,
        ));
    }
    if good.hashes.len() > 1 {
        out.push((
            "inserted component".into(),
            leaf,
            with(&|p| p.hashes.insert(1, GARBAGE)),
            root,
        ));
        out.push((
            "first two hashes swapped".into(),
            leaf,
            with(&|p| p.hashes.swap(0, 1)),
            root,
        ));
        out.push(("reversed".into(), leaf, with(&|p| p.hashes.reverse()), root));
    }
    out
}

fn consistency_mutants(
    r: &Reference,
    good: &ConsistencyProof,
    old_root: Hash,
    new_root: Hash,
) -> Vec<(String, Hash, Hash, ConsistencyProof)> {
    let (m, n) = (good.old_size, good.new_size);
    let with = |f: &dyn Fn(&mut ConsistencyProof)| {
        let mut p = good.clone();
        f(&mut p);
        p
    };
    let mut out = Vec::new();
    for (k, _) in good.hashes.iter().enumerate() {
        for (byte, bit) in [(0, 4), (31, 7), (9, 1)] {
            out.push((
                format!("flip bit {bit} of byte {byte} of hash {k}"),
                old_root,
                new_root,
                with(&|p| p.hashes[k] = flip(p.hashes[k], byte, bit)),
            ));
        }
    }
    // Wrong sizes, each with the true root of the size it claims.
    for (name, old, new) in [
        ("old size - 1", m - 1, n),
        ("old size + 1", m + 1, n),
        ("old size ^ 2", m ^ 2, n),
        ("new size - 1", m, n - 1),
        ("new size + 1", m, n + 1),
        ("new size * 2", m, n * 2),
    ] {
        if old <= new && (new as usize) <= r.leaves.len() && old != 0 && old != new {
            out.push((
                name.to_string(),
                r.root(old as usize),
                r.root(new as usize),
                with(&|p| {
                    p.old_size = old;
                    p.new_size = new;
                }),
            ));
        }
    }
    out.push((
        "sizes swapped".into(),
        new_root,
        old_root,
        with(&|p| {
            p.old_size = n;
            p.new_size = m;
        }),
    ));
    out.push((
        "old size 0 with this proof".into(),
        Hash::EMPTY_TREE,
        new_root,
        with(&|p| p.old_size = 0),
    ));
    out.push((
        "old size = new size with this proof".into(),
        new_root,
        new_root,
        with(&|p| p.old_size = n),
    ));
    out.push(("roots swapped".into(), new_root, old_root, good.clone()));
    out.push((
        "old root = new root".into(),
        new_root,
        new_root,
        good.clone(),
    ));
    out.push(("wrong old root".into(), GARBAGE, new_root, good.clone()));
    out.push(("wrong new root".into(), old_root, GARBAGE, good.clone()));
    out.push((
        "empty proof".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.clear()),
    ));
    out.push((
        "truncated (last hash removed)".into(),
        old_root,
        new_root,
        with(&|p| {
            p.hashes.pop();
        }),
    ));
    out.push((
        "trailing garbage".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.push(GARBAGE)),
    ));
    out.push((
        "trailing old root".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.push(old_root)),
    ));
    out.push((
        "trailing new root".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.push(new_root)),
    ));
    out.push((
        "preceding garbage".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.insert(0, GARBAGE)),
    ));
    out.push((
        "preceding old root".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.insert(0, old_root)),
    ));
    out.push((
        "preceding proof[0]".into(),
        old_root,
        new_root,
        with(&|p| p.hashes.insert(0, p.hashes[0])),
    ));
    if good.hashes.len() > 1 {
        out.push((
            "first two hashes swapped".into(),
            old_root,
            new_root,
            with(&|p| p.hashes.swap(0, 1)),
        ));
    }
    out
}

#[test]
fn every_mutant_of_a_good_proof_is_rejected() {
    let reference = Reference::numbered(600);
    let mut edge = RightEdge::empty();
    for leaf in &reference.leaves[..300] {
        edge.push(*leaf);
    }
    let mut tiles = MemoryTiles::new();
    tiles.apply(&edge);
    let mut checked = 0;
    for n in [1u64, 2, 3, 5, 7, 8, 9, 16, 31, 256, 257, 300] {
        let root = reference.root(n as usize);
        for i in [0, 1, 2, n / 2, n.saturating_sub(2), n - 1] {
            if i >= n {
                continue;
            }
            let good = inclusion_proof(&tiles, i, n).unwrap();
            let leaf = reference.leaves[i as usize];
            verify_inclusion(leaf, &good, root).unwrap();
            for (name, leaf, proof, root) in inclusion_mutants(&reference, leaf, &good, root) {
                assert!(
                    verify_inclusion(leaf, &proof, root).is_err(),
                    "inclusion of {i} in {n}: mutant {name:?} accepted"
                );
                checked += 1;
            }
        }
        for m in [1u64, 2, 3, 4, 6, n / 2, n - 1] {
            if m == 0 || m >= n {
                continue;
            }
            let good = consistency_proof(&tiles, m, n).unwrap();
            let old_root = reference.root(m as usize);
            verify_consistency(old_root, root, &good).unwrap();
            for (name, old, new, proof) in consistency_mutants(&reference, &good, old_root, root) {
                assert!(
                    verify_consistency(old, new, &proof).is_err(),
                    "consistency {m} -> {n}: mutant {name:?} accepted"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1_000, "only {checked} mutants");
}

/// A signed checkpoint and the key that signed it.
fn signed_checkpoint() -> (String, Signer, Checkpoint) {
    let signer = Signer::from_seed("flightrec.example/tenant-a", [42; 32]).unwrap();
    let cp = Checkpoint::new(
        "flightrec.example/tenant-a",
        300,
        Reference::numbered(300).root(300),
    )
    .unwrap();
    (sign_checkpoint(&cp, &signer).unwrap(), signer, cp)
}

#[test]
fn every_single_bit_flip_of_a_signed_checkpoint_is_rejected() {
    let (note, signer, cp) = signed_checkpoint();
    let origin = cp.origin();
    let verifiers = [signer.verifier()];
    assert_eq!(open_checkpoint(&note, origin, &verifiers).unwrap(), cp);
    let mut checked = 0;
    let mut not_utf8 = 0;
    for byte in 0..note.len() {
        for bit in 0..8 {
            let mut bytes = note.clone().into_bytes();
            bytes[byte] ^= 1 << bit;
            // A flip that breaks UTF-8 cannot even be a &str: refused by type.
            let Ok(mutant) = String::from_utf8(bytes) else {
                not_utf8 += 1;
                continue;
            };
            assert!(
                open_checkpoint(&mutant, origin, &verifiers).is_err(),
                "flip bit {bit} of byte {byte} accepted: {mutant:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1_000, "{checked} checked, {not_utf8} not UTF-8");
}

#[test]
fn every_truncation_of_a_signed_checkpoint_is_rejected() {
    let (note, signer, cp) = signed_checkpoint();
    for cut in 0..note.len() {
        if let Some(prefix) = note.get(..cut) {
            assert!(
                open_checkpoint(prefix, cp.origin(), &[signer.verifier()]).is_err(),
                "truncated to {cut} bytes accepted"
            );
        }
    }
}

#[test]
fn every_named_mutant_of_a_signed_checkpoint_is_rejected() {
    let (note, signer, cp) = signed_checkpoint();
    let origin = cp.origin().to_owned();
    let good = [signer.verifier()];
    let (text, sig_line) = note
        .rsplit_once("\n\n")
        .map(|(t, s)| (format!("{t}\n"), s.to_owned()))
        .unwrap();
    let other_key = Signer::from_seed(&origin, [43; 32]).unwrap();
    let other_name = Signer::from_seed("flightrec.example/tenant-b", [42; 32]).unwrap();
    let resign = |t: &str, s: &Signer| flightrec_core::log::sign(t, s).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let with_line = |k: usize, new: &str| {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        l[k] = new.to_owned();
        format!("{}\n\n{sig_line}", l.join("\n"))
    };
    // A signature line that claims our key name and id but was made by another key.
    let forged_id_line = {
        let theirs = resign(&text, &other_key);
        let their_sig = theirs.rsplit_once(' ').unwrap().1.trim_end().to_owned();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut raw = b64.decode(their_sig).unwrap();
        raw[..4].copy_from_slice(&signer.key_id().to_be_bytes());
        format!("\u{2014} {origin} {}\n", b64.encode(raw))
    };
    let mutants: Vec<(&str, String, String, Vec<Verifier>)> = vec![
        (
            "origin line altered",
            with_line(0, "flightrec.example/tenant-b"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "size line altered",
            with_line(1, "301"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "size with leading zero",
            with_line(1, "0300"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "root line altered",
            with_line(2, &Hash::EMPTY_TREE.to_base64()),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "extension line added",
            format!("{text}ext\n\n{sig_line}"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "text line removed",
            format!("{}\n{}\n\n{sig_line}", lines[0], lines[1]),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "blank line removed",
            format!("{text}{sig_line}"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "extra blank line before signatures",
            format!("{text}\n\n{sig_line}"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "final newline removed",
            note.trim_end_matches('\n').to_owned(),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "garbage line after signature",
            format!("{note}garbage\n"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "blank line after signature",
            format!("{note}\n"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "CR before newline",
            note.replacen('\n', "\r\n", 1),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "signature lines removed",
            format!("{text}\n"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "hyphen instead of em dash",
            note.replace('\u{2014}', "-"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "signed by another key of the same name",
            resign(&text, &other_key),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "signed by the same key under another name",
            resign(&text, &other_name),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "another key's signature under our name and key id",
            format!("{text}\n{forged_id_line}"),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "good signature then a bad one by the same key",
            format!("{note}{forged_id_line}"),
            origin.clone(),
            good.to_vec(),
        ),
        ("no verifiers", note.clone(), origin.clone(), vec![]),
        (
            "wrong verifier key",
            note.clone(),
            origin.clone(),
            vec![other_key.verifier()],
        ),
        (
            "wrong verifier name",
            note.clone(),
            origin.clone(),
            vec![other_name.verifier()],
        ),
        (
            "wrong expected origin",
            note.clone(),
            "flightrec.example/tenant-b".into(),
            good.to_vec(),
        ),
        (
            "another log's checkpoint by a shared key",
            resign(
                &Checkpoint::new("other.example/log", 300, cp.root())
                    .unwrap()
                    .to_text(),
                &signer,
            ),
            origin.clone(),
            good.to_vec(),
        ),
        (
            "not a checkpoint",
            resign("hello\n", &signer),
            origin.clone(),
            good.to_vec(),
        ),
    ];
    for (name, mutant, expected_origin, verifiers) in mutants {
        assert!(
            open_checkpoint(&mutant, &expected_origin, &verifiers).is_err(),
            "mutant {name:?} accepted: {mutant:?}"
        );
    }
    // Unknown signatures are ignored, not fatal, as the spec requires.
    let cosigned = format!(
        "{note}{}",
        resign(&text, &other_name).rsplit_once("\n\n").unwrap().1
    );
    assert_eq!(open_checkpoint(&cosigned, &origin, &good).unwrap(), cp);
    assert_eq!(open(&cosigned, &[other_name.verifier()]).unwrap(), text);
}

// ---- Witness cosignatures and tlog-proof files.

const LOG: &str = "flightrec.example/tenant-a";

/// A checkpoint signed by the log and cosigned by two witnesses, with the
/// log's key, the witnesses' keys and the checkpoint text.
struct Cosigned {
    note: String,
    text: String,
    log: Signer,
    w1: CosignatureSigner,
    w2: CosignatureSigner,
}

impl Cosigned {
    fn new(size: usize) -> Cosigned {
        let log = Signer::from_seed(LOG, [42; 32]).unwrap();
        let w1 = CosignatureSigner::from_seed("w1.example/witness", [1; 32]).unwrap();
        let w2 = CosignatureSigner::from_seed("w2.example/witness", [2; 32]).unwrap();
        let cp = Checkpoint::new(LOG, size as u64, Reference::numbered(size).root(size)).unwrap();
        let text = cp.to_text();
        let note = format!(
            "{}{}{}",
            sign_checkpoint(&cp, &log).unwrap(),
            cosign(&text, &w1, 1_750_000_000).unwrap(),
            cosign(&text, &w2, 1_750_000_001).unwrap()
        );
        Cosigned {
            note,
            text,
            log,
            w1,
            w2,
        }
    }

    fn witnesses(&self) -> [CosignatureVerifier; 2] {
        [self.w1.verifier(), self.w2.verifier()]
    }

    /// What a client with a policy of "the log's key and both witnesses"
    /// accepts.
    fn accepts(&self, note: &str) -> bool {
        open_checkpoint(note, LOG, &[self.log.verifier()]).is_ok()
            && require_cosignatures(note, &self.witnesses(), 2).is_ok()
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

#[test]
fn every_named_mutant_of_a_cosignature_is_rejected() {
    use base64::Engine as _;
    let c = Cosigned::new(300);
    assert!(c.accepts(&c.note));
    let lines: Vec<&str> = c.note.split_inclusive('\n').collect();
    // lines: text (3), blank, log signature, w1, w2.
    let (head, log_line, w1_line, w2_line) = (lines[..4].concat(), lines[4], lines[5], lines[6]);
    let (w1_name, w1_sig) = w1_line
        .trim_end()
        .strip_prefix("\u{2014} ")
        .unwrap()
        .split_once(' ')
        .unwrap();
    let raw = b64().decode(w1_sig).unwrap();
    assert_eq!(raw.len(), 76);
    let with_w1 = |line: &str| format!("{head}{log_line}{line}{w2_line}");
    let with_raw = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut r = raw.clone();
        f(&mut r);
        with_w1(&format!("\u{2014} {w1_name} {}\n", b64().encode(r)))
    };

    let mut mutants: Vec<(String, String)> = Vec::new();
    for (region, range) in [
        ("key id", 0..4),
        ("timestamp", 4..12),
        ("signature", 12..76),
    ] {
        for byte in range.clone().step_by(3).chain([range.end - 1]) {
            for bit in [0, 5, 7] {
                mutants.push((
                    format!("flip bit {bit} of byte {byte} ({region})"),
                    with_raw(&|r| r[byte] ^= 1 << bit),
                ));
            }
        }
    }
    let ts = |t: u64| move |r: &mut Vec<u8>| r[4..12].copy_from_slice(&t.to_be_bytes());
    mutants.extend([
        ("timestamp + 1".into(), with_raw(&ts(1_750_000_001))),
        ("timestamp 0".into(), with_raw(&ts(0))),
        ("timestamp 2^63".into(), with_raw(&ts(1 << 63))),
        ("timestamp u64::MAX".into(), with_raw(&ts(u64::MAX))),
        (
            "signature truncated by one byte".into(),
            with_raw(&|r| {
                r.pop();
            }),
        ),
        (
            "signature with a trailing byte".into(),
            with_raw(&|r| r.push(0)),
        ),
        (
            "timestamp removed".into(),
            with_raw(&|r| {
                r.drain(4..12);
            }),
        ),
        (
            "only key id and timestamp".into(),
            with_raw(&|r| r.truncate(12)),
        ),
        (
            "only the key id and one byte".into(),
            with_raw(&|r| r.truncate(5)),
        ),
        (
            "wrong name: the other witness's".into(),
            with_w1(&w1_line.replace(w1_name, "w2.example/witness")),
        ),
        (
            "wrong name: an unknown witness".into(),
            with_w1(&w1_line.replace(w1_name, "w3.example/witness")),
        ),
        (
            "line truncated inside the base64".into(),
            with_w1(&format!("{}\n", &w1_line[..w1_line.len() - 10])),
        ),
        (
            "line without its base64 padding".into(),
            with_w1(&w1_line.replace("==\n", "\n")),
        ),
        (
            "trailing garbage on the line".into(),
            with_w1(&w1_line.replace('\n', "AAAA\n")),
        ),
        (
            "trailing space on the line".into(),
            with_w1(&w1_line.replace('\n', " \n")),
        ),
        (
            "trailing garbage line".into(),
            format!("{}garbage\n", c.note),
        ),
        ("cosignature removed".into(), with_w1("")),
        (
            "the other witness's cosignature twice".into(),
            with_w1(w2_line),
        ),
        (
            "cosignature of another checkpoint".into(),
            with_w1(
                &cosign(
                    &Checkpoint::new(LOG, 301, Reference::numbered(301).root(301))
                        .unwrap()
                        .to_text(),
                    &c.w1,
                    1_750_000_000,
                )
                .unwrap(),
            ),
        ),
        (
            "cosignature by another key under the witness's name".into(),
            with_w1(
                &cosign(
                    &c.text,
                    &CosignatureSigner::from_seed(w1_name, [9; 32]).unwrap(),
                    1_750_000_000,
                )
                .unwrap(),
            ),
        ),
        (
            "plain note signature by the witness's key (type 0x01)".into(),
            with_w1(
                flightrec_core::log::sign(&c.text, &Signer::from_seed(w1_name, [1; 32]).unwrap())
                    .unwrap()
                    .rsplit_once("\n\n")
                    .unwrap()
                    .1,
            ),
        ),
        (
            "body: size altered".into(),
            c.note.replacen("\n300\n", "\n301\n", 1),
        ),
        (
            "body: extension line added".into(),
            c.note.replacen("\n\n", "\next\n\n", 1),
        ),
        (
            "log signature removed".into(),
            format!("{head}{w1_line}{w2_line}"),
        ),
    ]);
    for (name, mutant) in &mutants {
        assert!(!c.accepts(mutant), "mutant {name:?} accepted: {mutant:?}");
    }
    assert!(mutants.len() > 100, "only {} mutants", mutants.len());
    // The log's own key still opens a note whose cosignature is broken: to
    // the log's verifier it is a signature by an unknown key. To the
    // witnesses' verifiers it is an error, not "not cosigned".
    let (_, broken) = mutants
        .iter()
        .find(|(name, _)| name.ends_with("(signature)"))
        .unwrap();
    assert!(open_checkpoint(broken, LOG, &[c.log.verifier()]).is_ok());
    assert!(matches!(
        verify_cosignatures(broken, &c.witnesses()),
        Err(LogError::BadCosignature { .. })
    ));
}

#[test]
fn every_single_bit_flip_of_a_cosigned_checkpoint_is_rejected() {
    let c = Cosigned::new(20);
    assert!(c.accepts(&c.note));
    let mut checked = 0;
    for byte in 0..c.note.len() {
        for bit in 0..8 {
            let mut bytes = c.note.clone().into_bytes();
            bytes[byte] ^= 1 << bit;
            let Ok(mutant) = String::from_utf8(bytes) else {
                continue;
            };
            assert!(
                !c.accepts(&mutant),
                "flip bit {bit} of byte {byte} accepted: {mutant:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 2_000, "only {checked}");
}

/// A proof file for entry `index` of a `size`-entry log, cosigned by both
/// witnesses, and what a client with that policy accepts.
struct ProofCase {
    c: Cosigned,
    file: ProofFile,
    leaf: Hash,
}

impl ProofCase {
    fn new(size: usize, index: u64, extra: Option<Vec<u8>>) -> ProofCase {
        let c = Cosigned::new(size);
        let reference = Reference::numbered(size);
        let mut edge = RightEdge::empty();
        for leaf in &reference.leaves {
            edge.push(*leaf);
        }
        let mut tiles = MemoryTiles::new();
        tiles.apply(&edge);
        let proof = inclusion_proof(&tiles, index, size as u64).unwrap().hashes;
        let file = ProofFile {
            index,
            extra,
            proof,
            checkpoint_note: c.note.clone(),
        };
        ProofCase {
            c,
            file,
            leaf: reference.leaves[index as usize],
        }
    }

    fn accepts(&self, text: &str) -> bool {
        ProofFile::parse(text)
            .and_then(|f| {
                verify_proof_file(
                    &f,
                    Leaf::Hash(self.leaf),
                    &self.c.log.verifier(),
                    LOG,
                    &self.c.witnesses(),
                    2,
                )
            })
            .is_ok()
    }
}

#[test]
fn every_named_mutant_of_a_proof_file_is_rejected() {
    let case = ProofCase::new(300, 123, Some(b"ctx".to_vec()));
    let good = case.file.to_text();
    assert!(case.accepts(&good));
    let with = |f: &dyn Fn(&mut ProofFile)| {
        let mut file = case.file.clone();
        f(&mut file);
        file.to_text()
    };
    let n = case.file.proof.len();
    let mut mutants: Vec<(String, String)> = Vec::new();
    for k in 0..n {
        for (byte, bit) in [(0, 0), (31, 7), (16, 3)] {
            mutants.push((
                format!("flip bit {bit} of byte {byte} of proof hash {k}"),
                with(&|f| f.proof[k] = flip(f.proof[k], byte, bit)),
            ));
        }
    }
    let other_log = Signer::from_seed(LOG, [43; 32]).unwrap();
    let resigned = |s: &Signer| {
        let cp = Checkpoint::parse(&case.c.text).unwrap();
        let note = sign_checkpoint(&cp, s).unwrap();
        let cosigs = case
            .c
            .note
            .split_inclusive('\n')
            .skip(5)
            .collect::<String>();
        format!("{note}{cosigs}")
    };
    mutants.extend([
        ("index - 1".into(), with(&|f| f.index -= 1)),
        ("index + 1".into(), with(&|f| f.index += 1)),
        ("index = size".into(), with(&|f| f.index = 300)),
        ("index = u64::MAX".into(), with(&|f| f.index = u64::MAX)),
        (
            "first two hashes swapped".into(),
            with(&|f| f.proof.swap(0, 1)),
        ),
        ("hashes reversed".into(), with(&|f| f.proof.reverse())),
        (
            "last hash removed".into(),
            with(&|f| {
                f.proof.pop();
            }),
        ),
        ("hash added".into(), with(&|f| f.proof.push(GARBAGE))),
        (
            "hash prepended".into(),
            with(&|f| f.proof.insert(0, GARBAGE)),
        ),
        ("proof emptied".into(), with(&|f| f.proof.clear())),
        (
            "extra and index lines swapped".into(),
            good.replacen("extra Y3R4\nindex 123\n", "index 123\nextra Y3R4\n", 1),
        ),
        (
            "index with a leading zero".into(),
            good.replacen("index 123", "index 0123", 1),
        ),
        (
            "index with a plus sign".into(),
            good.replacen("index 123", "index +123", 1),
        ),
        (
            "two spaces after index".into(),
            good.replacen("index 123", "index  123", 1),
        ),
        (
            "header version altered".into(),
            good.replacen("@v1", "@v2", 1),
        ),
        (
            "header missing".into(),
            good.split_once('\n').unwrap().1.to_owned(),
        ),
        (
            "blank line before the checkpoint removed".into(),
            good.replacen("\n\nflightrec", "\nflightrec", 1),
        ),
        (
            "extra blank line before the checkpoint".into(),
            good.replacen("\n\nflightrec", "\n\n\nflightrec", 1),
        ),
        (
            "checkpoint missing".into(),
            good[..good.find("\n\n").unwrap() + 2].to_owned(),
        ),
        (
            "checkpoint and its blank line missing".into(),
            good[..good.find("\n\n").unwrap() + 1].to_owned(),
        ),
        (
            "checkpoint without signatures".into(),
            with(&|f| f.checkpoint_note = format!("{}\n", case.c.text)),
        ),
        (
            "bad signature: the log key of someone else".into(),
            with(&|f| f.checkpoint_note = resigned(&other_log)),
        ),
        (
            "bad signature: one byte of the log's signature flipped".into(),
            with(&|f| {
                let i = f.checkpoint_note.find("\u{2014} ").unwrap() + LOG.len() + 10;
                let mut b = f.checkpoint_note.clone().into_bytes();
                b[i] = if b[i] == b'A' { b'B' } else { b'A' };
                f.checkpoint_note = String::from_utf8(b).unwrap();
            }),
        ),
        (
            "one cosignature removed".into(),
            with(&|f| {
                f.checkpoint_note = f.checkpoint_note.split_inclusive('\n').take(6).collect()
            }),
        ),
        ("trailing garbage line".into(), format!("{good}garbage\n")),
        ("trailing blank line".into(), format!("{good}\n")),
        (
            "trailing garbage without newline".into(),
            format!("{good}x"),
        ),
        ("final newline removed".into(), good.trim_end().to_owned()),
        ("CRLF line endings".into(), good.replace('\n', "\r\n")),
        (
            "hash in unpadded base64".into(),
            good.replacen(
                &format!("{}\n", case.file.proof[0].to_base64()),
                &format!("{}\n", case.file.proof[0].to_base64().trim_end_matches('=')),
                1,
            ),
        ),
        (
            "hash in hex".into(),
            good.replacen(
                &case.file.proof[0].to_base64(),
                &case.file.proof[0].to_hex(),
                1,
            ),
        ),
        (
            "extra line without data or space".into(),
            good.replacen("extra Y3R4", "extra", 1),
        ),
        (
            "extra not base64".into(),
            good.replacen("extra Y3R4", "extra Y3R", 1),
        ),
    ]);
    for (name, mutant) in &mutants {
        assert!(!case.accepts(mutant), "mutant {name:?} accepted:\n{mutant}");
    }
    // Wrong leaf, wrong origin, and a policy the checkpoint does not meet.
    let file = ProofFile::parse(&good).unwrap();
    let (log, ws) = (case.c.log.verifier(), case.c.witnesses());
    let leaf = Leaf::Hash(case.leaf);
    assert!(
        verify_proof_file(&file, Leaf::Hash(flip(case.leaf, 0, 0)), &log, LOG, &ws, 2).is_err()
    );
    assert!(verify_proof_file(&file, Leaf::Input(b"leaf 123"), &log, LOG, &ws, 2).is_ok());
    assert!(verify_proof_file(&file, Leaf::Input(b"leaf 124"), &log, LOG, &ws, 2).is_err());
    assert!(verify_proof_file(&file, leaf, &log, "flightrec.example/tenant-b", &ws, 2).is_err());
    assert!(verify_proof_file(&file, leaf, &ws_as_log(&case), LOG, &ws, 2).is_err());
    let err = verify_proof_file(&file, leaf, &log, LOG, &ws, 3).unwrap_err();
    assert!(err.to_string().contains("3 of the 2"), "{err}");
    // The extra data is not authenticated: changing it changes nothing.
    let mut other_extra = file.clone();
    other_extra.extra = Some(b"anything".to_vec());
    assert!(case.accepts(&other_extra.to_text()));
}

/// The log key under a witness's name: not the log's verifier.
fn ws_as_log(case: &ProofCase) -> Verifier {
    Signer::from_seed(case.c.w1.name(), [1; 32])
        .unwrap()
        .verifier()
}

#[test]
fn every_single_bit_flip_and_truncation_of_a_proof_file_is_rejected() {
    // No extra data here: it is unauthenticated, so flips inside it are
    // accepted by design (see the named mutants).
    let case = ProofCase::new(9, 5, None);
    let good = case.file.to_text();
    assert!(case.accepts(&good));
    let mut checked = 0;
    for byte in 0..good.len() {
        for bit in 0..8 {
            let mut bytes = good.clone().into_bytes();
            bytes[byte] ^= 1 << bit;
            let Ok(mutant) = String::from_utf8(bytes) else {
                continue;
            };
            assert!(
                !case.accepts(&mutant),
                "flip bit {bit} of byte {byte} accepted:\n{mutant}"
            );
            checked += 1;
        }
    }
    assert!(checked > 3_000, "only {checked}");
    for cut in 0..good.len() {
        if let Some(prefix) = good.get(..cut) {
            assert!(!case.accepts(prefix), "truncated to {cut} bytes accepted");
        }
    }
}
