//! The suite's checks of report jobs: filed with the record of their
//! request, ended once, kept from holding what an erasure removed.

use super::{append, sealed_by};
use crate::*;
use flightrec_core::erasure::{ERASED_TYPE, erased_seqs_metadata};
use flightrec_core::record::SubmittedBy;
use serde_json::json;

fn job(id: &str, from: Option<&str>, to: Option<&str>) -> ReportJob {
    ReportJob {
        tenant: "acme".into(),
        id: id.into(),
        report_type: ReportType::AuditTrail,
        format: ReportFormat::Csv,
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
        requested_by: "key:k1".into(),
        created_at: "2026-12-01T00:00:00.000000Z".into(),
        status: ReportStatus::Pending,
        finished_at: None,
        error: None,
        size: None,
        basis: None,
    }
}

fn file<S: Store>(store: &S, job: ReportJob) {
    let batch = AppendBatch {
        access: vec![AccessChange::RequestReport(job)],
        ..AppendBatch::events(
            "acme",
            vec![sealed_by(
                json!({"type": "report.requested"}),
                SubmittedBy::Flightrec,
            )],
        )
    };
    store
        .append(vec![batch])
        .unwrap()
        .pop()
        .unwrap()
        .expect("filed");
}

fn ready(file: &[u8]) -> ReportOutcome {
    ReportOutcome::Ready {
        file: file.to_vec(),
        basis: r#"{"checkpoint":{"size":1}}"#.into(),
    }
}

pub fn report_jobs_end_once_and_erasure_reaches_their_files<S: Store>(store: &S) {
    append(
        store,
        "acme",
        vec![
            json!({"type": "x", "time": "2026-02-01T10:00:00Z", "content": "in February"}),
            json!({"type": "x", "time": "2026-03-01T10:00:00Z", "content": "in March"}),
        ],
    );
    let february = job(
        "rep_feb",
        Some("2026-02-01T00:00:00.000000Z"),
        Some("2026-03-01T00:00:00.000000Z"),
    );
    let march = job("rep_mar", Some("2026-03-01T00:00:00.000000Z"), None);
    let failing = job("rep_bad", None, None);
    for j in [&february, &march, &failing] {
        file(store, j.clone());
    }
    let pending: Vec<String> = store
        .pending_reports()
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(pending.len(), 3, "{pending:?}");
    assert_eq!(store.report("acme", "rep_feb").unwrap().unwrap(), february);
    assert_eq!(store.report("other", "rep_feb").unwrap(), None);
    assert_eq!(store.report_file("acme", "rep_feb").unwrap(), None);
    // An id is filed once.
    let again = AppendBatch {
        access: vec![AccessChange::RequestReport(february.clone())],
        ..AppendBatch::events("acme", vec![])
    };
    assert!(matches!(
        store.append(vec![again]).unwrap().pop().unwrap(),
        Err(StoreError::Conflict(_))
    ));

    let mark = store.erasure_mark("acme").unwrap();
    assert_eq!(mark, None);
    let at = "2026-12-01T00:01:00.000000Z";
    assert!(
        store
            .finish_report("acme", "rep_feb", at, &ready(b"feb,file"), mark)
            .unwrap()
    );
    assert!(
        store
            .finish_report("acme", "rep_mar", at, &ready(b"mar,file"), mark)
            .unwrap()
    );
    let failed = ReportOutcome::Failed {
        error: "too many records".into(),
    };
    assert!(
        store
            .finish_report("acme", "rep_bad", at, &failed, mark)
            .unwrap()
    );
    // Ended once: a second ending changes nothing.
    assert!(
        !store
            .finish_report("acme", "rep_feb", at, &ready(b"other"), mark)
            .unwrap()
    );
    let done = store.report("acme", "rep_feb").unwrap().unwrap();
    assert_eq!(
        (done.status, done.size, done.finished_at.as_deref()),
        (ReportStatus::Ready, Some(8), Some(at))
    );
    assert_eq!(done.basis.as_deref(), Some(r#"{"checkpoint":{"size":1}}"#));
    assert_eq!(
        store.report_file("acme", "rep_feb").unwrap().as_deref(),
        Some(&b"feb,file"[..])
    );
    let bad = store.report("acme", "rep_bad").unwrap().unwrap();
    assert_eq!(
        (bad.status, bad.error.as_deref()),
        (ReportStatus::Failed, Some("too many records"))
    );
    assert_eq!(store.report_file("acme", "rep_bad").unwrap(), None);
    assert!(store.pending_reports().unwrap().is_empty());
    let listed: Vec<String> = store
        .reports("acme", 10)
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(listed.len(), 3);

    // Erasing February's record clears February's report, not March's.
    let erased = AppendBatch {
        erase: Erase {
            seqs: vec![0],
            scrub_index: true,
        },
        ..AppendBatch::events(
            "acme",
            vec![sealed_by(
                json!({"type": ERASED_TYPE, "metadata": erased_seqs_metadata(&[0..=0])}),
                SubmittedBy::Flightrec,
            )],
        )
    };
    store
        .append(vec![erased.clone()])
        .unwrap()
        .pop()
        .unwrap()
        .expect("erased");
    assert_eq!(
        store.report("acme", "rep_feb").unwrap().unwrap().status,
        ReportStatus::Erased
    );
    assert_eq!(store.report_file("acme", "rep_feb").unwrap(), None);
    // A retried erasure that finds nothing left to erase reaches no report.
    file(store, job("rep_all", None, None));
    let now_mark = store.erasure_mark("acme").unwrap();
    assert!(
        store
            .finish_report("acme", "rep_all", at, &ready(b"all"), now_mark)
            .unwrap()
    );
    store
        .append(vec![erased])
        .unwrap()
        .pop()
        .unwrap()
        .expect("retried");
    assert_eq!(
        store.report("acme", "rep_all").unwrap().unwrap().status,
        ReportStatus::Ready
    );
    assert_eq!(
        store.report("acme", "rep_mar").unwrap().unwrap().status,
        ReportStatus::Ready
    );

    // A report built across an erasure is not stored: the mark moved.
    file(store, job("rep_late", None, None));
    let new_mark = store.erasure_mark("acme").unwrap();
    assert!(new_mark.is_some());
    assert!(
        !store
            .finish_report("acme", "rep_late", at, &ready(b"stale"), mark)
            .unwrap()
    );
    assert_eq!(
        store.report("acme", "rep_late").unwrap().unwrap().status,
        ReportStatus::Pending
    );
    assert!(
        store
            .finish_report("acme", "rep_late", at, &ready(b"fresh"), new_mark)
            .unwrap()
    );
}
