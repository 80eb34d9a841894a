//! Witnesses through the real binaries: `flightrec witness serve` processes
//! cosign what a server configured with them sends; verifiers hold
//! checkpoints to a threshold of them; a witness that is down delays
//! cosigning, never ingest; a forked log gets no cosignature.

use crate::support::{Server, cli, flightrec, save_trust_file};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `flightrec witness serve`, killed when dropped.
struct WitnessProcess {
    child: Child,
    url: String,
    vkey: String,
}

impl WitnessProcess {
    fn start(data_dir: &Path, name: &str, trust: &Path) -> WitnessProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flightrec"))
            .args([
                "witness",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--name",
                name,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--trust")
            .arg(trust)
            .env("FLIGHTREC_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut vkey, mut url) = (String::new(), String::new());
        while url.is_empty() {
            let line = lines.next().expect("the witness exited").unwrap();
            if let Some(k) = line.strip_prefix("witness key:") {
                vkey = k.trim().to_owned();
            }
            if let Some(u) = line.strip_prefix("flightrec witness listening on ") {
                url = u.trim().to_owned();
            }
        }
        std::thread::spawn(move || for _ in lines {});
        WitnessProcess { child, url, vkey }
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ingest(s: &Server, n: usize, tag: &str) -> Vec<String> {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("{tag}-{i}"), "type": "tool_call", "content": format!("{tag} {i}")}))
        .collect();
    let (status, body) = s.post("/v1/events/batch", &json!(events)).await;
    assert_eq!(status, 201, "{body}");
    (0..n).map(|i| format!("{tag}-{i}")).collect()
}

async fn checkpoint(s: &Server) -> String {
    s.get_text("/v1/log/checkpoint").await
}

/// Waits until the newest checkpoint covers `size` records and carries
/// `cosignatures` witness lines; returns it.
async fn cosigned(s: &Server, size: u64, cosignatures: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let note = checkpoint(s).await;
        let covers = note
            .lines()
            .nth(1)
            .and_then(|l| l.parse::<u64>().ok())
            .is_some_and(|n| n >= size);
        let lines = note.lines().filter(|l| l.starts_with('\u{2014}')).count();
        if covers && lines == 1 + cosignatures {
            return note;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of {size} with {cosignatures} cosignatures: {note}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_witnesses_cosign_and_verifiers_hold_checkpoints_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path();
    let data = files.join("data");
    // The log's keys, saved once, for the witnesses and the verifiers.
    let s = Server::start(&data, &[]);
    let trust = save_trust_file(&s, &files.join("trust.txt"));
    drop(s);
    let w1 = WitnessProcess::start(&files.join("w1"), "w1.test", &trust);
    let w2 = WitnessProcess::start(&files.join("w2"), "w2.test", &trust);
    let config = format!("{} {},{} {}", w1.url, w1.vkey, w2.url, w2.vkey);
    let server = |data: &Path| {
        Server::start_with_env(
            data,
            &["--checkpoint-interval-ms", "50"],
            &[("FLIGHTREC_WITNESSES", config.as_str())],
        )
    };
    let s = server(&data);
    ingest(&s, 100, "a").await;
    let note = cosigned(&s, 103, 2).await;
    assert!(
        note.contains("\u{2014} w1.test ") && note.contains("\u{2014} w2.test "),
        "{note}"
    );
    // An export carries the checkpoint with its cosignatures, as the log
    // route serves it (regression: the export's had the log's signature
    // only, so a verifier asked for witnesses refused it).
    let export = s.get_text("/v1/events/export").await;
    let exported: Value = export
        .lines()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .filter(|v| v.get("checkpoint").is_some())
        })
        .expect("a checkpoint line");
    assert_eq!(exported["checkpoint"], note.as_str());

    let trust_arg = trust.to_str().unwrap();
    let proof = files.join("a.tlog-proof");
    let (w1_key, w2_key) = (w1.vkey.clone(), w2.vkey.clone());
    let both = ["--witness", &w1_key, "--witness", &w2_key];
    let (ok, out, err) = cli(
        &s,
        &[
            &[
                "log",
                "proof",
                "a-7",
                "-o",
                proof.to_str().unwrap(),
                "--trust",
                trust_arg,
            ],
            &both[..],
        ]
        .concat(),
    );
    assert!(ok, "{out}{err}");
    let verify_proof = |extra: &[&str]| {
        flightrec(
            &[
                &["verify", "--proof", proof.to_str().unwrap(), "--record"][..],
                &[files.join("a.json").to_str().unwrap(), "--trust", trust_arg],
                extra,
            ]
            .concat(),
        )
    };
    let (ok, out) = verify_proof(&both);
    assert!(ok, "{out}");
    assert!(out.contains("cosigned by at least 2 witness(es)"), "{out}");
    // The second reader checks the cosignatures too.
    let python = crate::mcp_peers::peers().join(".venv/bin/python");
    let reader = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/interop/tlog_proof.py"
    );
    let log_vkey = std::fs::read_to_string(&trust)
        .unwrap()
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .to_owned();
    let out = Command::new(&python)
        .args([
            reader,
            proof.to_str().unwrap(),
            files.join("a.json").to_str().unwrap(),
        ])
        .args([&log_vkey, &w1_key, &w2_key])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // A witness goes down: ingest goes on at once; the other still cosigns.
    let backup = files.join("backup");
    drop(s);
    std::fs::create_dir_all(&backup).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), backup.join(entry.file_name())).unwrap();
    }
    let s = server(&data);
    drop(w2);
    let started = Instant::now();
    ingest(&s, 50, "b").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "ingest waited on a witness"
    );
    let note = cosigned(&s, 153, 1).await;
    assert!(note.contains("\u{2014} w1.test "), "{note}");
    let proof_b = files.join("b.tlog-proof");
    let (ok, out, err) = cli(
        &s,
        &[
            "log",
            "proof",
            "b-3",
            "-o",
            proof_b.to_str().unwrap(),
            "--trust",
            trust_arg,
            "--witness",
            &w1.vkey,
        ],
    );
    assert!(ok, "{out}{err}");
    let verify_b = |extra: &[&str]| {
        flightrec(
            &[
                &["verify", "--proof", proof_b.to_str().unwrap(), "--record"][..],
                &[files.join("b.json").to_str().unwrap(), "--trust", trust_arg],
                extra,
            ]
            .concat(),
        )
    };
    let (ok, out) = verify_b(&[&both[..], &["--witness-threshold", "1"]].concat());
    assert!(ok, "1 of 2: {out}");
    let (ok, out) = verify_b(&both);
    assert!(!ok, "2 of 2 with one down: {out}");
    assert!(out.contains("cosign"), "{out}");
    drop(s);

    // The operator restores the older backup and grows it differently:
    // the witness refuses to cosign the fork.
    let s = server(&backup);
    ingest(&s, 80, "fork").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let note = checkpoint(&s).await;
    assert!(
        note.lines().nth(1).unwrap().parse::<u64>().unwrap() >= 183,
        "{note}"
    );
    assert!(
        !note.contains("\u{2014} w1.test "),
        "a fork was cosigned: {note}"
    );
    let (ok, _, err) = cli(&s, &["log", "checkpoint"]);
    assert!(ok, "{err}");
    // And a verifier that requires the witness refuses the fork's checkpoint.
    let (ok, _, err) = cli(
        &s,
        &[
            "log",
            "proof",
            "fork-1",
            "--trust",
            trust_arg,
            "--witness",
            &w1.vkey,
        ],
    );
    assert!(!ok);
    assert!(err.contains("cosign"), "{err}");
}
