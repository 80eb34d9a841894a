//! The log server's side of tlog-witness: submit a signed checkpoint and a
//! consistency proof to a witness, and check the cosignature that comes
//! back before anyone relies on it.
//!
//! A log configures its witnesses as one string (the `FLIGHTREC_WITNESSES`
//! variable): comma-separated entries of a submission URL prefix and the
//! witness's vkey, separated by spaces:
//!
//! ```text
//! https://w1.example/tlog https://w1.example/tlog+1a2b3c4d+BGk...,http://127.0.0.1:7380 w2+5e6f7a8b+BM3...
//! ```
//!
//! Not here: deciding which old size and proof to send (the log knows its
//! tree; on [`SubmitError::Conflict`] it resubmits from the witness's size),
//! retries and timeouts (set them on the `reqwest::Client` you pass in, and
//! its TLS too), or a threshold of witnesses (see
//! `flightrec_core::log::require_cosignatures`).

use flightrec_core::log::{CosignatureVerifier, Hash, verify_cosignatures};
use reqwest::Url;

use crate::add_checkpoint::{AddCheckpointRequest, MAX_PROOF_HASHES, parse_size};

/// A cosignature response is a few lines; more than this is not a witness.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How much of a refusal's body an error repeats.
const MAX_MESSAGE_CHARS: usize = 300;
/// The signature line prefix: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// One witness a log submits its checkpoints to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessClient {
    verifier: CosignatureVerifier,
    /// The submission prefix, without a trailing `/`.
    url: String,
}

/// Why a witness did not return a cosignature.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// 409: the witness last cosigned a tree of another size than the old
    /// size sent. Resubmit with `witness_size` as the old size and a proof
    /// from that size, if the log has a tree of that size.
    #[error(
        "the witness last cosigned size {witness_size}, not the old size sent; \
         resubmit with a consistency proof from size {witness_size}"
    )]
    Conflict { witness_size: u64 },

    /// Any other refusal, with the status and the start of the body. A 409
    /// whose size is the old size sent is here too: the witness cosigned
    /// another root at that size, so resubmitting cannot help.
    #[error("the witness refused the checkpoint with status {status}: {message}")]
    Rejected { status: u16, message: String },

    /// No HTTP answer: connection refused, timed out, or cut short.
    #[error("the witness at {url} is unreachable: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    /// The witness answered 200 without a valid cosignature by its key.
    #[error("the witness's answer is not a valid cosignature: {reason}")]
    InvalidResponse { reason: String },

    /// The request could not be made as asked (more than 63 proof hashes, a
    /// signed checkpoint that is not a note).
    #[error("cannot submit this checkpoint: {reason}")]
    InvalidRequest { reason: String },
}

/// A witness configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessConfigError {
    #[error("witness URL {url:?}: {reason}")]
    Url { url: String, reason: &'static str },

    #[error(
        "witness list entry {entry} ({text:?}): {reason}; each entry is \
         `<submission URL> <witness vkey>`, entries separated by commas"
    )]
    Entry {
        entry: usize,
        text: String,
        reason: String,
    },
}

impl WitnessClient {
    /// A witness at the submission prefix `url` (http or https, no
    /// credentials, query or fragment), trusted through `verifier`.
    pub fn new(
        url: &str,
        verifier: CosignatureVerifier,
    ) -> Result<WitnessClient, WitnessConfigError> {
        let bad = |reason| WitnessConfigError::Url {
            url: shown(url),
            reason,
        };
        let parsed = Url::parse(url).map_err(|_| bad("not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("not an http:// or https:// URL"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad("credentials in a witness URL are not supported"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad("a submission prefix has no query or fragment"));
        }
        Ok(WitnessClient {
            verifier,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    /// The witness's public key.
    pub fn verifier(&self) -> &CosignatureVerifier {
        &self.verifier
    }

    /// The submission prefix, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Submits `signed_checkpoint` with the consistency proof from
    /// `old_size` (the size the witness is believed to hold; 0 the first
    /// time) and returns the witness's cosignature line(s), each ending in
    /// `\n`, ready to append to the note.
    ///
    /// Every returned line has been verified with the witness's key against
    /// this checkpoint; lines by other keys in the answer are dropped, as
    /// the spec asks. A 200 without one valid cosignature by this witness is
    /// [`SubmitError::InvalidResponse`].
    pub async fn add_checkpoint(
        &self,
        http: &reqwest::Client,
        old_size: u64,
        proof: &[Hash],
        signed_checkpoint: &str,
    ) -> Result<String, SubmitError> {
        if proof.len() > MAX_PROOF_HASHES {
            return Err(SubmitError::InvalidRequest {
                reason: format!(
                    "{} consistency proof hashes, but the protocol allows at most {MAX_PROOF_HASHES}",
                    proof.len()
                ),
            });
        }
        let text = note_text(signed_checkpoint).ok_or_else(|| SubmitError::InvalidRequest {
            reason: "the signed checkpoint is not a signed note".to_owned(),
        })?;
        let url = format!("{}/add-checkpoint", self.url);
        let unreachable = |source| SubmitError::Unreachable {
            url: url.clone(),
            source,
        };
        let mut response = http
            .post(&url)
            .body(AddCheckpointRequest::encode(
                old_size,
                proof,
                signed_checkpoint,
            ))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SubmitError::Rejected {
                    status,
                    message: format!("the answer is longer than {MAX_RESPONSE_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        let body = String::from_utf8_lossy(&body);
        match status {
            200 => self.check_cosignatures(text, &body),
            409 => match parse_size(&body) {
                Some(witness_size) if witness_size != old_size => {
                    Err(SubmitError::Conflict { witness_size })
                }
                Some(size) => Err(SubmitError::Rejected {
                    status,
                    message: format!(
                        "the witness cosigned another root hash at size {size}: \
                         the log has shown two different trees of that size"
                    ),
                }),
                None => Err(SubmitError::Rejected {
                    status,
                    message: excerpt(&body),
                }),
            },
            _ => Err(SubmitError::Rejected {
                status,
                message: excerpt(&body),
            }),
        }
    }

    /// The lines of a 200 body that are valid cosignatures by this witness
    /// on `text`. Each line is checked on its own, against the bare text, so
    /// cosignatures already on the submitted note cannot stand in for it.
    fn check_cosignatures(&self, text: &str, body: &str) -> Result<String, SubmitError> {
        let invalid = |reason: String| SubmitError::InvalidResponse { reason };
        let lines = body
            .strip_suffix('\n')
            .ok_or_else(|| invalid(format!("it does not end in a newline: {}", excerpt(body))))?;
        let mut kept = String::new();
        for line in lines.split('\n') {
            if !line.starts_with(SIGNATURE_PREFIX) {
                return Err(invalid(format!(
                    "a line is not a signature line: {}",
                    excerpt(line)
                )));
            }
            let note = format!("{text}\n{line}\n");
            let found = verify_cosignatures(&note, std::slice::from_ref(&self.verifier))
                .map_err(|e| invalid(e.to_string()))?;
            if !found.is_empty() {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        if kept.is_empty() {
            return Err(invalid(format!(
                "no cosignature by {} among its lines",
                self.verifier
            )));
        }
        Ok(kept)
    }
}

/// Parses a witness list (see the module doc). An empty or all-space string
/// is no witnesses. Errors name the entry, counting from 1.
pub fn parse_witnesses(config: &str) -> Result<Vec<WitnessClient>, WitnessConfigError> {
    if config.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut witnesses: Vec<WitnessClient> = Vec::new();
    for (index, raw) in config.split(',').enumerate() {
        let entry = index + 1;
        let bad = |reason: String| WitnessConfigError::Entry {
            entry,
            text: shown(raw.trim()),
            reason,
        };
        let parts: Vec<&str> = raw.split_whitespace().collect();
        let [url, vkey] = parts[..] else {
            return Err(bad(format!(
                "expected a URL and a vkey, found {} part(s)",
                parts.len()
            )));
        };
        let verifier =
            CosignatureVerifier::parse(vkey).map_err(|e| bad(format!("the witness vkey: {e}")))?;
        let witness = WitnessClient::new(url, verifier).map_err(|e| bad(e.to_string()))?;
        if let Some(earlier) = witnesses
            .iter()
            .position(|w| w.verifier == witness.verifier)
        {
            return Err(bad(format!(
                "the same witness key as entry {}",
                earlier + 1
            )));
        }
        witnesses.push(witness);
    }
    Ok(witnesses)
}

/// The note text of a signed note: everything up to its last empty line.
fn note_text(signed_note: &str) -> Option<&str> {
    let (text, _) = signed_note.rsplit_once("\n\n")?;
    Some(&signed_note[..text.len() + 1])
}

/// Text safe to repeat in an error: no credentials, no control characters,
/// not too long.
fn shown(text: &str) -> String {
    if text.contains('@') {
        return "<hidden: it may hold credentials>".to_owned();
    }
    excerpt(text)
}

fn excerpt(text: &str) -> String {
    let mut out: String = text
        .trim_end()
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim_end().chars().count() > MAX_MESSAGE_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec_core::log::CosignatureSigner;

    fn vkey(name: &str, seed: u8) -> String {
        CosignatureSigner::from_seed(name, [seed; 32])
            .unwrap()
            .verifier()
            .to_key_string()
    }

    #[test]
    fn parses_a_list_of_witnesses() {
        let (a, b) = (vkey("w1.example", 1), vkey("w2.example", 2));
        let config = format!(" https://w1.example/tlog/ {a} ,http://127.0.0.1:7380 {b}");
        let witnesses = parse_witnesses(&config).unwrap();
        assert_eq!(witnesses.len(), 2);
        assert_eq!(witnesses[0].url(), "https://w1.example/tlog");
        assert_eq!(witnesses[0].verifier().to_key_string(), a);
        assert_eq!(witnesses[1].url(), "http://127.0.0.1:7380");
        assert_eq!(witnesses[1].verifier().name(), "w2.example");
        assert!(parse_witnesses("").unwrap().is_empty());
        assert!(parse_witnesses("  ").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_bad_entry() {
        let (a, b) = (vkey("w1.example", 1), vkey("w2.example", 2));
        let log_key = flightrec_core::log::Signer::from_seed("log.example", [3; 32])
            .unwrap()
            .verifier()
            .to_key_string();
        let cases = [
            (
                "missing vkey",
                format!("https://w1.example {a},https://w2.example"),
                2,
                "part",
            ),
            (
                "trailing comma",
                format!("https://w1.example {a},"),
                2,
                "0 part",
            ),
            (
                "three parts",
                format!("https://w1.example {a} extra"),
                1,
                "3 part",
            ),
            (
                "not a URL",
                format!("https://w1.example {a},w2.example {b}"),
                2,
                "not a URL",
            ),
            ("ftp", format!("ftp://w1.example {a}"), 1, "http"),
            ("query", format!("https://w1.example/?x=1 {a}"), 1, "query"),
            (
                "bad vkey",
                format!("https://w1.example {a},https://w2.example {b}x"),
                2,
                "vkey",
            ),
            (
                "a log key, not a witness key",
                format!("https://w1.example {log_key}"),
                1,
                "0x01",
            ),
            (
                "duplicate",
                format!("https://w1.example {a},https://w2.example {a}"),
                2,
                "entry 1",
            ),
        ];
        for (name, config, entry, needle) in cases {
            let err = parse_witnesses(&config).unwrap_err();
            let WitnessConfigError::Entry { entry: got, .. } = &err else {
                panic!("{name}: {err:?}");
            };
            assert_eq!(*got, entry, "{name}: {err}");
            let message = err.to_string();
            assert!(
                message.contains(&format!("entry {entry}")),
                "{name}: {message}"
            );
            assert!(message.contains(needle), "{name}: {message}");
        }
    }

    #[test]
    fn credentials_in_a_url_are_refused_and_not_repeated() {
        let a = vkey("w1.example", 1);
        let err = parse_witnesses(&format!("https://user:hunter2@w1.example {a}")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("credentials"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
