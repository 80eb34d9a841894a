//! The `add-checkpoint` call of C2SP tlog-witness
//! (<https://c2sp.org/tlog-witness>, "add-checkpoint"): the request body, the
//! 409 body, and every refusal with the status the spec gives it.
//!
//! ```text
//! POST <submission prefix>/add-checkpoint
//!
//! old <size the client believes the witness has>\n
//! <base64 consistency proof hash>\n        zero to 63 of these
//! \n
//! <signed checkpoint note>
//! ```
//!
//! Parsing is strict: every line ends in `\n` (no `\r`), the old size is
//! canonical decimal, each proof line is the padded base64 of exactly 32
//! bytes, and the note's text is a canonical checkpoint followed by a
//! non-empty block of signature lines. Anything else is a 400, before the
//! origin is even looked up.
//!
//! Not here: checking signatures, sizes or proofs against what the witness
//! knows (see [`crate::witness`]).

use axum::http::StatusCode;
use flightrec_core::log::{Checkpoint, Hash, LogError};

use crate::Error;

/// The spec's limit on consistency proof lines: a client MUST NOT send more.
pub const MAX_PROOF_HASHES: usize = 63;
/// The largest request body the witness reads. A checkpoint with a few
/// signatures and a full proof is under 4 KiB.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// The content type of a 409 body: the witness's size in decimal and `\n`.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The signature line prefix of signed notes: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A well-formed add-checkpoint request. Nothing in it is authenticated yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest<'a> {
    /// The size the client believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, exactly as sent.
    pub signed_checkpoint: &'a str,
    /// Its text, parsed; the signatures are not checked yet.
    pub checkpoint: Checkpoint,
}

impl<'a> AddCheckpointRequest<'a> {
    /// Parses a request body strictly (see the module doc).
    pub fn parse(body: &'a [u8]) -> Result<AddCheckpointRequest<'a>, AddCheckpointError> {
        let body = std::str::from_utf8(body).map_err(|_| malformed("the body is not UTF-8"))?;
        if body.contains('\r') {
            return Err(malformed("lines must end in \\n alone, not \\r\\n"));
        }
        let (old_line, mut rest) = body
            .split_once('\n')
            .ok_or_else(|| malformed("no old size line"))?;
        let old_size = old_line
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or_else(|| {
                malformed("the first line must be `old <size>`, in decimal without leading zeros")
            })?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or_else(|| malformed("no empty line between the proof and the checkpoint"))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(malformed("more than 63 consistency proof lines"));
            }
            let hash = Hash::from_base64(line).map_err(|_| {
                malformed(&format!(
                    "consistency proof line {} is not the base64 of a 32-byte hash",
                    proof.len() + 1
                ))
            })?;
            proof.push(hash);
        }
        let checkpoint = parse_note_form(rest)?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            signed_checkpoint: rest,
            checkpoint,
        })
    }

    /// The request body: what [`Self::parse`] reads back.
    pub fn encode(old_size: u64, proof: &[Hash], signed_checkpoint: &str) -> String {
        let mut body = format!("old {old_size}\n");
        for hash in proof {
            body.push_str(&hash.to_base64());
            body.push('\n');
        }
        body.push('\n');
        body.push_str(signed_checkpoint);
        body
    }
}

/// Checks the form of a signed checkpoint note, so a malformed one is a 400
/// rather than an unknown origin: checkpoint text, an empty line, and one or
/// more lines that start like signature lines. Returns the parsed text.
/// The signature lines themselves are read when the note is opened.
fn parse_note_form(note: &str) -> Result<Checkpoint, AddCheckpointError> {
    let (text, signatures) = note
        .rsplit_once("\n\n")
        .ok_or_else(|| malformed("the checkpoint has no empty line before its signatures"))?;
    let checkpoint = Checkpoint::parse(&format!("{text}\n"))
        .map_err(|e| malformed(&format!("the checkpoint text: {e}")))?;
    let signatures = signatures
        .strip_suffix('\n')
        .ok_or_else(|| malformed("the checkpoint's last line does not end in a newline"))?;
    if signatures.is_empty() {
        return Err(malformed("the checkpoint has no signature lines"));
    }
    if !signatures
        .split('\n')
        .all(|line| line.starts_with(SIGNATURE_PREFIX))
    {
        return Err(malformed(
            "a line after the checkpoint is not a signature line",
        ));
    }
    Ok(checkpoint)
}

/// The body of a 409: the witness's size in decimal and a newline.
pub fn encode_size(size: u64) -> String {
    format!("{size}\n")
}

/// Reads a 409 body strictly: canonical decimal and a newline.
pub fn parse_size(body: &str) -> Option<u64> {
    body.strip_suffix('\n').and_then(parse_decimal)
}

/// ASCII decimal, no sign, no leading zeros except `0` itself, within u64.
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

fn malformed(reason: &str) -> AddCheckpointError {
    AddCheckpointError::Malformed(reason.to_owned())
}

/// Why a witness refused to cosign, each with the HTTP status tlog-witness
/// assigns it ([`AddCheckpointError::status`]).
#[derive(Debug, thiserror::Error)]
pub enum AddCheckpointError {
    /// 400: the body is not an add-checkpoint request.
    #[error("malformed request: {0}")]
    Malformed(String),

    /// 400: "The old size MUST be equal to or lower than the checkpoint size".
    #[error("old size {old_size} is larger than the checkpoint's size {size}")]
    OldSizeAboveCheckpoint { old_size: u64, size: u64 },

    /// 404: the checkpoint's origin is not a log this witness follows.
    #[error("this witness does not follow a log with origin {origin:?}")]
    UnknownLog { origin: String },

    /// 403: no signature verifies against the log's key.
    #[error("the checkpoint is not signed by the log's key: {0}")]
    NotSignedByLog(LogError),

    /// 409: the old size is not the size of the latest checkpoint the
    /// witness cosigned for this log (0 if none).
    #[error("old size {old_size} is not the size this witness last cosigned, {witness_size}")]
    StaleOldSize { old_size: u64, witness_size: u64 },

    /// 409: the checkpoint has the size the witness last cosigned, but
    /// another root hash. Two views of one log: evidence of a fork.
    #[error(
        "this witness cosigned a different root hash for size {size}; \
         the log has shown two different trees of that size"
    )]
    RootMismatch { size: u64 },

    /// 422: the consistency proof does not show that the checkpoint extends
    /// the tree the witness last cosigned.
    #[error("the consistency proof from size {old_size} to {size} does not verify: {reason}")]
    InconsistentProof {
        old_size: u64,
        size: u64,
        reason: LogError,
    },

    /// 500: the checkpoint was acceptable but the witness could not record
    /// it durably (or could not sign), so it does not cosign.
    #[error("the witness could not record the checkpoint: {0}")]
    Internal(#[from] Error),
}

impl AddCheckpointError {
    /// The HTTP status tlog-witness gives this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            AddCheckpointError::Malformed(_)
            | AddCheckpointError::OldSizeAboveCheckpoint { .. } => StatusCode::BAD_REQUEST,
            AddCheckpointError::UnknownLog { .. } => StatusCode::NOT_FOUND,
            AddCheckpointError::NotSignedByLog(_) => StatusCode::FORBIDDEN,
            AddCheckpointError::StaleOldSize { .. } | AddCheckpointError::RootMismatch { .. } => {
                StatusCode::CONFLICT
            }
            AddCheckpointError::InconsistentProof { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AddCheckpointError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// For a 409, the size the witness holds: the body the spec requires.
    pub fn witness_size(&self) -> Option<u64> {
        match self {
            AddCheckpointError::StaleOldSize { witness_size, .. } => Some(*witness_size),
            AddCheckpointError::RootMismatch { size } => Some(*size),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example request body of c2sp.org/tlog-witness, "add-checkpoint":
    /// four proof lines and a checkpoint with two signatures.
    const SPEC_EXAMPLE: &str = "old 20852014\n\
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\
        \n\
        example.com/behind-the-sofa\n\
        20852163\n\
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
        \n\
        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

    #[test]
    fn parses_the_spec_example_and_encodes_it_back() {
        let request = AddCheckpointRequest::parse(SPEC_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(request.old_size, 20852014);
        assert_eq!(request.proof.len(), 4);
        assert_eq!(
            request.proof[0].to_base64(),
            "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
        );
        assert_eq!(request.checkpoint.origin(), "example.com/behind-the-sofa");
        assert_eq!(request.checkpoint.size(), 20852163);
        assert!(
            request
                .signed_checkpoint
                .starts_with("example.com/behind-the-sofa\n")
        );
        let again = AddCheckpointRequest::encode(
            request.old_size,
            &request.proof,
            request.signed_checkpoint,
        );
        assert_eq!(again, SPEC_EXAMPLE);
    }

    #[test]
    fn an_empty_proof_and_old_zero() {
        let body = SPEC_EXAMPLE.split_once("\n\n").unwrap().1;
        let body = format!("old 0\n\n{body}");
        let request = AddCheckpointRequest::parse(body.as_bytes()).unwrap();
        assert_eq!(request.old_size, 0);
        assert!(request.proof.is_empty());
    }

    #[test]
    fn sixty_three_proof_lines_are_read_and_sixty_four_refused() {
        let note = SPEC_EXAMPLE.split_once("\n\n").unwrap().1;
        let hash = Hash([7; 32]);
        let ok = AddCheckpointRequest::encode(1, &[hash; 63], note);
        assert_eq!(
            AddCheckpointRequest::parse(ok.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
        let too_many = AddCheckpointRequest::encode(1, &[hash; 64], note);
        let err = AddCheckpointRequest::parse(too_many.as_bytes()).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{err}");
    }

    #[test]
    fn size_bodies() {
        assert_eq!(encode_size(0), "0\n");
        assert_eq!(parse_size("20852014\n"), Some(20852014));
        assert_eq!(parse_size(&encode_size(u64::MAX)), Some(u64::MAX));
        for bad in [
            "",
            "\n",
            "12",
            "012\n",
            "-1\n",
            "1 \n",
            "18446744073709551616\n",
            "1\n\n",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}
