//! Size limits on what ingest accepts.

/// Limits on incoming events. The defaults are DESIGN §3's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest event, measured as its canonical body plus header.
    pub max_event_bytes: usize,
    /// The most events in one batch.
    pub max_batch_events: usize,
    /// The largest request body of a batch.
    pub max_batch_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 1024 * 1024,
            max_batch_events: 1000,
            max_batch_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The longest `id` a client may choose.
pub const MAX_ID_CHARS: usize = 128;
/// The longest value of any other short identifying field (type, run, span,
/// agent, session, verb, provider, actor and resource ids).
pub const MAX_NAME_CHARS: usize = 512;
