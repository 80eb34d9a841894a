//! Builds a report's document from the store: its basis first (a
//! checkpoint covering everything committed, and the tenant's whole log
//! verified against it), then the sections its type asks for.

use super::document::{Basis, Document, Section};
use base64::Engine;
use flightrec_core::erasure::ERASED_TYPE;
use flightrec_store::stats::{GroupBy, NO_VALUE, StatGroups, Tally};
use flightrec_store::verify::verify_tenant_log;
use flightrec_store::{
    AlertQuery, Checkpointing, EventFilter, EventQuery, Origin, ReportJob, ReportType, Store,
    StoreError,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The most records an `audit_trail` report lists: a report is for
/// people; the verifiable export (`GET /v1/runs/{id}/export`, `flightrec
/// log export`) is for more.
pub const MAX_AUDIT_TRAIL_RECORDS: usize = 100_000;
/// The most admin changes a compliance summary lists one by one.
const MAX_LISTED_CHANGES: usize = 1_000;
/// The most erasure jobs a compliance summary looks through (newest).
const MAX_LISTED_ERASURES: usize = 10_000;
const PAGE: usize = 1_000;

/// Why a report could not be built, said to whoever asked for it.
pub enum BuildError {
    /// The request cannot be met as asked (too many records).
    Refused(String),
    Store(StoreError),
}

impl From<StoreError> for BuildError {
    fn from(e: StoreError) -> Self {
        BuildError::Store(e)
    }
}

pub fn build(
    store: &dyn Store,
    checkpointing: &Checkpointing,
    job: &ReportJob,
    now: String,
) -> Result<Document, BuildError> {
    // Everything acknowledged so far under a checkpoint, then one
    // consistent view of the log for the basis and every figure.
    store.sign_checkpoints()?;
    let snapshot = store.snapshot()?;
    let store = snapshot.as_ref();
    let basis = basis(store, checkpointing, &job.tenant)?;
    let window = (job.from.as_deref(), job.to.as_deref());
    let (title, sections) = match job.report_type {
        ReportType::ComplianceSummary => (
            "Compliance summary",
            compliance_summary(store, &job.tenant, window)?,
        ),
        ReportType::AuditTrail => (
            "Audit trail",
            vec![audit_trail(
                store,
                &job.tenant,
                window,
                basis.checkpoint_size,
            )?],
        ),
        ReportType::AgentActivity => (
            "Agent activity",
            vec![agent_activity(store, &job.tenant, window)?],
        ),
    };
    Ok(Document {
        id: job.id.clone(),
        report_type: job.report_type.as_str(),
        title,
        tenant: job.tenant.clone(),
        from: job.from.clone(),
        to: job.to.clone(),
        generated_at: now,
        basis,
        sections,
    })
}

/// The newest checkpoint, with its cosignatures, and the tenant's log
/// verified against the server's key.
fn basis(
    store: &dyn Store,
    checkpointing: &Checkpointing,
    tenant: &str,
) -> Result<Basis, BuildError> {
    let checkpoint = store.checkpoint(tenant, None)?.ok_or_else(|| {
        BuildError::Refused("the log is empty: there is nothing to report on yet".into())
    })?;
    let cosignatures = store.cosignatures(tenant, checkpoint.size)?;
    let mut signed = checkpoint.note.clone();
    for line in &cosignatures {
        signed.push_str(line);
        signed.push('\n');
    }
    let verifier = checkpointing.verifier(tenant)?;
    let keys = Some((verifier.name().to_owned(), vec![verifier]));
    let (verified, mismatch) = verify_tenant_log(store, tenant, keys, &mut |_| {})?;
    Ok(Basis {
        checkpoint_size: checkpoint.size,
        checkpoint_root: base64::engine::general_purpose::STANDARD
            .encode(checkpoint.root.as_bytes()),
        signed_checkpoint: signed,
        cosignatures: cosignatures.len(),
        verified_records: verified.records,
        erased_records: verified.erased,
        problem: mismatch.map(|m| m.to_string()),
    })
}

type Window<'a> = (Option<&'a str>, Option<&'a str>);

fn stats(
    store: &dyn Store,
    tenant: &str,
    (from, to): Window<'_>,
    group_by: Option<GroupBy>,
) -> Result<StatGroups, StoreError> {
    store.stats(tenant, from, to, group_by)
}

fn rate(part: u64, whole: u64) -> Value {
    if whole == 0 {
        json!(0.0)
    } else {
        json!(part as f64 / whole as f64)
    }
}

fn group_name(key: &str) -> Value {
    if key == NO_VALUE {
        json!("(none)")
    } else {
        json!(key)
    }
}

fn compliance_summary(
    store: &dyn Store,
    tenant: &str,
    window: Window<'_>,
) -> Result<Vec<Section>, BuildError> {
    let all = stats(store, tenant, window, None)?.total();
    let c = all.counts;
    let mut totals = Section::new("Totals", &["figure", "value"]);
    let figures: [(&str, Value); 12] = [
        ("records", json!(c.n)),
        ("failed (FAIL)", json!(c.fail)),
        ("warnings (WARN)", json!(c.warn)),
        ("failure rate", rate(c.fail, c.n)),
        ("governance blocks", json!(c.blocked)),
        ("governance block rate", rate(c.blocked, c.n)),
        ("dry runs", json!(c.dry_run)),
        ("idempotency hits", json!(c.idempotency_hits)),
        ("idempotency-hit rate", rate(c.idempotency_hits, c.n)),
        ("duration p50 (ms)", json!(all.percentile(0.50))),
        ("duration p95 (ms)", json!(all.percentile(0.95))),
        ("duration p99 (ms)", json!(all.percentile(0.99))),
    ];
    totals.rows = figures
        .into_iter()
        .map(|(name, value)| vec![json!(name), value])
        .collect();

    let mut by_type = Section::new("Records by type", &["type", "records", "fail", "warn"]);
    for (key, t) in &stats(store, tenant, window, Some(GroupBy::Type))?.0 {
        by_type.rows.push(vec![
            group_name(key),
            json!(t.counts.n),
            json!(t.counts.fail),
            json!(t.counts.warn),
        ]);
    }

    let mut governance = Section::new(
        "Governance blocks and dry runs by action",
        &["action", "records", "blocked", "dry runs"],
    );
    for (key, t) in &stats(store, tenant, window, Some(GroupBy::Verb))?.0 {
        if t.counts.blocked + t.counts.dry_run > 0 {
            governance.rows.push(vec![
                group_name(key),
                json!(t.counts.n),
                json!(t.counts.blocked),
                json!(t.counts.dry_run),
            ]);
        }
    }

    Ok(vec![
        totals,
        by_type,
        alerts(store, tenant, window)?,
        governance,
        admin_changes(store, tenant, window)?,
        erasures(store, tenant, window)?,
    ])
}

/// Alerts on the records in the window (by the record's `time`, as every
/// other figure), by rule and severity, open and resolved. Every alert is
/// looked at: a record's `time` is the client's to say, so when its alert
/// was raised says nothing of it.
fn alerts(store: &dyn Store, tenant: &str, (from, to): Window<'_>) -> Result<Section, StoreError> {
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.alerts(
            tenant,
            &AlertQuery {
                limit: PAGE,
                after: after.take(),
                ..AlertQuery::default()
            },
        )?;
        for alert in &page.items {
            let Some(record) = store.record(tenant, &alert.event_id)? else {
                continue;
            };
            let time = record.header.time.as_str();
            if from.is_some_and(|f| time < f) || to.is_some_and(|t| time >= t) {
                continue;
            }
            let entry = counts
                .entry((alert.rule_name.clone(), alert.severity.clone()))
                .or_default();
            if alert.status == "resolved" {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
        match (page.more, page.items.last()) {
            (true, Some(last)) => after = Some((last.created_at.clone(), last.id.clone())),
            _ => break,
        }
    }
    let mut section = Section::new(
        "Alerts by rule and severity",
        &["rule", "severity", "raised", "open", "resolved"],
    );
    for ((rule, severity), (open, resolved)) in counts {
        section.rows.push(vec![
            json!(rule),
            json!(severity),
            json!(open + resolved),
            json!(open),
            json!(resolved),
        ]);
    }
    Ok(section)
}

/// Every record in the window that matches `filter`, oldest first, at
/// most `max` (and whether there were more).
fn records_in(
    store: &dyn Store,
    tenant: &str,
    mut filter: EventFilter,
    (from, to): Window<'_>,
    max: usize,
    mut each: impl FnMut(&flightrec_core::record::StoredRecord),
) -> Result<bool, StoreError> {
    filter.since = from.map(str::to_owned);
    filter.until = to.map(str::to_owned);
    let mut seen = 0;
    let mut after_seq = None;
    loop {
        let page = store.records(
            tenant,
            &EventQuery {
                filter: filter.clone(),
                limit: PAGE,
                before_seq: None,
                after_seq,
                ascending: true,
                offset: 0,
            },
        )?;
        for record in &page.items {
            if seen == max {
                return Ok(true);
            }
            each(record);
            seen += 1;
        }
        match (page.more, page.items.last()) {
            (true, Some(last)) => after_seq = Some(last.header.seq),
            _ => return Ok(false),
        }
    }
}

/// A body's field as text, if it is one.
fn body_field(body: &Value, path: &[&str]) -> Option<String> {
    let mut v = body;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::to_owned)
}

/// What flightrec recorded of people's and keys' changes in the window.
fn admin_changes(
    store: &dyn Store,
    tenant: &str,
    window: Window<'_>,
) -> Result<Section, StoreError> {
    let mut section = Section::new(
        "Admin and key changes",
        &["seq", "time", "change", "by", "detail"],
    );
    let filter = EventFilter {
        origin: Some(Origin::Flightrec),
        ..EventFilter::default()
    };
    let more = records_in(
        store,
        tenant,
        filter,
        window,
        MAX_LISTED_CHANGES,
        |record| {
            if record.header.event_type == ERASED_TYPE {
                return; // in the erasures section
            }
            let body: Value = record
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            let by = body_field(&body, &["actor", "email"])
                .or_else(|| body_field(&body, &["actor", "id"]));
            section.rows.push(vec![
                json!(record.header.seq),
                json!(record.header.time),
                json!(record.header.event_type),
                json!(by),
                json!(body_field(&body, &["message"])),
            ]);
        },
    )?;
    if more {
        section.note = Some(format!(
            "The first {MAX_LISTED_CHANGES} changes; GET /v1/admin/audit lists them all."
        ));
    }
    Ok(section)
}

/// Erasure requests made in the window, and the bodies erased.
fn erasures(
    store: &dyn Store,
    tenant: &str,
    (from, to): Window<'_>,
) -> Result<Section, StoreError> {
    let mut section = Section::new(
        "Erasures",
        &[
            "requested at",
            "subject",
            "reason",
            "requested by",
            "status",
            "bodies erased",
        ],
    );
    for job in store
        .erasures(tenant, MAX_LISTED_ERASURES)?
        .into_iter()
        .rev()
    {
        let at = job.created_at.as_str();
        if from.is_some_and(|f| at < f) || to.is_some_and(|t| at >= t) {
            continue;
        }
        section.rows.push(vec![
            json!(job.created_at),
            json!(job.subject_kind),
            json!(job.reason),
            json!(job.requested_by),
            json!(job.status.as_str()),
            json!(job.erased),
        ]);
    }
    let told = store.count_records(
        tenant,
        &EventFilter {
            event_type: Some(ERASED_TYPE.to_owned()),
            origin: Some(Origin::Flightrec),
            since: from.map(str::to_owned),
            until: to.map(str::to_owned),
            ..EventFilter::default()
        },
    )?;
    section.note = Some(format!(
        "{} log.erased record{} in the window (requests and retention) account for every erased body.",
        told.total,
        if told.total == 1 { "" } else { "s" }
    ));
    Ok(section)
}

fn audit_trail(
    store: &dyn Store,
    tenant: &str,
    window: Window<'_>,
    checkpoint_size: u64,
) -> Result<Section, BuildError> {
    let mut section = Section::new(
        "Records",
        &[
            "seq",
            "time",
            "type",
            "status",
            "actor",
            "agent",
            "run",
            "action",
            "detail",
            "body_hash",
        ],
    );
    let more = records_in(
        store,
        tenant,
        EventFilter::default(),
        window,
        MAX_AUDIT_TRAIL_RECORDS,
        |record| {
            let h = &record.header;
            if h.seq >= checkpoint_size {
                return; // after the checkpoint this report stands on
            }
            let body: Option<Value> = record
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok());
            let field = |path: &[&str]| body.as_ref().and_then(|b| body_field(b, path));
            let detail = match &body {
                None => Some("[erased]".to_owned()),
                Some(_) => field(&["message"])
                    .or_else(|| field(&["error", "message"]))
                    .or_else(|| field(&["content"]))
                    .map(|text| shorten(&text, 300)),
            };
            section.rows.push(vec![
                json!(h.seq),
                json!(h.time),
                json!(h.event_type),
                json!(h.status.as_str()),
                json!(field(&["actor", "email"]).or_else(|| field(&["actor", "id"]))),
                json!(field(&["agent_id"])),
                json!(h.run_id),
                json!(field(&["verb"]).or_else(|| field(&["tool"]))),
                json!(detail),
                json!(h.body_hash),
            ]);
        },
    )?;
    if more {
        return Err(BuildError::Refused(format!(
            "the window holds more than {MAX_AUDIT_TRAIL_RECORDS} records, more than an audit_trail \
             report lists: narrow it (from, to), or export the records (GET /v1/runs/{{id}}/export, \
             flightrec log export)"
        )));
    }
    Ok(section)
}

fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn agent_activity(
    store: &dyn Store,
    tenant: &str,
    window: Window<'_>,
) -> Result<Section, StoreError> {
    let mut section = Section::new(
        "Agents",
        &[
            "agent",
            "records",
            "fail",
            "warn",
            "failure rate",
            "blocked",
            "dry runs",
            "idempotency hits",
            "p50 ms",
            "p95 ms",
            "p99 ms",
        ],
    );
    let groups = stats(store, tenant, window, Some(GroupBy::Agent))?;
    let mut agents: Vec<(&String, &Tally)> = groups.0.iter().collect();
    agents.sort_by(|a, b| b.1.counts.n.cmp(&a.1.counts.n).then(a.0.cmp(b.0)));
    for (key, t) in agents {
        let c = t.counts;
        section.rows.push(vec![
            group_name(key),
            json!(c.n),
            json!(c.fail),
            json!(c.warn),
            rate(c.fail, c.n),
            json!(c.blocked),
            json!(c.dry_run),
            json!(c.idempotency_hits),
            json!(t.percentile(0.50)),
            json!(t.percentile(0.95)),
            json!(t.percentile(0.99)),
        ]);
    }
    section.note = Some(
        "Durations are percentiles of duration_ms, exact below 32 ms and within 1/16 above.".into(),
    );
    Ok(section)
}
