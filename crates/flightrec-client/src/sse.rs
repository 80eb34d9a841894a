//! Reading a Server-Sent Events stream (the HTML living standard's
//! `text/event-stream`) as it arrives: bytes in, whole messages out.

use crate::{Error, Result};
use std::collections::VecDeque;

/// A server's event stream, read message by message.
pub(crate) struct Source {
    response: reqwest::Response,
    parser: Parser,
    queue: VecDeque<Message>,
    server: String,
    /// What the stream is, for errors: "replay", "tail".
    what: &'static str,
}

impl Source {
    pub(crate) fn new(response: reqwest::Response, server: &str, what: &'static str) -> Source {
        Source {
            response,
            parser: Parser::default(),
            queue: VecDeque::new(),
            server: server.to_owned(),
            what,
        }
    }

    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// The next message; `None` once the server has closed the stream.
    pub(crate) async fn next(&mut self) -> Result<Option<Message>> {
        loop {
            if let Some(m) = self.queue.pop_front() {
                return Ok(Some(m));
            }
            match self.response.chunk().await {
                Ok(Some(bytes)) => self.queue.extend(self.parser.feed(&bytes)),
                Ok(None) => return Ok(None),
                Err(e) => {
                    return Err(Error::Unreachable {
                        server: self.server.clone(),
                        reason: format!("the {} stream broke: {e}", self.what),
                    });
                }
            }
        }
    }
}

/// One dispatched message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// `event:`; `None` means the default, `message`.
    pub event: Option<String>,
    /// `id:`
    pub id: Option<String>,
    /// Every `data:` line, joined by newlines.
    pub data: String,
}

/// Collects bytes and hands out complete messages.
#[derive(Debug, Default)]
pub struct Parser {
    buffer: Vec<u8>,
    current: Message,
    has_data: bool,
}

impl Parser {
    /// Adds bytes; answers the messages they completed, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Message> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.buffer.len() {
            let end = match self.buffer[i] {
                b'\n' => i + 1,
                // A CR at the very end may be half of a CRLF: wait.
                b'\r' if i + 1 == self.buffer.len() => break,
                b'\r' if self.buffer[i + 1] == b'\n' => i + 2,
                b'\r' => i + 1,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let line = String::from_utf8_lossy(&self.buffer[start..i]).into_owned();
            if let Some(message) = self.line(&line) {
                out.push(message);
            }
            start = end;
            i = end;
        }
        self.buffer.drain(..start);
        out
    }

    fn line(&mut self, line: &str) -> Option<Message> {
        if line.is_empty() {
            let message = std::mem::take(&mut self.current);
            let had = std::mem::take(&mut self.has_data);
            return had.then_some(message);
        }
        if line.starts_with(':') {
            return None; // a comment: keep-alives
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.current.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.current.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_across_chunks_and_line_endings() {
        let mut p = Parser::default();
        assert!(p.feed(b": keep-alive\n\nid: 3\r").is_empty());
        let got = p.feed(b"\ndata: {\"a\":1}\r\n\r\nevent: end\rdata:x\rdata: y\r\r\n");
        assert_eq!(
            got,
            [
                Message {
                    event: None,
                    id: Some("3".into()),
                    data: "{\"a\":1}".into()
                },
                Message {
                    event: Some("end".into()),
                    id: None,
                    data: "x\ny".into()
                }
            ]
        );
    }

    #[test]
    fn a_message_without_data_is_not_dispatched() {
        let mut p = Parser::default();
        assert!(p.feed(b"event: ping\n\n").is_empty());
        assert_eq!(p.feed(b"data\n\n")[0].data, "");
    }
}
