//! The HTTP client behind the client commands.

use crate::cli::ClientArgs;
use anyhow::{Context, anyhow, bail};
use serde_json::Value;

pub struct Client {
    http: reqwest::Client,
    server: String,
    api_key: String,
}

impl Client {
    pub fn new(args: &ClientArgs) -> anyhow::Result<Client> {
        let api_key = args.api_key.clone().ok_or_else(|| {
            anyhow!("no API key: set FLIGHTREC_API_KEY (printed by the server's first start) or pass --api-key")
        })?;
        let server = args.server.trim_end_matches('/').to_owned();
        if !server.starts_with("http://") {
            bail!("--server must be an http:// URL, got {server:?}");
        }
        Ok(Client {
            http: reqwest::Client::new(),
            server,
            api_key,
        })
    }

    /// GET `path` as text (signed notes, keys).
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        String::from_utf8(self.get_bytes(path).await?)
            .with_context(|| format!("the server's answer to {path} is not text"))
    }

    /// GET `path` as bytes; an error status becomes the server's message.
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let response = self
            .http
            .get(format!("{}{path}", self.server))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .with_context(|| format!("could not reach the flightrec server at {}", self.server))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if !status.is_success() {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let message = body["error"].as_str().unwrap_or("request failed");
            bail!("{message} (HTTP {})", status.as_u16());
        }
        Ok(bytes.to_vec())
    }

    /// GET `path` for reading as it arrives (exports, replays); an error
    /// status becomes the server's message.
    pub async fn get_streaming(
        &self,
        path: &str,
        pairs: &[(&str, String)],
    ) -> anyhow::Result<reqwest::Response> {
        let response = self
            .http
            .get(format!("{}{path}", self.server))
            .query(pairs)
            .bearer_auth(&self.api_key)
            .send()
            .await
            .with_context(|| format!("could not reach the flightrec server at {}", self.server))?;
        let status = response.status();
        if !status.is_success() {
            let body: Value = response.json().await.unwrap_or_default();
            let message = body["error"].as_str().unwrap_or("request failed");
            bail!("{message} (HTTP {})", status.as_u16());
        }
        Ok(response)
    }

    /// GET `path` with query `pairs`; the server's JSON error becomes the
    /// error message.
    pub async fn get(&self, path: &str, pairs: &[(&str, String)]) -> anyhow::Result<Value> {
        let request = self.http.get(format!("{}{path}", self.server)).query(pairs);
        self.json(request, path).await
    }

    /// POST a JSON body to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self.http.post(format!("{}{path}", self.server)).json(body);
        self.json(request, path).await
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        let request = self.http.delete(format!("{}{path}", self.server));
        self.json(request, path).await
    }

    async fn json(&self, request: reqwest::RequestBuilder, path: &str) -> anyhow::Result<Value> {
        let response = request
            .bearer_auth(&self.api_key)
            .send()
            .await
            .with_context(|| format!("could not reach the flightrec server at {}", self.server))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if bytes.is_empty() && status.is_success() {
            return Ok(Value::Null);
        }
        let body: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("the server's answer to {path} is not JSON"))?;
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("request failed");
            bail!("{message} (HTTP {})", status.as_u16());
        }
        Ok(body)
    }
}

/// Percent-encodes a path segment.
pub fn path_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
