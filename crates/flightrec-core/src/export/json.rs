//! `json`: `{"title", "run_id", "exported_at", "events": [...]}`, written
//! as it goes.

use super::{Subject, Writer};
use serde_json::{Value, json};

#[derive(Default)]
pub struct Json {
    any: bool,
}

impl Writer for Json {
    fn head(&mut self, s: &Subject) -> String {
        let head =
            json!({"title": s.title, "run_id": s.run_id, "exported_at": s.exported_at}).to_string();
        // `{…}` less its closing brace, then the events array.
        format!("{},\"events\":[", &head[..head.len() - 1])
    }

    fn event(&mut self, event: &Value) -> String {
        let sep = if self.any { ",\n" } else { "\n" };
        self.any = true;
        format!("{sep}{event}")
    }

    fn tail(&mut self) -> String {
        "\n]}\n".into()
    }
}
