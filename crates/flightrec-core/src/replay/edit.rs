//! What an edit leaves of a file, from the content before it: the shared
//! rule of the fold and of anything that re-runs edits.

use super::diff::apply_unified_diff;
use super::fold::text_in;
use serde_json::Value;

/// Why an edit left no known content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub message: String,
    /// True when the file is as it was (the edit could not apply); false
    /// when its new content is unknown.
    pub unchanged: bool,
}

/// The content of `path` after an edit whose `input` carries the whole new
/// content (`content`, `new_content`; else `after`), or `old_str` +
/// `new_str` (also `old_string` / `new_string`, with `replace_all`), or a
/// unified diff (`diff`, `patch`, `unified_diff`). `before` is the content
/// before it, when known.
pub fn edited(
    path: &str,
    before: Option<&str>,
    input: Option<&Value>,
    after: Option<String>,
) -> Result<String, EditError> {
    let fail = |message: String, unchanged: bool| EditError { message, unchanged };
    if let Some(c) = text_in(input, &["content", "new_content"]).or(after) {
        return Ok(c);
    }
    let old_str = text_in(input, &["old_str", "old_string"]);
    let new_str = text_in(input, &["new_str", "new_string"]);
    if let (Some(old), Some(new)) = (&old_str, &new_str) {
        return match before {
            None => Err(fail(
                format!(
                    "edit of {path}, whose content the run never saw; its new content is unknown"
                ),
                false,
            )),
            Some(text) if old.is_empty() || !text.contains(old.as_str()) => Err(fail(
                format!("edit of {path} failed: old_str was not found in the file"),
                true,
            )),
            Some(text) => {
                let all = input
                    .and_then(|i| i.get("replace_all"))
                    .and_then(Value::as_bool)
                    == Some(true);
                Ok(if all {
                    text.replace(old.as_str(), new)
                } else {
                    text.replacen(old.as_str(), new, 1)
                })
            }
        };
    }
    if let Some(p) = text_in(input, &["diff", "patch", "unified_diff"]) {
        // A patch that creates the file applies to nothing.
        let base = before.or_else(|| creates_file(&p).then_some(""));
        return match base {
            None => Err(fail(
                format!(
                    "edit of {path}, whose content the run never saw; the diff cannot be applied"
                ),
                false,
            )),
            Some(text) => apply_unified_diff(text, &p)
                .map_err(|e| fail(format!("edit of {path} failed: {e}"), true)),
        };
    }
    Err(fail(
        format!("edit_file of {path} carries no new content, old_str/new_str or diff"),
        false,
    ))
}

/// Whether a unified diff only adds lines to an empty file.
fn creates_file(patch: &str) -> bool {
    patch.lines().any(|l| l.starts_with("@@ -0,0 "))
        && !patch
            .lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---"))
}
