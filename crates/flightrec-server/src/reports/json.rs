//! A report as JSON (`docs/report.schema.json`): rows as objects keyed by
//! their columns' names.

use super::document::Document;
use serde_json::{Map, Value, json};

pub fn write(doc: &Document) -> Vec<u8> {
    let sections: Vec<Value> = doc
        .sections
        .iter()
        .map(|section| {
            let rows: Vec<Value> = section
                .rows
                .iter()
                .map(|row| {
                    let cells: Map<String, Value> = section
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(column, cell)| ((*column).to_owned(), cell.clone()))
                        .collect();
                    Value::Object(cells)
                })
                .collect();
            json!({
                "title": section.title,
                "columns": section.columns,
                "rows": rows,
                "note": section.note,
            })
        })
        .collect();
    let report = json!({
        "report": {
            "id": doc.id,
            "type": doc.report_type,
            "title": doc.title,
            "tenant": doc.tenant,
            "from": doc.from,
            "to": doc.to,
            "generated_at": doc.generated_at,
        },
        "basis": doc.basis.to_json(),
        "sections": sections,
    });
    let mut out = serde_json::to_vec_pretty(&report).expect("a JSON value serialises");
    out.push(b'\n');
    out
}
