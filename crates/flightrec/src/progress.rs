//! A progress line on stderr for long commands (verify, migrate): a bar
//! redrawn at most ten times a second, on a terminal only, so logs and
//! pipes get the command's results and nothing else.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct ProgressBar {
    enabled: bool,
    last: Option<Instant>,
    /// What the line now drawn is about; a new subject starts a new line.
    subject: String,
}

const WIDTH: u64 = 30;

impl ProgressBar {
    pub fn new() -> Self {
        ProgressBar {
            enabled: std::io::stderr().is_terminal(),
            last: None,
            subject: String::new(),
        }
    }

    /// Shows `done` of `total` for `subject` (e.g. "copying records").
    pub fn update(&mut self, subject: &str, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        let new_subject = subject != self.subject;
        if new_subject && self.last.is_some() {
            eprintln!();
        }
        // The last step of each subject is always drawn, so it ends full.
        let throttled = self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100));
        if throttled && !new_subject && done < total {
            return;
        }
        self.subject = subject.to_owned();
        self.last = Some(Instant::now());
        let filled = (done.min(total) * WIDTH / total.max(1)) as usize;
        eprint!(
            "\r{subject} [{}{}] {done}/{total}",
            "#".repeat(filled),
            " ".repeat(WIDTH as usize - filled),
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the line, if one was drawn.
    pub fn finish(&mut self) {
        if self.enabled && self.last.take().is_some() {
            eprintln!();
        }
    }
}
