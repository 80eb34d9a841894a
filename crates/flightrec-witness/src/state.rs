//! The witness's data directory: what survives a restart.
//!
//! ```text
//! <data dir>/
//!   flightrec-witness          marks the directory as a witness's, and its format
//!   lock                       locked for as long as a witness runs here
//!   witness-key                the private key (mode 0600), unless it comes from the environment
//!   logs/<sha256(origin)>      one per log: the latest cosigned tree, as checkpoint text
//! ```
//!
//! The contract, for every file here: a write is durable when the call
//! returns (file and directory fsynced), and atomic (written to a temporary
//! file, then renamed over the old one), so a crash leaves either the old
//! contents or the new, never a mix. A crash may leave a `*.tmp` file behind;
//! it is never read and is removed at the next start.
//!
//! A log's file is checkpoint note text (origin, size, root; no extension
//! lines, no signatures), so an operator can read it. A file that does not
//! parse, or names another origin, stops the witness from starting: treating
//! it as "never cosigned" would let the log roll back.
//!
//! Not here: deciding what to store (see [`crate::witness`]), serialising
//! requests for one log (the caller holds that log's lock across check and
//! [`DataDir::store`]), or where the key comes from (see
//! [`crate::witness::WitnessConfig`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use flightrec_core::log::{Checkpoint, Hash};
use sha2::{Digest as _, Sha256};

use crate::Error;

/// The marker file's name and its only contents this version knows.
const MARKER: &str = "flightrec-witness";
const MARKER_CONTENTS: &str = "flightrec witness data directory, format 1\n";
const LOCK: &str = "lock";
pub(crate) const KEY_FILE: &str = "witness-key";
const LOGS: &str = "logs";
const TEMP_SUFFIX: &str = ".tmp";
/// A state file is ~150 bytes; anything much larger is not ours.
const MAX_STATE_BYTES: u64 = 64 * 1024;

/// The latest tree of a log that the witness cosigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
}

/// An open, locked data directory. The lock is released when this is
/// dropped, so a second witness on the same directory cannot start.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Opens the witness data directory at `path`, creating and marking it
    /// if it is missing or empty, and takes its lock.
    ///
    /// Refuses a directory that holds anything but is not marked as a
    /// witness's ([`Error::NotAWitnessDir`]), one marked with an unknown
    /// format, and one another process has locked. Removes temporary files
    /// left by a crash.
    pub fn open(path: &Path) -> Result<DataDir, Error> {
        let io = |action, path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io {
                action,
                path,
                source,
            }
        };
        create_private_dir(path).map_err(io("create the data directory", path))?;
        let marker = path.join(MARKER);
        let is_new = match fs::read_to_string(&marker) {
            Ok(found) if found == MARKER_CONTENTS => false,
            Ok(found) => {
                return Err(Error::UnknownFormat {
                    path: path.to_owned(),
                    found: found.chars().take(80).collect(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let first = fs::read_dir(path)
                    .map_err(io("list the data directory", path))?
                    .next()
                    .transpose()
                    .map_err(io("list the data directory", path))?;
                if let Some(entry) = first {
                    return Err(Error::NotAWitnessDir {
                        path: path.to_owned(),
                        found: entry.file_name().to_string_lossy().into_owned(),
                    });
                }
                true
            }
            Err(e) => return Err(io("read the marker file", &marker)(e)),
        };

        let lock_path = path.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("open the lock file", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: path.to_owned(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("lock", &lock_path)(e)),
        }

        let dir = DataDir {
            path: path.to_owned(),
            _lock: lock,
        };
        let logs = dir.logs_dir();
        create_private_dir(&logs).map_err(io("create the logs directory", &logs))?;
        if is_new {
            // The marker goes last: a crash before it leaves a directory
            // holding only a lock file and an empty logs/, which the next
            // start refuses, rather than a half-made witness it accepts.
            // Remove both to start again.
            write_atomically(path, MARKER, MARKER_CONTENTS.as_bytes(), 0o644)
                .map_err(io("write the marker file", &marker))?;
        }
        for folder in [path, logs.as_path()] {
            remove_temp_files(folder).map_err(io("remove temporary files in", folder))?;
        }
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The witness key file's path (it may not exist).
    pub fn key_path(&self) -> PathBuf {
        self.path.join(KEY_FILE)
    }

    /// Writes the key file atomically and durably, readable by its owner only.
    pub(crate) fn write_key_file(&self, contents: &str) -> Result<(), Error> {
        write_atomically(&self.path, KEY_FILE, contents.as_bytes(), 0o600).map_err(|source| {
            Error::Io {
                action: "write the witness key",
                path: self.key_path(),
                source,
            }
        })
    }

    /// The latest tree cosigned for `origin`, or `None` if the witness never
    /// cosigned a checkpoint of that log.
    pub fn load(&self, origin: &str) -> Result<Option<TreeHead>, Error> {
        let path = self.log_path(origin);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    action: "open",
                    path,
                    source,
                });
            }
        };
        let mut text = String::new();
        let read =
            io::Read::read_to_string(&mut io::Read::take(file, MAX_STATE_BYTES + 1), &mut text);
        let corrupt = |reason: String| Error::CorruptState {
            path: path.clone(),
            reason,
        };
        read.map_err(|e| corrupt(format!("not readable as text: {e}")))?;
        if text.len() as u64 > MAX_STATE_BYTES {
            return Err(corrupt("it is far too large".into()));
        }
        let checkpoint = Checkpoint::parse(&text).map_err(|e| corrupt(e.to_string()))?;
        if checkpoint.origin() != origin {
            return Err(corrupt(format!(
                "it is for origin {:?}, not {origin:?}",
                checkpoint.origin()
            )));
        }
        if !checkpoint.extensions().is_empty() {
            return Err(corrupt("it has extension lines".into()));
        }
        Ok(Some(TreeHead {
            size: checkpoint.size(),
            root: checkpoint.root(),
        }))
    }

    /// Records `head` as the latest tree cosigned for `origin`. Durable and
    /// atomic when it returns `Ok`. On `Err` the file holds either the old
    /// or the new tree.
    pub fn store(&self, origin: &str, head: TreeHead) -> Result<(), Error> {
        let text = Checkpoint::new(origin, head.size, head.root)?.to_text();
        let path = self.log_path(origin);
        let name = file_name(origin);
        write_atomically(&self.logs_dir(), &name, text.as_bytes(), 0o644).map_err(|source| {
            Error::Io {
                action: "write",
                path,
                source,
            }
        })
    }

    fn logs_dir(&self) -> PathBuf {
        self.path.join(LOGS)
    }

    fn log_path(&self, origin: &str) -> PathBuf {
        self.logs_dir().join(file_name(origin))
    }
}

/// A log's file name: the hex SHA-256 of its origin, as origins may hold
/// `/` and other characters no file name should.
fn file_name(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// Creates `path` (and its parents) if missing; new directories are private
/// to the owner.
fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Replaces `dir/name` with `contents`: write a temporary file, fsync it,
/// rename it over the old file, fsync the directory.
pub(crate) fn write_atomically(
    dir: &Path,
    name: &str,
    contents: &[u8],
    mode: u32,
) -> io::Result<()> {
    let temp = dir.join(format!("{name}{TEMP_SUFFIX}"));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, dir.join(name))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn remove_temp_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let ours = entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX)
            && entry.file_type()?.is_file();
        if ours {
            tracing::info!(path = %entry.path().display(), "removing a temporary file left by a crash");
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(size: u64, byte: u8) -> TreeHead {
        TreeHead {
            size,
            root: Hash([byte; 32]),
        }
    }

    #[test]
    fn stores_and_loads_per_origin() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        assert_eq!(dir.load("a.example/log").unwrap(), None);
        dir.store("a.example/log", head(5, 1)).unwrap();
        dir.store("b.example/log", head(7, 2)).unwrap();
        dir.store("a.example/log", head(9, 3)).unwrap();
        assert_eq!(dir.load("a.example/log").unwrap(), Some(head(9, 3)));
        assert_eq!(dir.load("b.example/log").unwrap(), Some(head(7, 2)));
        drop(dir);
        let again = DataDir::open(tmp.path()).unwrap();
        assert_eq!(again.load("a.example/log").unwrap(), Some(head(9, 3)));
    }

    #[test]
    fn a_second_open_is_refused_while_the_first_holds_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let first = DataDir::open(tmp.path()).unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        drop(first);
        DataDir::open(tmp.path()).unwrap();
    }

    #[test]
    fn a_foreign_directory_is_refused_and_told_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err();
        assert!(matches!(err, Error::NotAWitnessDir { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("notes.txt"), "{message}");
        assert!(message.contains("empty directory"), "{message}");
        // Nothing was written into it.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_unknown_format_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(MARKER), "format 99\n").unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err();
        assert!(matches!(err, Error::UnknownFormat { .. }), "{err}");
    }

    #[test]
    fn a_missing_directory_is_created_private() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("nested/witness");
        DataDir::open(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }

    #[test]
    fn a_corrupt_or_misplaced_state_file_is_refused_not_reset() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        dir.store("b.example/log", head(7, 2)).unwrap();
        let path = dir.log_path("a.example/log");
        for (name, contents) in [
            ("torn", b"a.example/log\n12".to_vec()),
            ("empty", Vec::new()),
            ("not utf-8", vec![0xff, 0xfe, b'\n']),
            (
                "another origin",
                fs::read(dir.log_path("b.example/log")).unwrap(),
            ),
        ] {
            fs::write(&path, contents).unwrap();
            let err = dir.load("a.example/log").unwrap_err();
            assert!(matches!(err, Error::CorruptState { .. }), "{name}: {err}");
            assert!(err.to_string().contains("backup"), "{name}: {err}");
        }
    }

    #[test]
    fn temporary_files_are_ignored_and_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        dir.store("a.example/log", head(5, 1)).unwrap();
        let torn = dir
            .logs_dir()
            .join(format!("{}{TEMP_SUFFIX}", file_name("a.example/log")));
        fs::write(&torn, "a.example/log\n9").unwrap();
        drop(dir);
        let dir = DataDir::open(tmp.path()).unwrap();
        assert!(!torn.exists());
        assert_eq!(dir.load("a.example/log").unwrap(), Some(head(5, 1)));
    }
}
