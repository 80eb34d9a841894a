//! C2SP transparency log proofs (`c2sp.org/tlog-proof@v1`,
//! <https://c2sp.org/tlog-proof>): one self-contained text file that proves
//! an entry is in a log, checkable offline against the log's key, its
//! origin, and a policy of trusted witnesses.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 extra data>          (optional)
//! index <decimal entry index>
//! <base64 hash>                      (zero or more: the RFC 6962 audit path,
//! ...                                 leaf's sibling first)
//!                                    (one empty line)
//! <signed checkpoint note, verbatim, with any cosignatures>
//! ```
//!
//! Every line ends in a newline; the index has no leading zeros. Files are
//! conventionally named `*.tlog-proof`.
//!
//! Not here: finding the proof or fetching the checkpoint (the server),
//! choosing which witnesses to trust (the caller's policy), or giving the
//! extra data any meaning. The extra data is NOT authenticated: nothing
//! signs it, and [`verify_proof_file`] ignores it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::cosignature::{CosignatureVerifier, require_cosignatures};
use super::note::{Verifier, is_valid_key_name};
use super::{Checkpoint, Hash, InclusionProof, LogError, leaf_hash, open_checkpoint};

/// The first line of every proof file.
pub const PROOF_FILE_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Files larger than this are refused unread: a checkpoint note is at most
/// 1 MB (see [`super::note`]), and the rest is small.
const MAX_PROOF_FILE_BYTES: usize = 2_000_000;
/// An audit path in a tree of at most 2^64 leaves has at most 64 hashes.
const MAX_PROOF_HASHES: usize = 64;

/// One entry's proof of inclusion, as a tlog-proof file holds it.
///
/// [`ProofFile::parse`] checks the form; only [`verify_proof_file`] says
/// whether it proves anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofFile {
    /// The entry's zero-based index in the log.
    pub index: u64,
    /// Opaque, unauthenticated application data; `Some(vec![])` is written
    /// as a bare `extra ` line, `None` as no line at all.
    pub extra: Option<Vec<u8>>,
    /// The inclusion proof (audit path) in the checkpoint's tree, leaf's
    /// sibling first.
    pub proof: Vec<Hash>,
    /// The log's signed checkpoint note, verbatim, cosignatures included.
    pub checkpoint_note: String,
}

impl ProofFile {
    /// The file's text. The fields are written as they are; a checkpoint
    /// note that is not one gives a file that [`ProofFile::parse`] refuses.
    pub fn to_text(&self) -> String {
        let mut text = format!("{PROOF_FILE_HEADER}\n");
        if let Some(extra) = &self.extra {
            text.push_str("extra ");
            text.push_str(&BASE64.encode(extra));
            text.push('\n');
        }
        text.push_str(&format!("index {}\n", self.index));
        for hash in &self.proof {
            text.push_str(&hash.to_base64());
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint_note);
        text
    }

    /// Parses a proof file strictly: the exact form [`Self::to_text`] writes,
    /// with canonical base64 and decimal, every line newline-terminated, no
    /// carriage returns, and a checkpoint note whose text is a checkpoint
    /// and which has at least one well-formed signature line. Signatures are
    /// not checked here (see [`verify_proof_file`]).
    pub fn parse(text: &str) -> Result<ProofFile, LogError> {
        if text.len() > MAX_PROOF_FILE_BYTES {
            return Err(malformed(0, "file is too long"));
        }
        if let Some((n, _)) = text
            .split('\n')
            .enumerate()
            .find(|(_, line)| line.chars().any(|c| c < ' '))
        {
            return Err(malformed(
                n + 1,
                "line contains a control character other than newline",
            ));
        }
        let mut lines = Lines { rest: text, n: 0 };

        let header = lines.next_line()?;
        if header != PROOF_FILE_HEADER {
            return Err(malformed(
                lines.n,
                &format!("first line is not {PROOF_FILE_HEADER}"),
            ));
        }

        let mut line = lines.next_line()?;
        let extra = match line.strip_prefix("extra ") {
            Some(encoded) => {
                let bytes = BASE64
                    .decode(encoded)
                    .map_err(|_| malformed(lines.n, "extra data is not canonical base64"))?;
                line = lines.next_line()?;
                Some(bytes)
            }
            None if line.starts_with("extra") => {
                return Err(malformed(lines.n, "extra line is not `extra <base64>`"));
            }
            None => None,
        };

        let index = line
            .strip_prefix("index ")
            .ok_or_else(|| malformed(lines.n, "expected `index <entry index>`"))?;
        let index = parse_decimal(index).ok_or_else(|| {
            malformed(
                lines.n,
                "index is not a decimal number without leading zeros that fits in 64 bits",
            )
        })?;

        let mut proof = Vec::new();
        loop {
            if lines.rest.is_empty() {
                return Err(malformed(
                    lines.n + 1,
                    "no empty line after the proof hashes: the checkpoint is missing",
                ));
            }
            let line = lines.next_line()?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(malformed(
                    lines.n,
                    "more than 64 proof hashes, more than any 2^64-leaf tree needs",
                ));
            }
            let hash = Hash::from_base64(line).map_err(|_| {
                malformed(
                    lines.n,
                    "proof hash is not canonical base64 of 32 bytes (or the empty line before the checkpoint is missing)",
                )
            })?;
            proof.push(hash);
        }

        let first_checkpoint_line = lines.n + 1;
        check_note_form(lines.rest)
            .map_err(|reason| malformed(first_checkpoint_line, &format!("checkpoint: {reason}")))?;
        Ok(ProofFile {
            index,
            extra,
            proof,
            checkpoint_note: lines.rest.to_owned(),
        })
    }
}

/// The leaf a proof file is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf<'a> {
    /// The leaf's input bytes; hashed as RFC 9162 leaf hash.
    Input(&'a [u8]),
    /// The leaf hash itself, SHA-256(0x00 ‖ input).
    Hash(Hash),
}

impl Leaf<'_> {
    fn hash(self) -> Hash {
        match self {
            Leaf::Input(bytes) => leaf_hash(bytes),
            Leaf::Hash(hash) => hash,
        }
    }
}

/// Checks that `file` proves `leaf` is in the log named `origin`, and
/// returns the checkpoint it was proved against.
///
/// In order: the checkpoint must carry a valid signature by `log_verifier`
/// and name `origin`; every cosignature by a key in `witnesses` must verify,
/// and at least `threshold` distinct witnesses must have cosigned; the
/// inclusion proof must lead from the leaf at `file.index` to the
/// checkpoint's root. The extra data is not looked at.
pub fn verify_proof_file(
    file: &ProofFile,
    leaf: Leaf<'_>,
    log_verifier: &Verifier,
    origin: &str,
    witnesses: &[CosignatureVerifier],
    threshold: usize,
) -> Result<Checkpoint, LogError> {
    let checkpoint = open_checkpoint(
        &file.checkpoint_note,
        origin,
        std::slice::from_ref(log_verifier),
    )?;
    require_cosignatures(&file.checkpoint_note, witnesses, threshold)?;
    let proof = InclusionProof {
        leaf_index: file.index,
        tree_size: checkpoint.size(),
        hashes: file.proof.clone(),
    };
    super::verify_inclusion(leaf.hash(), &proof, checkpoint.root())?;
    Ok(checkpoint)
}

/// Newline-terminated lines, counted from 1.
struct Lines<'a> {
    rest: &'a str,
    n: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Result<&'a str, LogError> {
        self.n += 1;
        if self.rest.is_empty() {
            return Err(malformed(self.n, "file ends early"));
        }
        let (line, rest) = self
            .rest
            .split_once('\n')
            .ok_or_else(|| malformed(self.n, "line does not end with a newline"))?;
        self.rest = rest;
        Ok(line)
    }
}

/// ASCII decimal with no sign and no leading zeros (except "0" itself).
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// The signed checkpoint's form without its signatures' meaning: a
/// checkpoint text, an empty line, then one or more lines
/// `— <key name> <signature>`, each newline-terminated. Signature bytes are
/// checked when the note is opened, so a published example with elided
/// signatures still parses.
fn check_note_form(note: &str) -> Result<(), String> {
    if note.is_empty() {
        return Err("missing".into());
    }
    let (before, signatures) = note
        .rsplit_once("\n\n")
        .ok_or("no empty line between the checkpoint text and its signatures")?;
    Checkpoint::parse(&format!("{before}\n")).map_err(|e| e.to_string())?;
    let signatures = signatures
        .strip_suffix('\n')
        .ok_or("does not end with a newline")?;
    if signatures.is_empty() {
        return Err("no signature lines".into());
    }
    for line in signatures.split('\n') {
        let well_formed = line
            .strip_prefix("\u{2014} ")
            .and_then(|rest| rest.split_once(' '))
            .is_some_and(|(name, signature)| {
                is_valid_key_name(name) && !signature.is_empty() && !signature.contains(' ')
            });
        if !well_formed {
            return Err(format!("{line:?} is not a signature line"));
        }
    }
    Ok(())
}

fn malformed(line: usize, reason: &str) -> LogError {
    LogError::MalformedProofFile {
        line,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::cosignature::CosignatureSigner;
    use crate::log::{MemoryTiles, RightEdge, Signer, cosign, inclusion_proof, sign_checkpoint};

    /// A log of 7 entries, a signed and cosigned checkpoint, and the proof
    /// file for entry 3.
    fn fixture() -> (ProofFile, Signer, CosignatureSigner) {
        let mut edge = RightEdge::empty();
        for i in 0..7u8 {
            edge.push(leaf_hash(&[i]));
        }
        let mut tiles = MemoryTiles::new();
        tiles.apply(&edge);
        let log = Signer::from_seed("log.example/a", [1; 32]).unwrap();
        let witness = CosignatureSigner::from_seed("w.example", [2; 32]).unwrap();
        let cp = Checkpoint::new("log.example/a", 7, edge.root()).unwrap();
        let note = sign_checkpoint(&cp, &log).unwrap();
        let note = format!(
            "{note}{}",
            cosign(&cp.to_text(), &witness, 1_700_000_000).unwrap()
        );
        let file = ProofFile {
            index: 3,
            extra: Some(b"context".to_vec()),
            proof: inclusion_proof(&tiles, 3, 7).unwrap().hashes,
            checkpoint_note: note,
        };
        (file, log, witness)
    }

    #[test]
    fn round_trip_and_verify() {
        let (file, log, witness) = fixture();
        let text = file.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 3\n"));
        let parsed = ProofFile::parse(&text).unwrap();
        assert_eq!(parsed, file);
        assert_eq!(parsed.to_text(), text);
        let cp = verify_proof_file(
            &parsed,
            Leaf::Input(&[3]),
            &log.verifier(),
            "log.example/a",
            &[witness.verifier()],
            1,
        )
        .unwrap();
        assert_eq!(cp.size(), 7);
        verify_proof_file(
            &parsed,
            Leaf::Hash(leaf_hash(&[3])),
            &log.verifier(),
            "log.example/a",
            &[],
            0,
        )
        .unwrap();
        for extra in [None, Some(vec![])] {
            let f = ProofFile {
                extra,
                ..file.clone()
            };
            assert_eq!(ProofFile::parse(&f.to_text()).unwrap(), f);
        }
    }

    #[test]
    fn errors_name_the_line() {
        let (file, _, _) = fixture();
        let text = file.to_text().replace("index 3", "index 03");
        let err = ProofFile::parse(&text).unwrap_err();
        assert!(
            matches!(err, LogError::MalformedProofFile { line: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("leading zeros"), "{err}");
    }
}
