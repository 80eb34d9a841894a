//! How a body is kept in the `body` column: the JCS text of the event,
//! compressed as one standard zstd frame (RFC 8878), so any zstd tool can
//! read a stored body back. The body hash stays over the JCS text itself:
//! compression is a matter of storage, not of the record format, and a
//! body decompressed is byte for byte the text that was hashed.
//!
//! A tenant with encryption at rest has each frame sealed with its data
//! key ([`crate::encryption`]), after compression.
//!
//! PostgreSQL stores that upgraded from schema V4 keep the bodies written
//! before as plain JSON text in the same column; a JSON text starts with
//! `{`, a zstd frame and a sealed value each with a magic number of its
//! own, so each is read for what it is.

use crate::StoreError;
use crate::encryption::{DataKey, Keyring, Opened, Place, is_sealed};
use std::cell::RefCell;

/// zstd's level 3 (its default): on ~1 KB JSON bodies, higher levels
/// gain a few percent for several times the CPU on the ingest path.
const LEVEL: i32 = 3;

/// The first four bytes of every zstd frame (RFC 8878, 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The most a body may decompress to: far above the largest event ingest
/// accepts by default (1 MiB), so only a corrupt or hostile frame reaches
/// it; `serve` refuses a `--max-event-bytes` above it.
pub const MAX_BODY: usize = 64 << 20;

thread_local! {
    /// One compression context per thread, reused: allocating one for each
    /// ~1 KB body cost more than compressing it (see docs/benchmarks.md).
    static COMPRESSOR: RefCell<zstd::bulk::Compressor<'static>> = RefCell::new(
        zstd::bulk::Compressor::new(LEVEL).expect("zstd allocates a compression context"),
    );
    /// Likewise for reading bodies back one at a time.
    static UNPACKER: RefCell<Unpacker> = RefCell::new(Unpacker::new());
}

/// The bytes to store for a body's JCS text.
pub fn pack(jcs: &str) -> Vec<u8> {
    pack_bytes(jcs.as_bytes())
}

/// The bytes to store for the body of record `seq` of `tenant`: packed,
/// then sealed if the tenant has a sealing key.
pub fn pack_for(tenant: &str, seq: u64, key: Option<&DataKey>, jcs: &str) -> Vec<u8> {
    let packed = pack(jcs);
    match key {
        Some(key) => key.seal(tenant, Place::Body { seq }, &packed),
        None => packed,
    }
}

/// [`pack`] for bytes read from an older store, which need not be UTF-8.
pub fn pack_bytes(body: &[u8]) -> Vec<u8> {
    // Compressing from memory into memory cannot fail for want of space:
    // the output buffer is sized by zstd's bound.
    COMPRESSOR
        .with_borrow_mut(|zstd| zstd.compress(body))
        .expect("zstd compresses a body in memory")
}

/// A stored body's JCS bytes, not yet checked to be UTF-8.
pub fn unpack(stored: &[u8]) -> Result<Vec<u8>, StoreError> {
    UNPACKER.with_borrow_mut(|unpacker| {
        let mut out = Vec::new();
        unpacker.unpack_into(stored, &mut out)?;
        Ok(out)
    })
}

/// Unpacks many bodies with one zstd context, appending each to a buffer
/// (verify reads a million in a row; a context per body would cost more
/// than the decompression).
pub struct Unpacker {
    zstd: zstd::bulk::Decompressor<'static>,
}

impl Unpacker {
    pub fn new() -> Unpacker {
        Unpacker {
            zstd: zstd::bulk::Decompressor::new().expect("zstd allocates a decompression context"),
        }
    }

    /// Appends the JCS bytes of `stored` to `out`; on error `out` is as it
    /// was.
    pub fn unpack_into(&mut self, stored: &[u8], out: &mut Vec<u8>) -> Result<(), StoreError> {
        if stored.first() == Some(&b'{') {
            out.extend_from_slice(stored);
            return Ok(());
        }
        let corrupt = |why: &str| StoreError::Corrupt(format!("a stored body {why}"));
        if !stored.starts_with(&ZSTD_MAGIC) {
            return Err(corrupt("is neither a zstd frame nor JSON text"));
        }
        let size = match zstd::zstd_safe::get_frame_content_size(stored) {
            Ok(Some(size)) if size <= MAX_BODY as u64 => size as usize,
            _ => return Err(corrupt("is a zstd frame without a usable content size")),
        };
        let start = out.len();
        out.resize(start + size, 0);
        match self.zstd.decompress_to_buffer(stored, &mut out[start..]) {
            Ok(written) if written == size => Ok(()),
            Ok(_) => {
                out.truncate(start);
                Err(corrupt("decompresses to another size than its frame says"))
            }
            Err(e) => {
                out.truncate(start);
                Err(corrupt(&format!("does not decompress: {e}")))
            }
        }
    }
}

/// What [`Unpacker::read_into`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRead {
    /// The body's JCS bytes were appended.
    Text,
    /// The body is sealed with a data key that was destroyed.
    Shredded,
}

impl Unpacker {
    /// [`Unpacker::unpack_into`] for the body of record `seq` of `tenant`,
    /// opening it first if it is sealed.
    pub fn read_into(
        &mut self,
        keys: &Keyring,
        tenant: &str,
        seq: u64,
        stored: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<BodyRead, StoreError> {
        if !is_sealed(stored) {
            return self.unpack_into(stored, out).map(|()| BodyRead::Text);
        }
        match keys.open(tenant, Place::Body { seq }, stored)? {
            Opened::Plain(packed) => self.unpack_into(&packed, out).map(|()| BodyRead::Text),
            Opened::Shredded => Ok(BodyRead::Shredded),
        }
    }
}

impl Default for Unpacker {
    fn default() -> Unpacker {
        Unpacker::new()
    }
}

impl std::fmt::Debug for Unpacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unpacker")
    }
}

/// A stored body's JCS text.
pub fn unpack_text(stored: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(unpack(stored)?)
        .map_err(|_| StoreError::Corrupt("a stored body is not UTF-8".into()))
}

/// The JCS text of the body of record `seq` of `tenant` as stored, or
/// `None` for one erased or crypto-shredded.
pub fn read_text(
    keys: &Keyring,
    tenant: &str,
    seq: u64,
    stored: Option<&[u8]>,
) -> Result<Option<String>, StoreError> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    UNPACKER.with_borrow_mut(|unpacker| {
        let mut out = Vec::new();
        match unpacker.read_into(keys, tenant, seq, stored, &mut out)? {
            BodyRead::Text => String::from_utf8(out)
                .map(Some)
                .map_err(|_| StoreError::Corrupt("a stored body is not UTF-8".into())),
            BodyRead::Shredded => Ok(None),
        }
    })
}

/// A stored body as the free-text index sees it.
pub enum Searchable {
    /// Its JCS text, indexed as it is.
    Plain(String),
    /// Sealed at rest: its JCS text, to index as blind tokens under `key`.
    Sealed {
        jcs: String,
        key: std::sync::Arc<DataKey>,
    },
    /// No words: erased, crypto-shredded, or not readable. One that does
    /// not unpack yields none the same every time, so an index can still
    /// remove what it added (verify names such a record; search is not
    /// where to stop).
    Nothing,
}

/// The body of record `seq` of `tenant` for the free-text index. Fails
/// only when the answer could differ later (the key table could not be
/// read, or this process cannot unwrap the key): an index must then wait,
/// not hold words it would not find again when it removes them.
pub fn searchable(
    keys: &Keyring,
    tenant: &str,
    seq: u64,
    stored: Option<&[u8]>,
) -> Result<Searchable, StoreError> {
    let Some(stored) = stored else {
        return Ok(Searchable::Nothing);
    };
    if !is_sealed(stored) {
        return Ok(match unpack_text(stored) {
            Ok(jcs) => Searchable::Plain(jcs),
            Err(_) => Searchable::Nothing,
        });
    }
    let key = match keys.key_for(tenant, stored) {
        Ok(Some(key)) => key,
        // Destroyed, or a key the store never had (a damaged value, which
        // verify names): no words, the same every time.
        Ok(None) | Err(StoreError::Corrupt(_)) => return Ok(Searchable::Nothing),
        Err(e) => return Err(e),
    };
    let jcs = key
        .open(tenant, Place::Body { seq }, stored)
        .and_then(|packed| unpack_text(&packed));
    Ok(match jcs {
        Ok(jcs) => Searchable::Sealed { jcs, key },
        Err(_) => Searchable::Nothing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_comes_back_byte_for_byte() {
        let body =
            r#"{"message":"héllo ✓","output":{"stdout":"lorem ipsum lorem ipsum lorem ipsum"}}"#;
        let stored = pack(body);
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert_eq!(unpack_text(&stored).unwrap(), body);
    }

    #[test]
    fn bodies_stored_before_compression_read_as_they_are() {
        assert_eq!(unpack_text(br#"{"a":1}"#).unwrap(), r#"{"a":1}"#);
    }

    #[test]
    fn damaged_bytes_are_named_corrupt_not_read() {
        let mut stored = pack(r#"{"a":"some text that compresses, some text that compresses"}"#);
        let last = stored.len() - 1;
        stored.truncate(last);
        assert!(matches!(unpack(&stored), Err(StoreError::Corrupt(_))));
        assert!(matches!(unpack(b"garbage"), Err(StoreError::Corrupt(_))));
        assert!(matches!(unpack(b""), Err(StoreError::Corrupt(_))));
        let mut out = b"kept".to_vec();
        assert!(Unpacker::new().unpack_into(&stored, &mut out).is_err());
        assert_eq!(out, b"kept");
    }

    #[test]
    fn an_unpacker_appends_one_body_after_another() {
        let mut unpacker = Unpacker::new();
        let mut out = Vec::new();
        for body in [r#"{"a":"first first first"}"#, r#"{"b":2}"#] {
            unpacker.unpack_into(&pack(body), &mut out).unwrap();
        }
        unpacker.unpack_into(br#"{"c":3}"#, &mut out).unwrap();
        assert_eq!(out, br#"{"a":"first first first"}{"b":2}{"c":3}"#);
    }
}
