//! An executor that re-runs a run's file actions in a directory: writes,
//! edits (whole content, `old_str`/`new_str`, unified diff) and deletes, as
//! the agent made them. Replaying a run into an empty directory rebuilds
//! the files it wrote; replaying into a checkout shows whether its edits
//! still apply.

use crate::executor::{Action, Executor, Outcome};
use flightrec_core::replay::{FILE_OPERATIONS, FILE_PATH_KEYS, edited};
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Component, Path, PathBuf};

/// Re-runs file actions under `root`; other actions are skipped.
#[derive(Debug, Clone)]
pub struct WorkspaceExecutor {
    root: PathBuf,
    strip_prefix: Option<PathBuf>,
}

impl WorkspaceExecutor {
    pub fn new(root: impl Into<PathBuf>) -> WorkspaceExecutor {
        WorkspaceExecutor {
            root: root.into(),
            strip_prefix: None,
        }
    }

    /// Recorded paths under `prefix` (the agent's own working directory)
    /// land at the same place under the root.
    pub fn strip_prefix(mut self, prefix: impl Into<PathBuf>) -> WorkspaceExecutor {
        self.strip_prefix = Some(prefix.into());
        self
    }

    /// Where a recorded path lands: inside the root, or an error for a path
    /// that would leave it.
    fn place(&self, recorded: &str) -> Result<PathBuf, String> {
        let mut path = Path::new(recorded);
        if let Some(prefix) = &self.strip_prefix {
            path = path.strip_prefix(prefix).unwrap_or(path);
        }
        let mut inside = PathBuf::new();
        for part in path.components() {
            match part {
                Component::Normal(p) => inside.push(p),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    return Err(format!("{recorded} leaves the workspace (..)"));
                }
            }
        }
        if inside.as_os_str().is_empty() {
            return Err(format!("{recorded:?} names no file"));
        }
        Ok(self.root.join(inside))
    }

    fn run(&self, a: &Action) -> Outcome {
        let changes_a_file =
            a.event_type != "read_file" && FILE_OPERATIONS.contains(&a.event_type.as_str());
        if !changes_a_file {
            return Outcome::Skip("not a file action".into());
        }
        let Some(recorded) = FILE_PATH_KEYS
            .iter()
            .find_map(|k| a.input.get(*k)?.as_str())
        else {
            return Outcome::Fail("the action names no file (input.path)".into());
        };
        let target = match self.place(recorded) {
            Ok(t) => t,
            Err(why) => return Outcome::Fail(why),
        };
        let result = match a.event_type.as_str() {
            "write_file" => match text(&a.input, &["content", "text"]) {
                Some(c) => write(&target, c),
                None => Err("the write carries no content".into()),
            },
            "edit_file" | "file_edit" => {
                let before = std::fs::read_to_string(&target).ok();
                match edited(recorded, before.as_deref(), Some(&a.input), None) {
                    Ok(after) => write(&target, &after),
                    Err(e) => Err(e.message),
                }
            }
            "delete_file" => std::fs::remove_file(&target)
                .map(|()| json!({"deleted": recorded}))
                .map_err(|e| format!("could not delete {recorded}: {e}")),
            _ => unreachable!("file actions only, above"),
        };
        match result {
            Ok(v) => Outcome::Ok(v),
            Err(why) => Outcome::Fail(why),
        }
    }
}

impl Executor for WorkspaceExecutor {
    fn execute(&mut self, action: &Action) -> impl Future<Output = Outcome> + Send {
        let outcome = self.run(action);
        async move { outcome }
    }
}

fn text<'a>(input: &'a Value, keys: &[&str]) -> Option<&'a str> {
    match input {
        Value::String(s) => Some(s),
        _ => keys.iter().find_map(|k| input.get(*k)?.as_str()),
    }
}

fn write(target: &Path, content: &str) -> Result<Value, String> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    std::fs::write(target, content)
        .map(|()| json!({"bytes": content.len()}))
        .map_err(|e| format!("could not write {}: {e}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let w = WorkspaceExecutor::new("/ws").strip_prefix("/home/agent/repo");
        assert_eq!(w.place("src/a.rs").unwrap(), Path::new("/ws/src/a.rs"));
        assert_eq!(
            w.place("/home/agent/repo/src/a.rs").unwrap(),
            Path::new("/ws/src/a.rs")
        );
        assert_eq!(w.place("/etc/passwd").unwrap(), Path::new("/ws/etc/passwd"));
        assert!(w.place("../outside").is_err());
        assert!(w.place("src/../../x").is_err());
        assert!(w.place("/").is_err());
    }
}
