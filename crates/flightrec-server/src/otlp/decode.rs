//! OTLP/HTTP request bodies: the content type picks protobuf or JSON, a
//! gzip body is inflated (within the same size limit), and the bytes
//! decode into the request message with `opentelemetry-proto`'s prost and
//! serde code. Each failure is an [`OtlpError`] that says what was wrong
//! without quoting what was sent.

use super::respond::OtlpError;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use std::io::Read as _;

/// How a request's body is encoded, and so its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// The encoding a request's `Content-Type` names; anything but OTLP's
    /// two is a 415.
    pub fn of(headers: &HeaderMap) -> Result<Encoding, OtlpError> {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" => Ok(Encoding::Protobuf),
            "application/json" => Ok(Encoding::Json),
            "" => Err(OtlpError::unsupported_media_type(
                "the request has no Content-Type; OTLP/HTTP sends application/x-protobuf or application/json".into(),
            )),
            _ => Err(OtlpError::unsupported_media_type(format!(
                "Content-Type {essence:?} is not OTLP/HTTP's; send application/x-protobuf or application/json"
            ))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Reads a request of at most `limit` bytes (before and after inflating)
/// and decodes it as `M`.
pub async fn read_request<M>(
    body: Body,
    headers: &HeaderMap,
    encoding: Encoding,
    limit: usize,
) -> Result<M, OtlpError>
where
    M: prost::Message + Default + DeserializeOwned,
{
    let gzip = match headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(OtlpError::unsupported_media_type(format!(
                "Content-Encoding {other:?} is not supported; send gzip or no encoding"
            )));
        }
    };
    let raw = crate::body::read_bytes(body, limit).await?;
    let bytes = if gzip { inflate(&raw, limit)? } else { raw };
    decode(&bytes, encoding)
}

/// Inflates a gzip body, refusing one that grows past `limit`.
pub fn inflate(raw: &[u8], limit: usize) -> Result<Vec<u8>, OtlpError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(raw)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| OtlpError::bad_request(format!("the body is not valid gzip: {e}")))?;
    if out.len() > limit {
        return Err(OtlpError::too_large(format!(
            "the body inflates to more than {limit} bytes"
        )));
    }
    Ok(out)
}

/// Decodes a body as protobuf or as OTLP/JSON.
pub fn decode<M>(bytes: &[u8], encoding: Encoding) -> Result<M, OtlpError>
where
    M: prost::Message + Default + DeserializeOwned,
{
    match encoding {
        Encoding::Protobuf => M::decode(bytes).map_err(|e| {
            OtlpError::bad_request(format!(
                "the body is not a valid OTLP protobuf message: {e}"
            ))
        }),
        Encoding::Json => {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(OtlpError::bad_request(
                    "the body is empty; OTLP/JSON sends an object such as {\"resourceSpans\": []}"
                        .into(),
                ));
            }
            serde_json::from_slice(bytes).map_err(|e| {
                OtlpError::bad_request(format!(
                    "the body is not valid OTLP/JSON: {} (OTLP/JSON uses lowerCamelCase names, hex trace and span ids, and integer enums)",
                    without_quoted_values(&e.to_string())
                ))
            })
        }
    }
}

/// serde's messages quote the value they choke on (`invalid type: string
/// "…"`); a value sent may be a secret, so each quoted string is blanked.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quote = false;
    let mut escaped = false;
    for c in message.chars() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
                out.push_str("…\"");
            }
            continue;
        }
        out.push(c);
        if c == '"' {
            in_quote = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_blanked_from_messages() {
        assert_eq!(
            without_quoted_values(r#"invalid type: string "sk-secret\"x", expected i64 at line 1"#),
            r#"invalid type: string "…", expected i64 at line 1"#
        );
        assert_eq!(without_quoted_values("no quotes"), "no quotes");
    }
}
