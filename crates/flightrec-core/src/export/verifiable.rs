//! The verifiable export: one record per line with everything needed to
//! check it offline against a signed checkpoint and a public key, trusting
//! nothing from the server that wrote it.
//!
//! ```text
//! {"header":{…},"body":{…},"salt":"<hex>"}                 whole log from seq 0
//! {"header":{…},"body":{…},"salt":"<hex>","proof":{…}}     any subset, with proofs
//! {"header":{…},"body":null,"salt":null}                    an erased body
//! {"checkpoint":"<signed note>"}                            last lines, informational
//! {"public_key":"<vkey>"}
//! ```
//!
//! Lines without `proof` must run from seq 0 without a gap, and are checked
//! by rebuilding the tree; lines with one are checked by it alone.

use crate::jcs;
use crate::log::tree::RightEdge;
use crate::log::{InclusionProof, Verifier, open_checkpoint, verify_inclusion};
use crate::record::{Header, StoredRecord, body_hash};
use serde_json::Value;

/// One record line of an export (without its newline).
pub fn record_line(record: &StoredRecord, proof: Option<&InclusionProof>) -> String {
    let mut line = Vec::new();
    push_record_line(&mut line, record, proof);
    line.pop(); // the newline
    String::from_utf8(line).expect("records are UTF-8")
}

/// Appends one record line and its newline to `out`. The body goes in as
/// stored (its JCS text, already JSON), not parsed and written again.
pub fn push_record_line(out: &mut Vec<u8>, record: &StoredRecord, proof: Option<&InclusionProof>) {
    out.extend_from_slice(b"{\"header\":");
    record.header.write_json(out);
    out.extend_from_slice(b",\"body\":");
    out.extend_from_slice(record.body.as_deref().unwrap_or("null").as_bytes());
    out.extend_from_slice(b",\"salt\":");
    match record.salt {
        Some(salt) => {
            out.push(b'"');
            let at = out.len();
            out.resize(at + 2 * salt.len(), 0);
            hex::encode_to_slice(salt, &mut out[at..]).expect("the slice fits the salt");
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    if let Some(p) = proof {
        out.extend_from_slice(b",\"proof\":");
        serde_json::to_writer(&mut *out, p).expect("proofs serialise");
    }
    out.extend_from_slice(b"}\n");
}

/// What a verified export held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub records: u64,
    pub erased: u64,
    pub checkpoint_size: u64,
    pub origin: String,
}

/// Why an export did not verify: the line (from 1) and, where known, the
/// record's seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportMismatch {
    pub line: u64,
    pub seq: Option<u64>,
    pub reason: String,
}

impl std::fmt::Display for ExportMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "line {}, seq {seq}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Checks every record line against `checkpoint_note`, which must be signed
/// by `key` (whose name is the log's origin).
pub fn verify_export<I, E>(
    lines: I,
    checkpoint_note: &str,
    key: &Verifier,
) -> Result<ExportSummary, ExportMismatch>
where
    I: IntoIterator<Item = Result<String, E>>,
    E: std::fmt::Display,
{
    let origin = key.name().to_owned();
    let checkpoint =
        open_checkpoint(checkpoint_note, &origin, std::slice::from_ref(key)).map_err(|e| {
            ExportMismatch {
                line: 0,
                seq: None,
                reason: format!("the checkpoint is not valid for this key: {e}"),
            }
        })?;
    let tenant = origin.rsplit('/').next().unwrap_or_default().to_owned();
    let mut edge = RightEdge::empty();
    let mut contiguous = 0u64;
    let mut summary = ExportSummary {
        records: 0,
        erased: 0,
        checkpoint_size: checkpoint.size(),
        origin: origin.clone(),
    };
    let mut line_no = 0u64;
    for line in lines {
        line_no += 1;
        let fail = |seq: Option<u64>, reason: String| ExportMismatch {
            line: line_no,
            seq,
            reason,
        };
        let line = line.map_err(|e| fail(None, format!("could not read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(&line).map_err(|e| fail(None, format!("not JSON: {e}")))?;
        if value.get("checkpoint").is_some() || value.get("public_key").is_some() {
            continue;
        }
        let header = Header::from_json(&value["header"]).map_err(|e| fail(None, e))?;
        let seq = header.seq;
        let fail = |reason: String| fail(Some(seq), reason);
        if header.tenant != tenant {
            return Err(fail(format!(
                "the record belongs to tenant {:?}, not to the log {origin:?}",
                header.tenant
            )));
        }
        match (&value["body"], value["salt"].as_str()) {
            (Value::Null, None) => summary.erased += 1,
            (body, Some(salt)) if !body.is_null() => {
                let salt = hex::decode(salt).map_err(|_| fail("`salt` is not hex".into()))?;
                if body_hash(&salt, jcs::to_string(body).as_bytes()) != header.body_hash {
                    return Err(fail(
                        "the body does not hash to the header's body_hash".into(),
                    ));
                }
            }
            _ => {
                return Err(fail(
                    "`body` and `salt` must both be present or both null".into(),
                ));
            }
        }
        if seq >= checkpoint.size() {
            return Err(fail(format!(
                "the record is not covered by the checkpoint (size {})",
                checkpoint.size()
            )));
        }
        let leaf = header.leaf_hash();
        match value.get("proof") {
            Some(proof) => {
                let proof: InclusionProof = serde_json::from_value(proof.clone())
                    .map_err(|e| fail(format!("`proof` is malformed: {e}")))?;
                if proof.leaf_index != seq || proof.tree_size != checkpoint.size() {
                    return Err(fail("the proof is for another record or tree size".into()));
                }
                verify_inclusion(leaf, &proof, checkpoint.root())
                    .map_err(|e| fail(format!("the inclusion proof fails: {e}")))?;
            }
            None => {
                if seq != contiguous {
                    return Err(fail(format!(
                        "a line without a proof must continue the log from seq {contiguous}"
                    )));
                }
                edge.push(leaf);
                contiguous += 1;
            }
        }
        summary.records += 1;
    }
    if summary.records == 0 {
        // An export that checks nothing must not read as one that passed.
        return Err(ExportMismatch {
            line: line_no,
            seq: None,
            reason: "the export holds no records, so nothing in it could be verified".into(),
        });
    }
    if contiguous > 0 {
        if contiguous != checkpoint.size() {
            return Err(ExportMismatch {
                line: line_no,
                seq: None,
                reason: format!(
                    "the export holds {contiguous} records from seq 0, but the checkpoint covers {}",
                    checkpoint.size()
                ),
            });
        }
        if edge.root() != checkpoint.root() {
            return Err(ExportMismatch {
                line: line_no,
                seq: None,
                reason: "the records do not hash to the checkpoint's root".into(),
            });
        }
    }
    Ok(summary)
}
