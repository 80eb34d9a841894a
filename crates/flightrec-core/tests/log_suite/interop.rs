//! Cross-checks with implementations that are not ours: Cloudflare's
//! `tlog_tiles` and `signed_note` crates (ports of Go's sumdb/tlog and
//! sumdb/note). They must accept what we produce, and we what they produce.
//! Neither has witness cosignatures or tlog-proof files; for cosignatures
//! we plug a spec-written cosigner into `signed_note`'s traits (see
//! [`TheirCosigner`]), and for proof files there is no Rust implementation
//! to check against (see `vectors.rs` for Go's layout).
//!
//! One difference is by design, not a bug: `tlog_tiles` 0.2 names tiles the
//! Go sumdb way, `tile/<H>/<L>/<N>` with the height in the path and
//! `tile/<H>/data/<N>` for entries, while C2SP tlog-tiles (what we serve) has
//! no height element and uses `tile/entries/<N>`. We check that the two
//! differ in exactly that element.

use std::cell::RefCell;

use flightrec_core::log::note::{Signer, Verifier, open, sign};
use flightrec_core::log::tile::{EntryBundleId, TileId, encode_tile};
use flightrec_core::log::{
    Checkpoint, Cosignature, CosignatureSigner, Hash, MemoryTiles, RightEdge, TileReader,
    consistency_proof, cosign, inclusion_proof, leaf_hash, node_hash, open_checkpoint,
    require_cosignatures, sign_checkpoint, tree_root, verify_consistency, verify_inclusion,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

use crate::reference::Reference;

fn theirs(h: Hash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(h.0)
}

fn ours(h: tlog_tiles::Hash) -> Hash {
    Hash(h.0)
}

#[test]
fn hash_functions_agree() {
    for input in [&b""[..], b"\x00", b"hello", &[0xff; 1000]] {
        assert_eq!(leaf_hash(input), ours(tlog_tiles::record_hash(input)));
    }
    let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
    assert_eq!(
        node_hash(&a, &b),
        ours(tlog_tiles::node_hash(theirs(a), theirs(b)))
    );
    assert_eq!(Hash::EMPTY_TREE, ours(tlog_tiles::EMPTY_HASH));
}

/// Our in-memory tiles behind their tile-reading interface.
struct TheirView<'a> {
    tiles: &'a MemoryTiles,
    requested: RefCell<Vec<tlog_tiles::Tile>>,
}

impl tlog_tiles::TileReader for TheirView<'_> {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        self.requested.borrow_mut().extend_from_slice(tiles);
        tiles
            .iter()
            .map(|t| {
                assert!(!t.is_data());
                let hashes = self
                    .tiles
                    .read_tile(t.level(), t.level_index(), t.width() as u16)
                    .map_err(|_| tlog_tiles::Error::InvalidTile)?;
                Ok(encode_tile(&hashes))
            })
            .collect()
    }

    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

/// Their tile-authenticating hash reader over our tiles: every tile it reads
/// is checked against the tree hash we claim, so agreeing on proofs through
/// it also vouches for our tile layout.
#[test]
fn their_proofs_over_our_tiles_match_ours_and_each_side_verifies_the_other() {
    let reference = Reference::numbered(70_000);
    let mut edge = RightEdge::empty();
    let mut tiles = MemoryTiles::new();
    let sizes = [
        1u64, 2, 3, 7, 8, 255, 256, 257, 511, 513, 65_535, 65_536, 65_537, 70_000,
    ];
    let mut at = 0;
    for &size in &sizes {
        while edge.size() < size {
            edge.push(reference.leaves[edge.size() as usize]);
        }
        tiles.apply(&edge);
        edge.clear_dirty();
        let root = tree_root(&tiles, size).unwrap();
        let view = TheirView {
            tiles: &tiles,
            requested: RefCell::new(Vec::new()),
        };
        let reader = tlog_tiles::TileHashReader::new(size, theirs(root), &view);
        assert_eq!(
            ours(tlog_tiles::tree_hash(size, &reader).unwrap()),
            root,
            "tree hash at {size}"
        );
        for i in [0, size / 3, size / 2, size - 1] {
            let proof = inclusion_proof(&tiles, i, size).unwrap();
            let their_proof = tlog_tiles::prove_record(size, i, &reader).unwrap();
            assert_eq!(
                their_proof.iter().map(|h| ours(*h)).collect::<Vec<_>>(),
                proof.hashes,
                "inclusion {i} in {size}"
            );
            let leaf = reference.leaves[i as usize];
            tlog_tiles::check_record(
                &proof.hashes.iter().map(|h| theirs(*h)).collect(),
                size,
                theirs(root),
                i,
                theirs(leaf),
            )
            .unwrap();
            verify_inclusion(leaf, &proof, root).unwrap();
        }
        for old in [1, size / 2, size - 1, at].into_iter().filter(|&m| m >= 1) {
            let proof = consistency_proof(&tiles, old, size).unwrap();
            let their_proof = tlog_tiles::prove_tree(size, old, &reader).unwrap();
            assert_eq!(
                their_proof.iter().map(|h| ours(*h)).collect::<Vec<_>>(),
                proof.hashes,
                "consistency {old} -> {size}"
            );
            let old_root = reference.root(old as usize);
            tlog_tiles::check_tree(
                &proof.hashes.iter().map(|h| theirs(*h)).collect(),
                size,
                theirs(root),
                old,
                theirs(old_root),
            )
            .unwrap();
            verify_consistency(old_root, root, &proof).unwrap();
        }
        // Every tile they asked for has the path we would serve it at, modulo
        // the height element.
        for t in view.requested.borrow().iter() {
            let id = TileId {
                level: t.level(),
                index: t.level_index(),
                width: t.width() as u16,
            };
            assert_eq!(t.path(), id.path().replacen("tile/", "tile/8/", 1));
        }
        at = size;
    }
}

#[test]
fn dirty_tiles_are_the_tiles_they_say_to_publish() {
    let reference = Reference::numbered(70_000);
    let mut edge = RightEdge::empty();
    let mut tiles = MemoryTiles::new();
    for (old, new) in [
        (0u64, 1u64),
        (1, 256),
        (256, 257),
        (257, 65_536),
        (65_536, 65_537),
        (65_537, 70_000),
    ] {
        edge = if old == 0 {
            edge
        } else {
            RightEdge::load(&tiles, old).unwrap()
        };
        for leaf in &reference.leaves[old as usize..new as usize] {
            edge.push(*leaf);
        }
        let mut ours: Vec<(u8, u64, u16)> = edge
            .dirty_tiles()
            .iter()
            .map(|t| (t.id.level, t.id.index, t.id.width))
            .collect();
        let mut want: Vec<(u8, u64, u16)> = tlog_tiles::Tile::new_tiles(8, old, new)
            .iter()
            .map(|t| (t.level(), t.level_index(), t.width() as u16))
            .collect();
        ours.sort();
        want.sort();
        assert_eq!(ours, want, "{old} -> {new}");
        tiles.apply(&edge);
    }
}

#[test]
fn tile_paths_differ_from_theirs_only_in_the_height_element() {
    for level in [0u8, 1, 2, 7] {
        for index in [0u64, 5, 999, 1000, 1_234_067, 999_999_999_999, u64::MAX] {
            for width in [1u16, 17, 112, 255, 256] {
                let id = TileId {
                    level,
                    index,
                    width,
                };
                let their_tile = tlog_tiles::Tile::new(8, level, index, u32::from(width), false);
                let their_path = their_tile.path();
                assert_eq!(their_path, id.path().replacen("tile/", "tile/8/", 1));
                let back = tlog_tiles::Tile::from_path(&their_path).unwrap();
                assert_eq!(
                    TileId::parse_path(&back.path().replacen("tile/8/", "tile/", 1)).unwrap(),
                    id
                );

                let bundle = EntryBundleId { index, width };
                let mut their_data = their_tile;
                their_data.set_is_data();
                assert_eq!(
                    their_data
                        .path()
                        .replacen("tile/8/data/", "tile/entries/", 1),
                    bundle.path()
                );
            }
        }
    }
}

#[test]
fn checkpoints_cross_parse() {
    let root = leaf_hash(b"root");
    let ours_cp = Checkpoint::new("flightrec.example/t", 12_345, root)
        .unwrap()
        .with_extensions(vec!["ext one".into()])
        .unwrap();
    let parsed = tlog_tiles::Checkpoint::from_bytes(ours_cp.to_text().as_bytes()).unwrap();
    assert_eq!(parsed.origin(), "flightrec.example/t");
    assert_eq!(parsed.size(), 12_345);
    assert_eq!(ours(*parsed.hash()), root);
    assert_eq!(parsed.extension(), "ext one\n");
    for (origin, size, ext) in [
        ("a", 0u64, ""),
        ("example.com/behind-the-sofa", u64::MAX, "x\ny\n"),
    ] {
        let their_cp = tlog_tiles::Checkpoint::new(origin, size, theirs(root), ext).unwrap();
        let text = String::from_utf8(their_cp.to_bytes()).unwrap();
        let cp = Checkpoint::parse(&text).unwrap();
        assert_eq!((cp.origin(), cp.size(), cp.root()), (origin, size, root));
        assert_eq!(cp.to_text(), text);
    }
}

#[test]
fn key_strings_are_interchangeable() {
    let mut rng = StdRng::seed_from_u64(7);
    // Theirs → ours.
    let (skey, vkey) = signed_note::generate_key(&mut rng, "their.example/log");
    let signer = Signer::parse_private_key(&skey).unwrap();
    assert_eq!(signer.to_private_key_string(), skey);
    assert_eq!(Verifier::parse(&vkey).unwrap().to_key_string(), vkey);
    assert_eq!(signer.verifier().to_key_string(), vkey);
    // Ours → theirs.
    let mine = Signer::generate("our.example/log", &mut rng).unwrap();
    let their_signer = StandardSigner::new(&mine.to_private_key_string()).unwrap();
    let their_verifier = StandardVerifier::new(&mine.verifier().to_key_string()).unwrap();
    use signed_note::{Signer as _, Verifier as _};
    assert_eq!(their_signer.key_id(), mine.key_id());
    assert_eq!(their_verifier.key_id(), mine.key_id());
    assert_eq!(
        signed_note::key_id("our.example/log", &{
            let mut k = vec![1u8];
            k.extend_from_slice(&mine.verifier().public_key());
            k
        }),
        mine.key_id()
    );
}

#[test]
fn signed_notes_and_checkpoints_cross_verify() {
    let mut rng = StdRng::seed_from_u64(8);
    let signer = Signer::generate("flightrec.example/t", &mut rng).unwrap();
    let their_signer = StandardSigner::new(&signer.to_private_key_string()).unwrap();
    let their_verifiers = || {
        VerifierList::new(vec![Box::new(
            StandardVerifier::new(&signer.verifier().to_key_string()).unwrap(),
        )])
    };

    let cp = Checkpoint::new("flightrec.example/t", 70_000, leaf_hash(b"x")).unwrap();
    let text = cp.to_text();

    // Ours → theirs.
    let signed = sign_checkpoint(&cp, &signer).unwrap();
    let note = Note::from_bytes(signed.as_bytes()).unwrap();
    let (verified, unverified) = note.verify(&their_verifiers()).unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 0));
    assert_eq!(note.text(), text.as_bytes());
    tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();

    // Theirs → ours, byte for byte the same (Ed25519 is deterministic).
    let mut their_note = Note::new(text.as_bytes(), &[]).unwrap();
    their_note.add_sigs(&[&their_signer]).unwrap();
    let their_signed = String::from_utf8(their_note.to_bytes()).unwrap();
    assert_eq!(their_signed, signed);
    assert_eq!(
        open_checkpoint(&their_signed, "flightrec.example/t", &[signer.verifier()]).unwrap(),
        cp
    );

    // Notes with blank lines inside the text, and a cosignature from a key
    // we do not know, which both sides must ignore.
    let text = "line one\n\nline three\n";
    let other = Signer::generate("witness.example", &mut rng).unwrap();
    let ours_two = format!(
        "{}{}",
        sign(text, &signer).unwrap(),
        sign(text, &other).unwrap().rsplit_once("\n\n").unwrap().1
    );
    let note = Note::from_bytes(ours_two.as_bytes()).unwrap();
    let (verified, unverified) = note.verify(&their_verifiers()).unwrap();
    assert_eq!((verified.len(), unverified.len()), (1, 1));
    assert_eq!(open(&ours_two, &[signer.verifier()]).unwrap(), text);
    // Both reject a tampered text.
    let tampered = ours_two.replacen("one", "0ne", 1);
    assert!(open(&tampered, &[signer.verifier()]).is_err());
    assert!(
        Note::from_bytes(tampered.as_bytes())
            .unwrap()
            .verify(&their_verifiers())
            .is_err()
    );
}

/// `signed_note` 0.2 knows no cosignature type (and `tlog_tiles` 0.2, the
/// newest published, has no cosigner either), but its `Signer`/`Verifier`
/// traits are open. This is cosignature/v1 written against those traits from
/// the spec text, with their key id function and their note framing; only
/// the Ed25519 primitive is shared with our code.
struct TheirCosigner {
    name: String,
    id: u32,
    key: ed25519_dalek::SigningKey,
    timestamp: u64,
}

impl TheirCosigner {
    fn new(name: &str, seed: [u8; 32], timestamp: u64) -> TheirCosigner {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let mut encoded = vec![0x04];
        encoded.extend_from_slice(key.verifying_key().as_bytes());
        TheirCosigner {
            name: name.to_owned(),
            id: signed_note::key_id(name, &encoded),
            key,
            timestamp,
        }
    }

    fn message(timestamp: u64, text: &[u8]) -> Vec<u8> {
        let mut m = b"cosignature/v1\ntime ".to_vec();
        m.extend_from_slice(timestamp.to_string().as_bytes());
        m.push(b'\n');
        m.extend_from_slice(text);
        m
    }
}

impl signed_note::Signer for TheirCosigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::ed25519::signature::Error> {
        use ed25519_dalek::Signer as _;
        let mut out = self.timestamp.to_be_bytes().to_vec();
        let sig = self.key.sign(&TheirCosigner::message(self.timestamp, msg));
        out.extend_from_slice(&sig.to_bytes());
        Ok(out)
    }
}

impl signed_note::Verifier for TheirCosigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let (Some(time), Some(sig)) = (sig.get(..8), sig.get(8..)) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        let timestamp = u64::from_be_bytes(time.try_into().unwrap());
        self.key
            .verifying_key()
            .verify_strict(&TheirCosigner::message(timestamp, msg), &sig)
            .is_ok()
    }
}

#[test]
fn cosigner_key_ids_agree_with_signed_note() {
    let mut rng = StdRng::seed_from_u64(9);
    for name in ["w.example", "witness.example.com/w1", "ünïcode/名前"] {
        let ours = CosignatureSigner::generate(name, &mut rng).unwrap();
        let mut encoded = vec![0x04];
        encoded.extend_from_slice(&ours.verifier().public_key());
        assert_eq!(signed_note::key_id(name, &encoded), ours.key_id(), "{name}");
        // The vkey is the signed-note verifier key form with type 0x04.
        let vkey = ours.verifier().to_key_string();
        use base64::Engine as _;
        assert_eq!(
            vkey,
            format!(
                "{name}+{:08x}+{}",
                signed_note::key_id(name, &encoded),
                base64::engine::general_purpose::STANDARD.encode(&encoded)
            )
        );
        // Their verifier parser knows only type 0x01, and says so.
        assert!(matches!(
            StandardVerifier::new(&vkey),
            Err(signed_note::VerifierError::Alg)
        ));
    }
}

#[test]
fn cosigned_checkpoints_cross_verify_with_signed_note() {
    let mut rng = StdRng::seed_from_u64(10);
    let log = Signer::generate("flightrec.example/t", &mut rng).unwrap();
    let seed1 = [11u8; 32];
    let w1 = CosignatureSigner::from_seed("w1.example", seed1).unwrap();
    let w2 = CosignatureSigner::generate("w2.example", &mut rng).unwrap();
    let cp = Checkpoint::new("flightrec.example/t", 1234, leaf_hash(b"r"))
        .unwrap()
        .with_extensions(vec!["ext line".into()])
        .unwrap();
    let text = cp.to_text();
    let t = 1_760_000_000;

    // Ours → theirs: their framing, their key id, a spec-written verifier.
    let ours = format!(
        "{}{}{}",
        sign_checkpoint(&cp, &log).unwrap(),
        cosign(&text, &w1, t).unwrap(),
        cosign(&text, &w2, t + 1).unwrap()
    );
    let note = Note::from_bytes(ours.as_bytes()).unwrap();
    let theirs = VerifierList::new(vec![
        Box::new(StandardVerifier::new(&log.verifier().to_key_string()).unwrap()),
        Box::new(TheirCosigner::new("w1.example", seed1, 0)),
    ]);
    let (verified, unverified) = note.verify(&theirs).unwrap();
    assert_eq!((verified.len(), unverified.len()), (2, 1));
    assert_eq!(unverified[0].name(), "w2.example");
    // A cosignature over a changed extension line fails on their side too.
    let tampered = ours.replacen("ext line", "ext lime", 1);
    let only_w1 = VerifierList::new(vec![Box::new(TheirCosigner::new("w1.example", seed1, 0))]);
    assert!(
        Note::from_bytes(tampered.as_bytes())
            .unwrap()
            .verify(&only_w1)
            .is_err()
    );

    // Theirs → ours, byte for byte the same line (Ed25519 is deterministic).
    let mut their_note = Note::new(text.as_bytes(), &[]).unwrap();
    let their_log = StandardSigner::new(&log.to_private_key_string()).unwrap();
    let their_w1 = TheirCosigner::new("w1.example", seed1, t);
    their_note.add_sigs(&[&their_log, &their_w1]).unwrap();
    let their_signed = String::from_utf8(their_note.to_bytes()).unwrap();
    assert_eq!(
        their_signed,
        format!(
            "{}{}",
            sign_checkpoint(&cp, &log).unwrap(),
            cosign(&text, &w1, t).unwrap()
        )
    );
    assert_eq!(
        require_cosignatures(&their_signed, &[w1.verifier(), w2.verifier()], 1).unwrap(),
        vec![Cosignature {
            name: "w1.example".into(),
            key_id: w1.key_id(),
            timestamp: t
        }]
    );
    assert_eq!(
        open_checkpoint(&their_signed, "flightrec.example/t", &[log.verifier()]).unwrap(),
        cp
    );
}
