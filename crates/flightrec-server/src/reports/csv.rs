//! A report as CSV (RFC 4180): `#` comment lines say what it is and what
//! it was built from; then each section as a `#` title line, a header row
//! and its rows, a blank line between sections. Readers that skip `#`
//! comments and allow rows of different lengths (e.g. Python's csv with a
//! filter, Rust's `csv` with `comment(Some(b'#'))` and `flexible(true)`)
//! read every table; a one-section report is plain CSV after its comments.

use super::document::{Document, cell_text};
use flightrec_core::export::csv_text_cell;

pub fn write(doc: &Document) -> Vec<u8> {
    let mut out = String::new();
    let comment = |out: &mut String, text: &str| {
        for line in text.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push_str("\r\n");
        }
    };
    comment(
        &mut out,
        &format!(
            "flightrec {} report {} of tenant {}, {} to {}, generated {}",
            doc.report_type,
            doc.id,
            doc.tenant,
            doc.from.as_deref().unwrap_or("the beginning"),
            doc.to.as_deref().unwrap_or("now"),
            doc.generated_at
        ),
    );
    comment(&mut out, &doc.basis.summary());
    comment(&mut out, "Signed checkpoint:");
    comment(&mut out, &doc.basis.signed_checkpoint);
    for section in &doc.sections {
        out.push_str("\r\n");
        comment(&mut out, section.title);
        let header: Vec<String> = section.columns.iter().map(|c| text_cell(c)).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &section.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    serde_json::Value::String(s) => text_cell(s),
                    other => cell_text(other),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        if let Some(note) = &section.note {
            comment(&mut out, note);
        }
    }
    out.into_bytes()
}

/// A text cell; one starting with `#` is quoted, so that a reader skipping
/// `#` comment lines never skips a row.
fn text_cell(text: &str) -> String {
    let cell = csv_text_cell(text);
    if cell.starts_with('#') {
        format!("\"{cell}\"")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::text_cell;

    #[test]
    fn no_cell_reads_as_a_comment_or_a_formula() {
        assert_eq!(text_cell("#ops"), "\"#ops\"");
        assert_eq!(text_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(text_cell("a, b"), "\"a, b\"");
        assert_eq!(text_cell("plain"), "plain");
    }
}
