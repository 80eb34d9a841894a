//! Generated negative cases: good proofs, checkpoints and signed notes are
//! mutated one way at a time, and every mutant must be refused. Each mutant
//! is named after its mutation, so a failure says which one got through.

use flightrec_core::log::note::{Signer, Verifier, open};
use flightrec_core::log::{
    Checkpoint, ConsistencyProof, Hash, InclusionProof, MemoryTiles, RightEdge, consistency_proof,
    inclusion_proof, open_checkpoint, sign_checkpoint, verify_consistency, verify_inclusion,
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
