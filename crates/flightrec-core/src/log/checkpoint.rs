//! The C2SP tlog-checkpoint note text (<https://c2sp.org/tlog-checkpoint>):
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]...
//! ```
//!
//! Not here: signing and signature checking (see [`super::note`], and
//! [`super::sign_checkpoint`] / [`super::open_checkpoint`] for the pair), or
//! deciding that a checkpoint's tree is consistent with an earlier one.

use super::{Hash, LogError};

/// A tree head: which log, how many leaves, and the root hash.
///
/// Fields are private so every `Checkpoint` is one that formats to valid
/// text; build it with [`Checkpoint::new`] or [`Checkpoint::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint with no extension lines. The origin must be a non-empty
    /// line without control characters.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, LogError> {
        check_line("origin", origin)?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// The same checkpoint with extension lines (each non-empty, no control
    /// characters). C2SP discourages them: monitors cannot audit them.
    pub fn with_extensions(mut self, extensions: Vec<String>) -> Result<Checkpoint, LogError> {
        for line in &extensions {
            check_line("extension line", line)?;
        }
        self.extensions = extensions;
        Ok(self)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn root(&self) -> Hash {
        self.root
    }

    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text, every line ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parses checkpoint note text strictly: exactly the form [`Self::to_text`]
    /// produces (final newline required, no blank lines, size in canonical
    /// decimal, root in canonical base64 of 32 bytes).
    pub fn parse(text: &str) -> Result<Checkpoint, LogError> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed("text does not end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_line("origin", origin)?;
        let size_line = lines.next().ok_or_else(|| malformed("no tree size line"))?;
        let size = parse_size(size_line)?;
        let root_line = lines.next().ok_or_else(|| malformed("no root hash line"))?;
        let root =
            Hash::from_base64(root_line).map_err(|e| malformed(&format!("root hash line: {e}")))?;
        let mut extensions = Vec::new();
        for line in lines {
            check_line("extension line", line)?;
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// ASCII decimal with no sign, no leading zeros (except "0" itself).
fn parse_size(line: &str) -> Result<u64, LogError> {
    let canonical = !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && (line == "0" || !line.starts_with('0'));
    if !canonical {
        return Err(malformed(&format!(
            "tree size {line:?} is not a decimal number without leading zeros"
        )));
    }
    line.parse()
        .map_err(|_| malformed(&format!("tree size {line:?} does not fit in 64 bits")))
}

fn check_line(what: &str, line: &str) -> Result<(), LogError> {
    if line.is_empty() {
        return Err(malformed(&format!("empty {what}")));
    }
    if line.chars().any(char::is_control) {
        return Err(malformed(&format!(
            "{what} {line:?} contains a control character"
        )));
    }
    Ok(())
}

fn malformed(reason: &str) -> LogError {
    LogError::MalformedCheckpoint {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_parses() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let cp = Checkpoint::parse(text).unwrap();
        assert_eq!(cp.origin(), "example.com/behind-the-sofa");
        assert_eq!(cp.size(), 20_852_163);
        assert_eq!(
            cp.root().to_base64(),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert_eq!(cp.to_text(), text);
    }

    #[test]
    fn extensions_round_trip() {
        let cp = Checkpoint::new("log.example/a", 0, Hash::EMPTY_TREE)
            .unwrap()
            .with_extensions(vec!["x y".into(), "z".into()])
            .unwrap();
        let text = cp.to_text();
        assert_eq!(
            text,
            "log.example/a\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nx y\nz\n"
        );
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
    }

    #[test]
    fn malformed_text_is_refused() {
        let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        for bad in [
            String::new(),
            "\n".to_owned(),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n1 \n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("o\n\n{root}\n"),
            "o\n1\n\n".to_owned(),
            "o\n1\n".to_owned(),
            "o\n1\nAAAA\n".to_owned(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
            format!("o\n1\n{root}\n\next\n"),
            format!("o\r\n1\n{root}\n"),
            format!("o\n1\n{root}\r\n"),
            format!("o\n1\n{root}\nex\tt\n"),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "accepted {bad:?}");
        }
        assert!(Checkpoint::new("", 1, Hash::EMPTY_TREE).is_err());
        assert!(Checkpoint::new("a\nb", 1, Hash::EMPTY_TREE).is_err());
        let cp = Checkpoint::new("a", 1, Hash::EMPTY_TREE).unwrap();
        assert!(cp.clone().with_extensions(vec![String::new()]).is_err());
        assert!(cp.with_extensions(vec!["a\nb".into()]).is_err());
    }
}
