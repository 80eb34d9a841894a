//! Reports through the real binary, on both stores: every type in every
//! format, read back by readers that are not ours (pdftotext for PDF, the
//! `csv` crate, python-jsonschema against docs/report.schema.json), each
//! standing on a checkpoint the test verifies itself; erasure reaching the
//! files; a job that outlives its server.

use crate::support::{API_KEY, Backend, Server};
use base64::Engine;
use flightrec_core::log::{Verifier, open_checkpoint};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EMAIL: &str = "reported@example.com";
const MARKER: &str = "qzreportmarkerxv";
const FROM: &str = "2026-02-01T00:00:00Z";
const TO: &str = "2026-02-04T00:00:00Z";
const IN_WINDOW: usize = 40;

/// Checked by python-jsonschema against docs/report.schema.json.
fn assert_valid_json_report(bytes: &[u8]) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.schema.json");
    crate::support::read_with("validate.py", &[&schema], bytes);
}

/// The PDF's text, as poppler's pdftotext reads it.
fn pdf_text(bytes: &[u8]) -> String {
    let mut child = Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext (Debian's poppler-utils) must be installed to test PDF reports");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pdftotext refused the PDF");
    String::from_utf8(out.stdout).unwrap()
}

/// The CSV's tables, as the `csv` crate reads them: each a header row and
/// its rows.
fn csv_tables(bytes: &[u8]) -> Vec<Vec<Vec<String>>> {
    // Tables are separated by blank lines, which the reader skips: split
    // first, then read each.
    let text = std::str::from_utf8(bytes).unwrap();
    text.split("\r\n\r\n")
        .filter_map(|part| {
            let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
                .has_headers(false)
                .comment(Some(b'#'))
                .from_reader(part.as_bytes())
                .records()
                .map(|r| {
                    r.unwrap()
                        .iter()
                        .map(str::to_owned)
                        .collect::<Vec<String>>()
                })
                // (The reader yields a comment line's stray end as one
                // empty field.)
                .filter(|r| r.iter().any(|c| !c.is_empty()))
                .collect();
            (!rows.is_empty()).then_some(rows)
        })
        .collect()
}

async fn events_sent(s: &Server) {
    let (status, body) = s
        .post("/v1/compliance-rules/packs", &json!({"packId": "finance"}))
        .await;
    assert!(status < 300, "{body}");
    let person = json!({"type": "human", "id": "u-reported", "email": EMAIL});
    let mut batch = Vec::new();
    for i in 0..IN_WINDOW {
        let (event_type, verb) = [("tool_call", "read_file"), ("llm_call", "deploy")][i % 2];
        let status = ["ok", "ok", "fail", "warn"][i % 4];
        let mut e = json!({
            "type": event_type,
            "time": format!("2026-02-0{}T{:02}:00:00Z", 1 + i % 3, i % 24),
            "status": status,
            "agent_id": format!("agent-{}", i % 3),
            "verb": verb,
            "duration_ms": 10 * i,
            "message": format!("step {i} <b>bold</b>"),
        });
        if i % 8 == 0 {
            e["actor"] = person.clone();
            e["message"] = json!(format!("{MARKER} step {i}"));
        }
        if i % 10 == 3 {
            e["governance"] = json!({"status": "blocked", "reason": "policy"});
        }
        if i == 5 {
            e["content"] = json!("pay with 4111 1111 1111 1111");
        }
        batch.push(e);
    }
    // Outside the window.
    for i in 0..3 {
        batch.push(
            json!({"type": "tool_call", "time": format!("2026-03-01T0{i}:00:00Z"),
            "agent_id": "agent-late", "message": "later"}),
        );
    }
    let (status, body) = s.post("/v1/events/batch", &json!(batch)).await;
    assert_eq!(status, 201, "{body}");
}

async fn request(s: &Server, report_type: &str, format: &str) -> String {
    let (status, body) = s
        .post(
            "/v1/reports",
            &json!({"type": report_type, "format": format, "from": FROM, "to": TO}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["type"], report_type);
    assert!(body["createdAt"].is_string(), "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn wait_ready(s: &Server, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, job) = s.get(&format!("/v1/reports/{id}")).await;
        assert_eq!(status, 200, "{job}");
        match job["status"].as_str() {
            Some("ready") => return job,
            Some("pending") => {}
            _ => panic!("report {id} ended as {job}"),
        }
        assert!(Instant::now() < deadline, "report {id} never got ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn download(s: &Server, id: &str) -> (u16, String, String, Vec<u8>) {
    let r = s
        .http
        .get(s.url(&format!("/v1/reports/{id}/download")))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let header = |name| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let status = r.status().as_u16();
    (
        status,
        content_type,
        disposition,
        r.bytes().await.unwrap().to_vec(),
    )
}

/// Checks the basis against the log's public key, as an auditor would.
async fn assert_basis_verifies(s: &Server, basis: &Value) {
    let key = s.get_text("/v1/log/public-key").await;
    let verifier = Verifier::parse(key.trim()).unwrap();
    let note = basis["checkpoint"]["signed_note"].as_str().unwrap();
    let checkpoint = open_checkpoint(note, verifier.name(), std::slice::from_ref(&verifier))
        .expect("the report's checkpoint is signed by the log's key");
    assert_eq!(
        checkpoint.size(),
        basis["checkpoint"]["size"].as_u64().unwrap()
    );
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(checkpoint.root().as_bytes()),
        basis["checkpoint"]["root"].as_str().unwrap()
    );
    assert_eq!(basis["verification"]["passed"], true, "{basis}");
    // Records appended after the checkpoint was signed may be verified too.
    assert!(basis["verification"]["records"].as_u64().unwrap() >= checkpoint.size());
}

async fn every_report_reads_back(backend: Backend) {
    let (_guard, s) = Server::start_on(backend, &[], &[]);
    events_sent(&s).await;
    let (_, in_window) = s
        .get(&format!("/v1/events?since={FROM}&until={TO}&limit=1000"))
        .await;
    let in_window = in_window["events"].as_array().unwrap().clone();
    assert_eq!(in_window.len(), IN_WINDOW);

    let mut ids = BTreeMap::new();
    for report_type in ["compliance_summary", "audit_trail", "agent_activity"] {
        for format in ["pdf", "csv", "json", "html"] {
            ids.insert(
                (report_type, format),
                request(&s, report_type, format).await,
            );
        }
    }
    for ((report_type, format), id) in &ids {
        let job = wait_ready(&s, id).await;
        assert_basis_verifies(&s, &job["basis"]).await;
        let (status, content_type, disposition, bytes) = download(&s, id).await;
        assert_eq!(status, 200);
        assert_eq!(
            disposition,
            format!("attachment; filename=\"flightrec-{report_type}-{id}.{format}\"")
        );
        assert_eq!(job["size"], bytes.len());
        let what = format!("{report_type} as {format}");
        match *format {
            "json" => {
                assert_eq!(content_type, "application/json");
                assert_valid_json_report(&bytes);
                let report: Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(report["report"]["type"], *report_type);
                assert_eq!(report["basis"], job["basis"], "{what}");
                check_json_sections(report_type, &report, &in_window);
            }
            "csv" => {
                assert_eq!(content_type, "text/csv; charset=utf-8");
                let tables = csv_tables(&bytes);
                check_csv_tables(report_type, &tables, &in_window);
            }
            "html" => {
                assert_eq!(content_type, "text/html; charset=utf-8");
                let html = String::from_utf8(bytes).unwrap();
                assert!(html.contains("<h1>"), "{what}");
                assert!(
                    !html.contains("<b>bold</b>"),
                    "{what}: recorded markup is escaped"
                );
                if *report_type == "audit_trail" {
                    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{what}");
                    assert_eq!(html.matches("<tr><td").count(), IN_WINDOW, "{what}");
                }
            }
            "pdf" => {
                assert_eq!(content_type, "application/pdf");
                assert!(bytes.starts_with(b"%PDF-"), "{what}");
                let text = pdf_text(&bytes);
                assert!(text.contains("Built from checkpoint"), "{what}: {text}");
                assert!(text.contains("verified: all"), "{what}: {text}");
                match *report_type {
                    "audit_trail" => {
                        for e in &in_window {
                            let seq = e["seq"].as_u64().unwrap();
                            assert!(
                                text.lines()
                                    .any(|l| l.trim_start().starts_with(&format!("{seq} "))),
                                "{what}: no line for seq {seq}"
                            );
                        }
                        assert!(text.contains(MARKER), "{what}");
                    }
                    "agent_activity" => {
                        for agent in ["agent-0", "agent-1", "agent-2"] {
                            assert!(text.contains(agent), "{what}: {agent}");
                        }
                        assert!(!text.contains("agent-late"), "{what}: outside the window");
                    }
                    _ => {
                        assert!(text.contains("Alerts by rule and severity"), "{what}");
                        assert!(text.contains("governance blocks"), "{what}");
                    }
                }
            }
            _ => unreachable!(),
        }
    }

    // Erasing a person reaches every report whose window held their
    // records; a new report has only what is left.
    let (status, body) = s
        .post(
            "/v1/erasures",
            &json!({"subject": {"actor": EMAIL}, "reason": "GDPR art. 17 request"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let erasure = body["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, job) = s.get(&format!("/v1/erasures/{erasure}")).await;
        if job["status"] == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "erasure never finished: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for ((report_type, format), id) in &ids {
        let (_, job) = s.get(&format!("/v1/reports/{id}")).await;
        assert_eq!(job["status"], "erased", "{report_type} as {format}: {job}");
        let (status, _, _, bytes) = download(&s, id).await;
        assert_eq!(status, 410);
        assert!(!String::from_utf8_lossy(&bytes).contains(MARKER));
    }
    let again = request(&s, "audit_trail", "csv").await;
    wait_ready(&s, &again).await;
    let (_, _, _, bytes) = download(&s, &again).await;
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains(MARKER), "{text}");
    assert!(text.contains("[erased]"), "{text}");

    // What is asked for wrongly is refused, saying why.
    for (body, says) in [
        (
            json!({"type": "everything"}),
            "compliance_summary, audit_trail, agent_activity",
        ),
        (
            json!({"type": "audit_trail", "format": "docx"}),
            "pdf, csv, json, html",
        ),
        (
            json!({"type": "audit_trail", "from": TO, "to": FROM}),
            "must be before",
        ),
        (
            json!({"type": "audit_trail", "from": "last week"}),
            "`from`",
        ),
        (json!({"type": "audit_trail", "colour": "red"}), "colour"),
    ] {
        let (status, answer) = s.post("/v1/reports", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
    let (status, _) = s.get("/v1/reports/rep_nothing").await;
    assert_eq!(status, 404);
    let (status, listed) = s.get("/v1/reports").await;
    assert_eq!(status, 200);
    assert_eq!(listed["reports"].as_array().unwrap().len(), ids.len() + 1);
}

fn check_json_sections(report_type: &str, report: &Value, in_window: &[Value]) {
    let sections = report["sections"].as_array().unwrap();
    let section = |title: &str| {
        sections
            .iter()
            .find(|s| s["title"] == title)
            .unwrap_or_else(|| panic!("{report_type}: no section {title}"))
    };
    match report_type {
        "audit_trail" => {
            let rows = section("Records")["rows"].as_array().unwrap();
            let seqs: Vec<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
            let mut expected: Vec<u64> = in_window
                .iter()
                .map(|e| e["seq"].as_u64().unwrap())
                .collect();
            expected.sort_unstable();
            assert_eq!(seqs, expected);
        }
        "agent_activity" => {
            let rows = section("Agents")["rows"].as_array().unwrap();
            for row in rows {
                let agent = row["agent"].as_str().unwrap();
                let mine: Vec<&Value> = in_window
                    .iter()
                    .filter(|e| e["agent_id"] == agent)
                    .collect();
                let fails = mine.iter().filter(|e| e["status"] == "fail").count();
                assert_eq!(row["records"], mine.len(), "{agent}");
                assert_eq!(row["fail"], fails, "{agent}");
            }
            assert_eq!(rows.len(), 3);
        }
        _ => {
            let totals = section("Totals")["rows"].as_array().unwrap();
            let figure = |name: &str| {
                totals
                    .iter()
                    .find(|r| r["figure"] == name)
                    .unwrap_or_else(|| panic!("no figure {name}"))["value"]
                    .clone()
            };
            assert_eq!(figure("records"), IN_WINDOW);
            let blocked = in_window
                .iter()
                .filter(|e| e["governance"]["status"] == "blocked")
                .count();
            assert_eq!(figure("governance blocks"), blocked);
            let alerts = section("Alerts by rule and severity")["rows"]
                .as_array()
                .unwrap();
            assert!(
                alerts.iter().any(|a| a["raised"].as_u64().unwrap() >= 1),
                "the card number raised an alert: {alerts:?}"
            );
            let changes = section("Admin and key changes")["rows"].as_array().unwrap();
            assert!(changes.is_empty(), "the window is in the past: {changes:?}");
        }
    }
}

fn check_csv_tables(report_type: &str, tables: &[Vec<Vec<String>>], in_window: &[Value]) {
    match report_type {
        "audit_trail" => {
            assert_eq!(tables.len(), 1);
            let table = &tables[0];
            assert_eq!(table[0][0], "seq");
            assert_eq!(table.len(), IN_WINDOW + 1);
            for e in in_window {
                let seq = e["seq"].as_u64().unwrap().to_string();
                let row = table.iter().find(|r| r[0] == seq).unwrap();
                assert_eq!(row[2], e["type"].as_str().unwrap());
                assert_eq!(row[3], e["status"].as_str().unwrap());
                assert_eq!(row[9].len(), 64, "a body hash: {row:?}");
            }
            // A recorded "=..." would run as a formula in a spreadsheet.
            assert!(table.iter().flatten().all(|c| !c.starts_with('=')));
        }
        "agent_activity" => {
            assert_eq!(tables.len(), 1, "{tables:?}");
            assert_eq!(tables[0][0][0], "agent");
            assert_eq!(tables[0].len(), 1 + 3);
        }
        _ => {
            assert_eq!(tables.len(), 6, "{tables:?}");
            let totals = &tables[0];
            assert_eq!(totals[0], ["figure", "value"]);
            let records = totals.iter().find(|r| r[0] == "records").unwrap();
            assert_eq!(records[1], IN_WINDOW.to_string());
        }
    }
}

/// A job filed by a server that stopped before building it is built by
/// the next one.
#[tokio::test]
async fn a_pending_report_outlives_its_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::start(&data, &[]);
    events_sent(&s).await;
    s.kill_hard();
    // As the first server would have filed it, had it died before building.
    let db = rusqlite::Connection::open(data.join("flightrec.db")).unwrap();
    db.execute(
        "INSERT INTO reports (tenant, id, type, format, window_from, window_to, requested_by, \
         created_at, status) VALUES ('default', 'rep_0123456789abcdef0123456789abcdef', \
         'agent_activity', 'json', NULL, NULL, 'key:test', '2026-02-05T00:00:00.000000Z', 'pending')",
        [],
    )
    .unwrap();
    drop(db);
    let s = Server::start(&data, &[]);
    let job = wait_ready(&s, "rep_0123456789abcdef0123456789abcdef").await;
    assert_eq!(job["basis"]["verification"]["passed"], true);
    let (status, _, _, bytes) = download(&s, "rep_0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, 200);
    assert_valid_json_report(&bytes);
}

on_both_backends!(every_report_reads_back);
