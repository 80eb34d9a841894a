//! Writes the seed corpus, `fuzz/corpus/<target>/`, which is checked in:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_corpus
//! ```
//!
//! Seeds are small, real-looking inputs: events in the documented shapes
//! (docs/DESIGN.md §3, docs/replay.md), the RFC 8785 and C2SP examples the
//! core's tests check against, and checkpoints, notes and proof files signed
//! with the fixed keys of `flightrec_fuzz`, so mutants of them reach the
//! signature and proof checks. Running it again gives the same files.

use std::fs;
use std::path::Path;

use flightrec_core::log::{
    Checkpoint, Leaf, MemoryTiles, ProofFile, RightEdge, cosign, inclusion_proof, leaf_hash,
    sign_checkpoint, verify_proof_file,
};
use flightrec_core::replay::unified_diff;
use flightrec_fuzz::{ORIGIN, log_signer, witness_signer};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let seeds = [
        ("event_parse", events()),
        ("mask", mask()),
        ("jcs", jcs()),
        ("checkpoint", checkpoints()),
        ("proof_file", proof_files()),
        ("diff_apply", diffs()),
        ("pii", pii()),
    ];
    for (target, files) in seeds {
        let dir = root.join(target);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        for (name, bytes) in files {
            fs::write(dir.join(name), bytes)?;
        }
        println!("{}", dir.display());
    }
    Ok(())
}

type Seeds = Vec<(&'static str, Vec<u8>)>;

/// Every 16th short line of the labelled PII corpus, its marks taken off:
/// card numbers with CVVs, IBANs before currency codes, look-alikes.
fn pii() -> Seeds {
    const NAMES: [&str; 32] = [
        "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
        "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
        "30", "31",
    ];
    let corpus = include_str!("../../crates/flightrec-core/tests/pii/corpus.txt");
    corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty() && l.len() < 300)
        .step_by(16)
        .zip(NAMES)
        .map(|(line, name)| {
            let mut plain = String::new();
            for (i, part) in line.split(['⟦', '⟧']).enumerate() {
                // Odd parts are `detector:value`.
                plain.push_str(if i % 2 == 1 {
                    part.split_once(':').map_or(part, |(_, v)| v)
                } else {
                    part
                });
            }
            (name, plain.into_bytes())
        })
        .collect()
}

fn text(name: &'static str, s: &str) -> (&'static str, Vec<u8>) {
    (name, s.as_bytes().to_vec())
}

fn events() -> Seeds {
    vec![
        text(
            "start.json",
            r#"{"id":"0193a0b2-7c4e-7d21-9f3a-2b8c4d5e6f70","type":"start","time":"2026-11-22T10:00:00.123456789+02:00","run_id":"fix-1","agent_id":"claude-code","actor":{"type":"agent","id":"claude-code","name":"Claude"},"message":"fix the off-by-one in sum.rs"}"#,
        ),
        text(
            "tool_call_verb.json",
            r#"{"verb":"stripe:create_refund","provider":"stripe","run_id":"r1","span_id":"s2","parent_span_id":"s1","risk_level":"high","governance_status":"approved","dry_run":true,"idempotent":true,"duration_ms":12.5,"args":{"charge":"ch_123","amount":500},"result":{"id":"re_1","status":"succeeded"}}"#,
        ),
        text(
            "aliases.json",
            r#"{"execution_id":"e-7","action":"llm_call","timestamp":1767225600000,"traceId":"t-1","spanId":"a","parentSpanId":"b","agentId":"ag","prompt":[{"role":"user","content":"hi"}],"response":"hello","provider":"anthropic","tool":"claude-sonnet"}"#,
        ),
        text(
            "read_file.json",
            r#"{"type":"read_file","input":{"path":"src/sum.rs"},"output":"fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n"}"#,
        ),
        text(
            "edit_file_diff.json",
            r##"{"type":"edit_file","resource":{"type":"file","id":"tests/sum.rs"},"input":{"diff":"--- /dev/null\n+++ b/tests/sum.rs\n@@ -0,0 +1,2 @@\n+#[test]\n+fn three() { assert_eq!(total(3), 6); }\n"},"metadata":{"before":"","after":"#[test]\n"}}"##,
        ),
        text(
            "error.json",
            r#"{"type":"error","status":"fail","error":{"message":"connection refused","code":"ECONNREFUSED"},"governance":{"status":"blocked","policy":"no-prod","reason":"prod database"}}"#,
        ),
        text(
            "secrets.json",
            r#"{"type":"tool_call","tool":"bash","input":{"command":"curl -H 'Authorization: Bearer abcdefghijklmnop1234' https://api.example.com","env":{"AWS_SECRET_ACCESS_KEY":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","db_password":"hunter22"}},"output":"postgres://app:s3cr3t-pw@db.internal:5432/prod","metadata":{"ghp_abcdefghijklmnopqrstuvwxyz0123456789":"token as key"}}"#,
        ),
        text(
            "refused.json",
            r#"{"seq":3,"received_at":"2026-11-22T10:00:00Z","redactions":[],"type":"start","action":"start","status":"maybe","time":"yesterday","risk_level":"extreme","dry_run":"yes","metadata":{"x":1},"x":2}"#,
        ),
        text("not_an_object.json", r#"["start",{"type":"start"}]"#),
        text("window_span.txt", "24h"),
        text("window_time.txt", "2026-03-01T10:00:00.123456789+02:00"),
    ]
}

fn mask() -> Seeds {
    vec![
        text(
            "shell.txt",
            "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE && curl -H 'Authorization: Bearer abcdefghijklmnop1234' https://api.example.com",
        ),
        text(
            "url.txt",
            "DATABASE_URL=postgres://app:s3cr3t-pw@db.internal:5432/prod",
        ),
        text(
            "harmless.txt",
            "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 0193a0b2-7c4e-7d21-9f3a-2b8c4d5e6f70 max_tokens=4096 the token count was 1234",
        ),
        text(
            "headers.txt",
            "Cookie: session=abcdef0123456789; theme=dark\nx-api-key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz\npassword=hunter22&user=ana",
        ),
        text(
            "private_key.txt",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\nafter",
        ),
        text(
            "jwt.txt",
            "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
        text(
            "vendors.txt",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789 glpat-abcdefghij0123456789 xoxb-123456789012-abcdefghijkl https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX sk_live_abcdefghijklmnop whsec_abcdefghijklmnop1234 hf_abcdefghijklmnopqrstuvwxyz0123 fr_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123",
        ),
        text(
            "object.json",
            r#"{"user":"ana","password":"hunter22","headers":{"X-Api-Key":"k-123456","Authorization":"Basic YWxhZGRpbjpvcGVuc2VzYW1l"},"tokens":{"ghp_abcdefghijklmnopqrstuvwxyz0123456789":"ci"},"max_tokens":4096,"note":"[MASKED:jwt] seen"}"#,
        ),
    ]
}

fn jcs() -> Seeds {
    vec![
        // RFC 8785 §3.2.2.
        text(
            "rfc8785_3.2.2.json",
            r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#,
        ),
        // RFC 8785 §3.2.3: members sorted by UTF-16 code units.
        text(
            "rfc8785_3.2.3.json",
            r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
        ),
        text(
            "numbers.json",
            "[0, -0, 1e21, 1e-7, 9007199254740992, 9007199254740993, 18446744073709551615, -9223372036854775808, 5e-324, 1.7976931348623157e308, 123456789012345.678]",
        ),
        text(
            "record_header.json",
            r#"{"v":2,"tenant":"default","seq":3,"id":"e-1","time":"2026-11-22T10:00:00.000000Z","received_at":"2026-11-22T10:00:00.000000Z","type":"start","run_id":"r1","status":"ok","submitted_by":"key:0193c2a4","body_hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}"#,
        ),
        text(
            "nested.json",
            r#"{"nested":{"deeper":{"deepest":[[],{},"",{"é":true,"e":false}]}},"line":"a\nb\tc\u0001\u007f"}"#,
        ),
    ]
}

/// A checkpoint of `leaves` leaves `entry <i>`, signed by the log and
/// cosigned by the witness, with the tiles to prove inclusion in it.
fn log_of(leaves: u64) -> (Checkpoint, String, MemoryTiles) {
    let mut edge = RightEdge::empty();
    for i in 0..leaves {
        edge.push(leaf_hash(format!("entry {i}").as_bytes()));
    }
    let mut tiles = MemoryTiles::new();
    tiles.apply(&edge);
    let checkpoint = Checkpoint::new(ORIGIN, leaves, edge.root()).unwrap();
    let signed = sign_checkpoint(&checkpoint, &log_signer()).unwrap();
    let cosignature = cosign(&checkpoint.to_text(), &witness_signer(), 1_795_860_000).unwrap();
    (checkpoint, format!("{signed}{cosignature}"), tiles)
}

fn checkpoints() -> Seeds {
    let (checkpoint, cosigned, _) = log_of(7);
    let signed = sign_checkpoint(&checkpoint, &log_signer()).unwrap();
    let extended = checkpoint
        .clone()
        .with_extensions(vec!["extension line".to_owned()])
        .unwrap();
    vec![
        text("checkpoint.txt", &checkpoint.to_text()),
        text("signed.txt", &signed),
        text("cosigned.txt", &cosigned),
        text(
            "extension.txt",
            &sign_checkpoint(&extended, &log_signer()).unwrap(),
        ),
        text("log.vkey", &log_signer().verifier().to_key_string()),
        text("log.skey", &log_signer().to_private_key_string()),
        text("witness.vkey", &witness_signer().verifier().to_key_string()),
        text("witness.skey", &witness_signer().to_private_key_string()),
        // From c2sp.org/signed-note and c2sp.org/tlog-cosignature, as the
        // core's log_suite/vectors.rs has them.
        text(
            "c2sp_note.txt",
            "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n",
        ),
        text(
            "c2sp_cosigned.txt",
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n",
        ),
    ]
}

fn proof_files() -> Seeds {
    let mut seeds = Vec::new();
    for (name, leaves, index, extra) in [
        ("one_leaf.tlog-proof", 1, 0, None),
        ("seven_leaves.tlog-proof", 7, 3, Some(b"context".to_vec())),
        ("last_leaf.tlog-proof", 7, 6, Some(Vec::new())),
        ("two_tiles.tlog-proof", 300, 257, None),
    ] {
        let (_, note, tiles) = log_of(leaves);
        let file = ProofFile {
            index,
            extra,
            proof: inclusion_proof(&tiles, index, leaves).unwrap().hashes,
            checkpoint_note: note,
        };
        // The target's positive path: each seed verifies as it is.
        let leaf = format!("entry {index}");
        verify_proof_file(
            &file,
            Leaf::Input(leaf.as_bytes()),
            &log_signer().verifier(),
            ORIGIN,
            &[witness_signer().verifier()],
            1,
        )
        .expect("a seed proof file verifies");
        seeds.push(text(name, &file.to_text()));
    }
    // The example of c2sp.org/tlog-proof, signatures elided as it has them.
    seeds.push(text(
        "c2sp_example.tlog-proof",
        "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\nindex 73894\ngSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\nEKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\nRoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\nAHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\nexample.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n\u{2014} example.com/fancylog hI2DJw[...]1roloI=\n\u{2014} witness1.example mJirIklj[...]qY9v2B/5bg==\n",
    ));
    seeds
}

/// `a`, 0xFF, `b`: the diff target's two texts.
fn pair(name: &'static str, a: &str, b: &str) -> (&'static str, Vec<u8>) {
    let mut bytes = a.as_bytes().to_vec();
    bytes.push(0xFF);
    bytes.extend_from_slice(b.as_bytes());
    (name, bytes)
}

fn diffs() -> Seeds {
    let sum = "fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n";
    let fixed = "fn total(n: u32) -> u32 {\n    (0..=n).sum()\n}\n";
    let long: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    let long_new = long
        .replace("line 3\n", "line three\n")
        .replace("line 38\n", "");
    vec![
        pair("edit.pair", sum, fixed),
        pair("far_apart.pair", &long, &long_new),
        pair("no_final_newline.pair", "a\nb", "a\nc"),
        pair("crlf.pair", "a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),
        // A file and a patch for it, as an edit_file event sends them.
        pair("patch.pair", sum, &unified_diff("src/sum.rs", sum, fixed)),
        pair(
            "moved_hunk.pair",
            "x\ny\na\nb\n",
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n",
        ),
        pair(
            "new_file.pair",
            "",
            "--- /dev/null\n+++ b/tests/sum.rs\n@@ -0,0 +1,2 @@\n+#[test]\n+fn three() { assert_eq!(total(3), 6); }\n",
        ),
    ]
}
