//! flightrec's pure logic.
//!
//! Everything here is a function of its inputs: no files, no network, no SQL,
//! no async runtime. The store and the server build on it; an outside auditor
//! can use it alone to check a log.
//!
//! - [`event`]: the canonical event, its aliases, validation and limits.
//! - [`jcs`]: RFC 8785 canonical JSON, the byte form every hash is taken over.
//! - [`record`]: the header/body split, `body_hash` and the Merkle leaf.
//! - [`erasure`]: what a `log.erased` record says, which `verify` holds
//!   every erased body to.
//! - [`log`]: RFC 9162 tree hashing and proofs, C2SP tiles, checkpoints and
//!   signed notes.
//! - [`export`]: the JSONL export that anyone can verify offline.
//! - [`clock`]: the injected clock, so timestamps are testable.
//! - [`compliance`]: the rules that find personal and regulated data.
//! - [`replay`]: a run's state at any moment: files, context, status.
//! - [`mask`]: credential masking, applied to every event before it is kept.
//! - [`secret`]: a string type that cannot print its secret.
//!
//! Not here: storage, transport, configuration, secrets at rest.

pub mod clock;
pub mod compliance;
pub mod erasure;
pub mod event;
pub mod export;
pub mod jcs;
pub mod log;
pub mod mask;
pub mod record;
pub mod replay;
pub mod secret;
