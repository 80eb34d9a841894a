//! Printing listings for people.

use flightrec_core::export::printable;
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// Prints rows under a header, each column as wide as its widest cell on
/// screen (display width: a CJK character or an emoji takes two columns).
/// Cells are made printable first.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| printable(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.width()))))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A field as text fit for a terminal (see [`printable`]); `-` when
/// absent.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => printable(s),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// One line that says what an event was about: its message, content,
/// error, tool or input, shortened.
pub fn summary(event: &Value) -> String {
    let pick = [
        event["error"]["message"]
            .as_str()
            .map(|m| format!("error: {m}")),
        event["message"].as_str().map(str::to_owned),
        event["content"].as_str().map(str::to_owned),
        event["input"]["path"].as_str().map(str::to_owned),
        event["input"]["command"].as_str().map(|c| format!("$ {c}")),
        event["output"]["stdout"]
            .as_str()
            .map(|o| o.lines().last().unwrap_or("").to_owned()),
        event["tool"]
            .as_str()
            .or(event["verb"].as_str())
            .map(str::to_owned),
    ];
    let s = pick.into_iter().flatten().next().unwrap_or_default();
    shorten(&printable(&s), 72)
}

pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Who acted, briefly.
pub fn actor(event: &Value) -> String {
    let a = &event["actor"];
    printable(
        a["email"]
            .as_str()
            .or(a["id"].as_str())
            .or(event["agent_id"].as_str())
            .unwrap_or("-"),
    )
}

pub fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}
