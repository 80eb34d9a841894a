//! `/runs/{id}/compare?with=OTHER`: two runs side by side (see
//! `crate::run_comparison`), for "what did the failing run do
//! differently?": the steps aligned by what each did, the first place they
//! part marked, and the files that ended different, with their diffs.

use super::format;
use super::viewer::{Chrome, PageResult, Viewer, render};
use crate::auth::Permission;
use crate::error::ApiError;
use crate::params::Params;
use crate::run_comparison::{ComparedRun, ComparedStep, MAX_COMPARED_STEPS, compare_runs};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use flightrec_core::replay::FileOutcome;
use flightrec_store::RunSummary;

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    chrome: Chrome,
    a: Side,
    b: Side,
    rows: Vec<Row>,
    /// The row where the runs first part (its position in `rows`).
    first_difference: Option<usize>,
    files: Vec<File>,
    differing_files: usize,
    max_steps: usize,
}

struct Side {
    run: RunSummary,
    truncated: bool,
}

struct Row {
    /// A's step and B's, either missing where only the other run took it.
    cells: [Option<Cell>; 2],
    differs: bool,
}

struct Cell {
    index: u64,
    id: String,
    event_type: String,
    status: &'static str,
    summary: String,
}

struct File {
    path: String,
    /// `only-a`, `only-b`, `same`, `different` or `unknown`.
    class: &'static str,
    label: String,
    /// The diff from A to B, line by line with its class (`add`, `del`,
    /// `hunk` or none).
    diff: Vec<(&'static str, String)>,
}

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(run_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    viewer.require(Permission::Read)?;
    let mut params = Params::parse(raw.as_deref())?;
    let other = params.take("with").ok_or_else(|| {
        ApiError::bad_request(
            "invalid_parameter",
            "name the run to compare with: /runs/{id}/compare?with=OTHER",
        )
    })?;
    params.finish()?;
    let tenant = viewer.principal.tenant.clone();
    let title = format!("Run {run_id} compared with {other}");
    let c = state
        .blocking(move |store| compare_runs(store, &tenant, &run_id, &other))
        .await?;
    let rows = c
        .rows
        .iter()
        .map(|row| {
            let (a, b) = c.pair(*row);
            Row {
                cells: [a.map(cell), b.map(cell)],
                differs: c.differs(*row),
            }
        })
        .collect();
    let (a, b) = (&c.a.run.run_id, &c.b.run.run_id);
    let files: Vec<File> = c
        .files
        .iter()
        .map(|(path, outcome)| file(path, outcome, a, b))
        .collect();
    render(&ComparePage {
        chrome: viewer.chrome(title, "runs"),
        differing_files: files.iter().filter(|f| f.class != "same").count(),
        first_difference: c.first_difference(),
        rows,
        files,
        a: side(&c.a),
        b: side(&c.b),
        max_steps: MAX_COMPARED_STEPS,
    })
}

fn side(r: &ComparedRun) -> Side {
    Side {
        run: r.run.clone(),
        truncated: r.truncated(),
    }
}

fn cell(s: &ComparedStep) -> Cell {
    Cell {
        index: s.index,
        id: s.id.clone(),
        event_type: s.key.event_type.clone(),
        status: s.status.as_str(),
        summary: format::summary(&s.event),
    }
}

fn file(path: &str, outcome: &FileOutcome, a: &str, b: &str) -> File {
    let (class, label, diff) = match outcome {
        FileOutcome::OnlyA => ("only-a", format!("only in {a}"), ""),
        FileOutcome::OnlyB => ("only-b", format!("only in {b}"), ""),
        FileOutcome::Same => ("same", "the same in both".to_owned(), ""),
        FileOutcome::Different(diff) => ("different", "ended different".to_owned(), diff.as_str()),
        FileOutcome::Unknown => (
            "unknown",
            "not comparable: a run never saw all of it".to_owned(),
            "",
        ),
    };
    File {
        path: path.to_owned(),
        class,
        label,
        diff: diff
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let class = match line.as_bytes().first() {
                    _ if i < 2 => "", // the `--- a/…` and `+++ b/…` lines
                    Some(b'+') => "add",
                    Some(b'-') => "del",
                    Some(b'@') => "hunk",
                    _ => "",
                };
                (class, line.to_owned())
            })
            .collect(),
    }
}
