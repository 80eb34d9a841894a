//! A report as one self-contained HTML page (no script, no request to
//! anywhere): its basis, with the signed checkpoint, then a table per
//! section.

use super::document::{Document, cell_text};
use flightrec_core::export::html_escape as escape;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2433}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 6px}\
.meta{color:#555;margin:0 0 12px}.basis{padding:8px 12px;border-left:4px solid #2d7d46;background:#f3f8f4}\
.basis.failed{border-color:#b42318;background:#fdf3f2}pre{font-size:11px;white-space:pre-wrap;word-break:break-all}\
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #dde1e6;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f6f7f9}td.n{text-align:right}.note{color:#555;font-size:12px}";

pub fn write(doc: &Document) -> Vec<u8> {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} — flightrec</title><style>{STYLE}</style></head><body>\n\
         <h1>{title}</h1>\n<p class=\"meta\">Tenant {tenant} · {from} to {to} · generated {at} · report {id}</p>\n",
        title = escape(doc.title),
        tenant = escape(&doc.tenant),
        from = escape(doc.from.as_deref().unwrap_or("the beginning")),
        to = escape(doc.to.as_deref().unwrap_or("now")),
        at = escape(&doc.generated_at),
        id = escape(&doc.id),
    );
    out.push_str(&format!(
        "<div class=\"basis{}\"><p>{}</p><details><summary>Signed checkpoint</summary><pre>{}</pre></details></div>\n",
        if doc.basis.verified() { "" } else { " failed" },
        escape(&doc.basis.summary()),
        escape(&doc.basis.signed_checkpoint),
    ));
    for section in &doc.sections {
        out.push_str(&format!(
            "<h2>{}</h2>\n<table><thead><tr>",
            escape(section.title)
        ));
        for column in &section.columns {
            out.push_str(&format!("<th>{}</th>", escape(column)));
        }
        out.push_str("</tr></thead><tbody>\n");
        for row in &section.rows {
            out.push_str("<tr>");
            for cell in row {
                let class = if cell.is_number() { " class=\"n\"" } else { "" };
                out.push_str(&format!("<td{class}>{}</td>", escape(&cell_text(cell))));
            }
            out.push_str("</tr>\n");
        }
        if section.rows.is_empty() {
            out.push_str(&format!(
                "<tr><td colspan=\"{}\">None in this window.</td></tr>\n",
                section.columns.len()
            ));
        }
        out.push_str("</tbody></table>\n");
        if let Some(note) = &section.note {
            out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(note)));
        }
    }
    out.push_str("</body></html>\n");
    out.into_bytes()
}
