//! Published values nobody on this project chose: the Certificate
//! Transparency reference tree (RFC 6962 test data, as republished in
//! transparency-dev/merkle's proof/verify_test.go), the C2SP signed-note,
//! tlog-checkpoint, tlog-cosignature and tlog-proof examples, the examples in
//! the documentation of Go's golang.org/x/mod/sumdb/note, and values from
//! the tests of Go's transparency-dev/formats.

use flightrec_core::log::checkpoint::Checkpoint;
use flightrec_core::log::cosignature::{cosignature_message, cosigner_key_id};
use flightrec_core::log::note::{Signer, Verifier, open, sign};
use flightrec_core::log::{
    ConsistencyProof, CosignatureSigner, CosignatureVerifier, Hash, InclusionProof, Leaf, LogError,
    MemoryTiles, ProofFile, RightEdge, consistency_proof, inclusion_proof, leaf_hash,
    merkle_tree_hash, node_hash, require_cosignatures, tree_root, verify_consistency,
    verify_cosignatures, verify_inclusion, verify_proof_file,
};

fn h(hex: &str) -> Hash {
    Hash::from_hex(hex).unwrap()
}

const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots for sizes 1..=8.
const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path).
const CT_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency path).
const CT_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn ct_leaf_hashes() -> Vec<Hash> {
    CT_LEAVES
        .iter()
        .map(|x| leaf_hash(&hex::decode(x).unwrap()))
        .collect()
}

fn ct_tiles() -> MemoryTiles {
    let mut edge = RightEdge::empty();
    for leaf in ct_leaf_hashes() {
        edge.push(leaf);
    }
    let mut tiles = MemoryTiles::new();
    tiles.apply(&edge);
    tiles
}

#[test]
fn empty_tree_hash_is_sha256_of_the_empty_string() {
    let want = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(Hash::EMPTY_TREE, want);
    assert_eq!(merkle_tree_hash(&[]), want);
    assert_eq!(RightEdge::empty().root(), want);
    assert_eq!(tree_root(&MemoryTiles::new(), 0).unwrap(), want);
}

#[test]
fn ct_reference_roots_for_sizes_1_to_8() {
    let leaves = ct_leaf_hashes();
    let tiles = ct_tiles();
    let mut edge = RightEdge::empty();
    for (size, want) in (1..=8).zip(CT_ROOTS) {
        let want = h(want);
        edge.push(leaves[size - 1]);
        assert_eq!(
            merkle_tree_hash(&leaves[..size]),
            want,
            "naive, size {size}"
        );
        assert_eq!(edge.root(), want, "right edge, size {size}");
        assert_eq!(
            tree_root(&tiles, size as u64).unwrap(),
            want,
            "tiles, size {size}"
        );
    }
    // The first root is the empty leaf's hash; the second, one node over two leaves.
    assert_eq!(leaves[0], h(CT_ROOTS[0]));
    assert_eq!(node_hash(&leaves[0], &leaves[1]), h(CT_ROOTS[1]));
}

#[test]
fn ct_reference_inclusion_proofs_are_built_and_verified() {
    let leaves = ct_leaf_hashes();
    let tiles = ct_tiles();
    for (index, size, path) in CT_INCLUSION {
        let want = InclusionProof {
            leaf_index: index,
            tree_size: size,
            hashes: path.iter().map(|x| h(x)).collect(),
        };
        let got = inclusion_proof(&tiles, index, size).unwrap();
        assert_eq!(got, want, "leaf {index} in size {size}");
        verify_inclusion(
            leaves[index as usize],
            &want,
            h(CT_ROOTS[size as usize - 1]),
        )
        .unwrap_or_else(|e| panic!("leaf {index} in size {size}: {e}"));
    }
}

#[test]
fn ct_reference_consistency_proofs_are_built_and_verified() {
    let tiles = ct_tiles();
    for (old_size, new_size, path) in CT_CONSISTENCY {
        let want = ConsistencyProof {
            old_size,
            new_size,
            hashes: path.iter().map(|x| h(x)).collect(),
        };
        let got = consistency_proof(&tiles, old_size, new_size).unwrap();
        assert_eq!(got, want, "{old_size} -> {new_size}");
        let old_root = h(CT_ROOTS[old_size as usize - 1]);
        let new_root = h(CT_ROOTS[new_size as usize - 1]);
        verify_consistency(old_root, new_root, &want)
            .unwrap_or_else(|e| panic!("{old_size} -> {new_size}: {e}"));
    }
}

/// From https://c2sp.org/signed-note, "Verifier keys / Example".
const C2SP_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const C2SP_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

#[test]
fn c2sp_signed_note_example_opens() {
    let verifier = Verifier::parse(C2SP_VKEY).unwrap();
    assert_eq!(verifier.name(), "example.com/foo");
    assert_eq!(verifier.key_id(), 0x530d903a);
    assert_eq!(verifier.to_key_string(), C2SP_VKEY);
    assert_eq!(
        open(C2SP_NOTE, &[verifier]).unwrap(),
        "This is an example message.\n"
    );
}

/// From the package documentation of golang.org/x/mod/sumdb/note (and the
/// signed_note crate that ports it).
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const GO_ENOCH_SIGNATURE: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn go_note_example_signs_byte_for_byte() {
    let signer = Signer::parse_private_key(GO_SKEY).unwrap();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.to_private_key_string(), GO_SKEY);
    assert_eq!(signer.verifier().to_key_string(), GO_VKEY);
    let signed = sign(GO_TEXT, &signer).unwrap();
    assert_eq!(signed, format!("{GO_TEXT}\n{GO_SIGNATURE}"));
    let verifier = Verifier::parse(GO_VKEY).unwrap();
    assert_eq!(open(&signed, &[verifier]).unwrap(), GO_TEXT);
}

#[test]
fn go_note_example_with_a_second_signer_from_an_all_zero_seed() {
    // The Go docs add a signature by "EnochRoot", a key generated from an
    // all-zero random source, i.e. the all-zero Ed25519 seed.
    let enoch = Signer::from_seed("EnochRoot", [0; 32]).unwrap();
    let signed = sign(GO_TEXT, &enoch).unwrap();
    assert_eq!(signed, format!("{GO_TEXT}\n{GO_ENOCH_SIGNATURE}"));
    // Both signatures on one note: each key alone opens it, the other
    // signature being by an unknown key.
    let both = format!("{GO_TEXT}\n{GO_SIGNATURE}{GO_ENOCH_SIGNATURE}");
    let peter = Verifier::parse(GO_VKEY).unwrap();
    assert_eq!(open(&both, std::slice::from_ref(&peter)).unwrap(), GO_TEXT);
    assert_eq!(open(&both, &[enoch.verifier()]).unwrap(), GO_TEXT);
    assert_eq!(open(&both, &[enoch.verifier(), peter]).unwrap(), GO_TEXT);
}

#[test]
fn c2sp_checkpoint_example_parses() {
    // From https://c2sp.org/tlog-checkpoint (no public key is published for it).
    let text =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let cp = Checkpoint::parse(text).unwrap();
    assert_eq!(
        (cp.origin(), cp.size()),
        ("example.com/behind-the-sofa", 20_852_163)
    );
    assert_eq!(cp.to_text(), text);
}

// ---- Witness cosignatures (c2sp.org/tlog-cosignature) and proof files
// (c2sp.org/tlog-proof).

/// The tlog-cosignature spec's example: the log's checkpoint with its own
/// signature and one witness cosignature. No public key is published for
/// either, so only the form, key id and timestamp can be checked.
const C2SP_COSIGNED_CHECKPOINT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

#[test]
fn c2sp_cosignature_signed_message_example() {
    // The spec's "Ed25519 signed message" example, byte for byte.
    let want = "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let text =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(cosignature_message(text, 1_679_315_147), want);
}

#[test]
fn c2sp_cosigned_checkpoint_example_has_the_spec_layout() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let line = C2SP_COSIGNED_CHECKPOINT.lines().last().unwrap();
    let raw = b64.decode(line.rsplit_once(' ').unwrap().1).unwrap();
    // key id (4) ‖ timestamp (8, big-endian) ‖ Ed25519 signature (64), and
    // the timestamp is the one in the spec's signed-message example.
    assert_eq!(raw.len(), 4 + 8 + 64);
    assert_eq!(u32::from_be_bytes(raw[..4].try_into().unwrap()), 0x8d66cf3f);
    assert_eq!(
        u64::from_be_bytes(raw[4..12].try_into().unwrap()),
        1_679_315_147
    );
    // Our parser takes the note as well-formed: a witness of that name but
    // another key (so another key id) is simply not among the cosigners.
    let stranger = CosignatureSigner::from_seed("witness.example.com/w1", [5; 32]).unwrap();
    assert_eq!(
        verify_cosignatures(C2SP_COSIGNED_CHECKPOINT, &[stranger.verifier()]).unwrap(),
        vec![]
    );
    assert_eq!(
        require_cosignatures(C2SP_COSIGNED_CHECKPOINT, &[stranger.verifier()], 1).unwrap_err(),
        LogError::TooFewCosignatures {
            needed: 1,
            found: 0,
            known: 1
        }
    );
}

#[test]
fn a_published_witness_vkey_parses_with_its_key_id() {
    // A real witness's cosignature/v1 vkey (type 0x04), from the tests of
    // github.com/transparency-dev/formats (note/note_cosigv1_test.go).
    let vkey = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    let verifier = CosignatureVerifier::parse(vkey).unwrap();
    assert_eq!(verifier.name(), "remora.n621.de");
    assert_eq!(verifier.key_id(), 0xda77ade7);
    assert_eq!(
        cosigner_key_id("remora.n621.de", &verifier.public_key()),
        0xda77ade7
    );
    assert_eq!(verifier.to_key_string(), vkey);
    // The same vkey with another key id is refused.
    assert!(CosignatureVerifier::parse(&vkey.replace("da77ade7", "da77ade8")).is_err());
}

/// The tlog-proof spec's example file. Its signatures are elided ("[...]")
/// and its five hashes are illustrative (a real proof for index 73894 in a
/// tree of 109482 has 17), so it can be parsed but not verified.
const C2SP_PROOF_FILE: &str = "c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u{2014} example.com/fancylog hI2DJw[...]1roloI=
\u{2014} witness1.example mJirIklj[...]qY9v2B/5bg==
\u{2014} witness2.example TnKKVHLX[...]xwYwrSjgow==
\u{2014} witness3.example S4X82uH5[...]3oEcROGLFQ==
";

#[test]
fn c2sp_proof_file_example_parses() {
    let file = ProofFile::parse(C2SP_PROOF_FILE).unwrap();
    assert_eq!(file.index, 73_894);
    assert_eq!(
        &file.extra.as_deref().unwrap()[..30],
        b"age-v1.2.1-darwin-arm64.tar.gz"
    );
    assert_eq!(file.proof.len(), 5);
    assert_eq!(
        file.proof[0].to_base64(),
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ="
    );
    assert!(
        file.checkpoint_note
            .starts_with("example.com/fancylog\n109482\n")
    );
    assert_eq!(file.checkpoint_note.lines().count(), 8);
    assert_eq!(file.to_text(), C2SP_PROOF_FILE);
    // The elided signatures are caught when the checkpoint is opened.
    let log = Signer::from_seed("example.com/fancylog", [1; 32]).unwrap();
    assert!(
        verify_proof_file(
            &file,
            Leaf::Hash(Hash::default()),
            &log.verifier(),
            "example.com/fancylog",
            &[],
            0
        )
        .is_err()
    );
}

#[test]
fn proof_files_are_laid_out_as_go_transparency_dev_formats_writes_them() {
    // The expected strings of TestMarshal in
    // github.com/transparency-dev/formats (proof/tlog_proof_test.go). Their
    // checkpoint is a placeholder, which our strict parser refuses.
    use sha2::{Digest, Sha256};
    let h1 = Hash(Sha256::digest(b"hash1").into());
    let h2 = Hash(Sha256::digest(b"hash2").into());
    let cases = [
        (
            ProofFile {
                index: 5,
                extra: None,
                proof: vec![h1, h2],
                checkpoint_note: "test checkpoint\n".into(),
            },
            format!(
                "c2sp.org/tlog-proof@v1\nindex 5\n{}\n{}\n\ntest checkpoint\n",
                h1.to_base64(),
                h2.to_base64()
            ),
        ),
        (
            ProofFile {
                index: 10,
                extra: Some(b"extra information".to_vec()),
                proof: vec![h1],
                checkpoint_note: "checkpoint data\n".into(),
            },
            format!(
                "c2sp.org/tlog-proof@v1\nextra ZXh0cmEgaW5mb3JtYXRpb24=\nindex 10\n{}\n\ncheckpoint data\n",
                h1.to_base64()
            ),
        ),
        (
            ProofFile {
                index: 0,
                extra: None,
                proof: vec![],
                checkpoint_note: "checkpoint\n".into(),
            },
            "c2sp.org/tlog-proof@v1\nindex 0\n\ncheckpoint\n".to_owned(),
        ),
    ];
    for (file, want) in cases {
        assert_eq!(file.to_text(), want);
        assert!(ProofFile::parse(&want).is_err(), "{want:?}");
    }
}
