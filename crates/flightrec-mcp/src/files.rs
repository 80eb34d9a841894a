//! The file tools of well-known MCP filesystem servers (the reference
//! `@modelcontextprotocol/server-filesystem`, and any server naming its
//! tools the same way), seen as the file operations replay understands
//! (DESIGN §6): what a successful answer says about the file becomes a
//! `read_file`, `write_file` or `edit_file` event, so that the run's state
//! shows the files the agent had.
//!
//! | tool | arguments | the event |
//! |---|---|---|
//! | `read_text_file`, `read_file` | `path` (no `head`/`tail`) | `read_file`, `output.content` the text |
//! | `write_file` | `path`, `content` | `write_file`, as given |
//! | `edit_file` | `path`, `edits`, not `dryRun` | `edit_file`, `input.diff` the unified diff the server answered |
//!
//! A partial read (`head`/`tail`), a dry-run edit, or an answer without
//! the text these need is no file operation: it stays a `tool_result`.

use crate::events::result_text;
use serde_json::{Value, json};

/// A file operation a tool call's answer amounts to.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOperation {
    /// `read_file`, `write_file` or `edit_file`.
    pub event_type: &'static str,
    pub input: Value,
    pub output: Value,
}

/// The file operation of a successful call to `tool` with `arguments`
/// answered by `result`, if it is one.
pub fn file_operation(tool: &str, arguments: &Value, result: &Value) -> Option<FileOperation> {
    let path = arguments.get("path")?.as_str()?;
    match tool {
        "read_text_file" | "read_file" => {
            let partial = ["head", "tail"]
                .iter()
                .any(|k| arguments.get(*k).is_some_and(|v| !v.is_null()));
            if partial {
                return None;
            }
            let content = result
                .pointer("/structuredContent/content")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| result_text(result))?;
            Some(FileOperation {
                event_type: "read_file",
                input: json!({"path": path}),
                output: json!({"content": content}),
            })
        }
        "write_file" => {
            arguments.get("content")?.as_str()?;
            Some(FileOperation {
                event_type: "write_file",
                input: arguments.clone(),
                output: result.clone(),
            })
        }
        "edit_file" => {
            if arguments.get("dryRun").and_then(Value::as_bool) == Some(true) {
                return None;
            }
            let diff = unified_diff_in(&result_text(result)?)?;
            let mut input = arguments.clone();
            input["diff"] = json!(diff);
            Some(FileOperation {
                event_type: "edit_file",
                input,
                output: result.clone(),
            })
        }
        _ => None,
    }
}

/// The unified diff in an answer's text: the body of its ```` ```diff ````
/// block, or the text itself when it is a bare diff.
fn unified_diff_in(text: &str) -> Option<String> {
    let body = match text.split_once("```diff\n") {
        Some((_, rest)) => rest.rsplit_once("```").map_or(rest, |(body, _)| body),
        None => text,
    };
    body.lines()
        .any(|l| l.starts_with("@@ "))
        .then(|| body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_core::replay::edited;

    /// Answers as `@modelcontextprotocol/server-filesystem` 2026.8.31 gives
    /// them (captured from the real server).
    const EDIT_ANSWER: &str = "```diff\nIndex: /tmp/fsroot/a.txt\n===================================================================\n--- /tmp/fsroot/a.txt\toriginal\n+++ /tmp/fsroot/a.txt\tmodified\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n```\n\n";

    #[test]
    fn reads_writes_and_edits_become_file_operations() {
        let read = json!({"content": [{"type": "text", "text": "one\ntwo\nthree\n"}],
            "structuredContent": {"content": "one\ntwo\nthree\n"}, "isError": false});
        let op = file_operation(
            "read_text_file",
            &json!({"path": "/tmp/fsroot/a.txt"}),
            &read,
        )
        .unwrap();
        assert_eq!(op.event_type, "read_file");
        assert_eq!(op.output, json!({"content": "one\ntwo\nthree\n"}));
        // Older servers answer with text content only.
        let text_only = json!({"content": [{"type": "text", "text": "x"}]});
        assert_eq!(
            file_operation("read_file", &json!({"path": "a"}), &text_only)
                .unwrap()
                .output,
            json!({"content": "x"})
        );
        assert_eq!(
            file_operation("read_text_file", &json!({"path": "a", "head": 2}), &read),
            None,
            "a partial read is not the file's content"
        );

        let write = json!({"path": "/tmp/fsroot/a.txt", "content": "hi\n"});
        let op = file_operation("write_file", &write, &json!({"content": []})).unwrap();
        assert_eq!((op.event_type, &op.input), ("write_file", &write));

        let edit = json!({"path": "/tmp/fsroot/a.txt",
            "edits": [{"oldText": "two", "newText": "2"}]});
        let answer = json!({"content": [{"type": "text", "text": EDIT_ANSWER}]});
        let op = file_operation("edit_file", &edit, &answer).unwrap();
        assert_eq!(op.event_type, "edit_file");
        assert_eq!(op.input["edits"], edit["edits"]);
        // The diff applies as the fold applies it.
        assert_eq!(
            edited(
                "/tmp/fsroot/a.txt",
                Some("one\ntwo\nthree\n"),
                Some(&op.input),
                None
            )
            .unwrap(),
            "one\n2\nthree\n"
        );
        let mut dry = edit.clone();
        dry["dryRun"] = json!(true);
        assert_eq!(file_operation("edit_file", &dry, &answer), None);
        assert_eq!(
            file_operation("move_file", &json!({"path": "a"}), &answer),
            None
        );
    }
}
