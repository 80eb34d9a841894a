//! Names and byte formats of C2SP tlog-tiles resources
//! (<https://c2sp.org/tlog-tiles>): tile paths, tile bytes and entry bundles.
//!
//! Path grammar, relative to the log's URL prefix:
//!
//! ```text
//! tile/<L>/<N>[.p/<W>]        a tile of hashes at tile level L
//! tile/entries/<N>[.p/<W>]    an entry bundle (the leaf inputs of level-0 tile N)
//! ```
//!
//! `<L>` is 0–63 without leading zeros. `<N>` is the index in 3-digit groups,
//! every group but the last prefixed with `x` (1234067 → `x001/x234/067`),
//! with no leading all-zero group. `.p/<W>` appears only on partial tiles,
//! W = 1–255 without leading zeros. Parsing accepts exactly what formatting
//! produces, so every resource has one name.
//!
//! Not here: which tiles exist for a tree size, or reading them (see
//! [`super::tree`]). The tile height is fixed at 8 (256 hashes per full tile).

use std::fmt;

use super::{Hash, LogError};

/// Hashes per full tile (tile height 8).
pub const TILE_WIDTH: u16 = 256;
/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Highest tile level the path grammar allows.
pub const MAX_TILE_LEVEL: u8 = 63;

/// One tile of hashes: the first `width` hashes (1..=256) of tile `index` at
/// tile level `level`, i.e. of the tree nodes at tree level `8 * level` with
/// node indexes `index * 256 ..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub level: u8,
    pub index: u64,
    pub width: u16,
}

/// One entry bundle: the leaf inputs behind level-0 tile `index`, first
/// `width` of them (1..=256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryBundleId {
    pub index: u64,
    pub width: u16,
}

/// Anything a `tile/...` path can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileResource {
    Hashes(TileId),
    Entries(EntryBundleId),
}

impl TileId {
    /// Whether this is a full (256-hash) tile.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The C2SP path, e.g. `tile/0/x001/x234/067.p/5`.
    pub fn path(&self) -> String {
        format!(
            "tile/{}/{}",
            self.level,
            index_and_width(self.index, self.width)
        )
    }

    /// Parses a hash-tile path; entry-bundle paths are refused.
    pub fn parse_path(path: &str) -> Result<TileId, LogError> {
        match TileResource::parse(path)? {
            TileResource::Hashes(id) => Ok(id),
            TileResource::Entries(_) => Err(bad_path(path, "an entry bundle, not a hash tile")),
        }
    }
}

impl EntryBundleId {
    /// The C2SP path, e.g. `tile/entries/x001/234.p/7`.
    pub fn path(&self) -> String {
        format!("tile/entries/{}", index_and_width(self.index, self.width))
    }

    /// Parses an entry-bundle path; hash-tile paths are refused.
    pub fn parse_path(path: &str) -> Result<EntryBundleId, LogError> {
        match TileResource::parse(path)? {
            TileResource::Entries(id) => Ok(id),
            TileResource::Hashes(_) => Err(bad_path(path, "a hash tile, not an entry bundle")),
        }
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl fmt::Display for EntryBundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl TileResource {
    /// The C2SP path.
    pub fn path(&self) -> String {
        match self {
            TileResource::Hashes(id) => id.path(),
            TileResource::Entries(id) => id.path(),
        }
    }

    /// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` strictly.
    pub fn parse(path: &str) -> Result<TileResource, LogError> {
        // Longest canonical path: "tile/entries/" + 7 groups of "xNNN/" + "NNN" + ".p/255".
        if path.len() > 64 {
            return Err(bad_path(path, "too long"));
        }
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad_path(path, "does not start with \"tile/\""))?;
        let (kind, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad_path(path, "no tile index"))?;
        let (index, width) = parse_index_and_width(path, rest)?;
        if kind == "entries" {
            return Ok(TileResource::Entries(EntryBundleId { index, width }));
        }
        let level = parse_decimal(kind)
            .filter(|&l| l <= u64::from(MAX_TILE_LEVEL))
            .ok_or_else(|| bad_path(path, "level is not \"entries\" or a number 0-63"))?;
        Ok(TileResource::Hashes(TileId {
            level: level as u8,
            index,
            width,
        }))
    }
}

/// `<N>[.p/<W>]`.
fn index_and_width(index: u64, width: u16) -> String {
    let mut groups = Vec::with_capacity(7);
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(groups.len() * 5 + 6);
    for (i, group) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{group:03}/"));
        } else {
            out.push_str(&format!("{group:03}"));
        }
    }
    if width != TILE_WIDTH {
        out.push_str(&format!(".p/{width}"));
    }
    out
}

fn parse_index_and_width(path: &str, text: &str) -> Result<(u64, u16), LogError> {
    let (index_text, width) = match text.split_once(".p/") {
        Some((index_text, width_text)) => {
            let width = parse_decimal(width_text)
                .filter(|w| (1..u64::from(TILE_WIDTH)).contains(w))
                .ok_or_else(|| bad_path(path, "partial width is not a number 1-255"))?;
            (index_text, width as u16)
        }
        None => (text, TILE_WIDTH),
    };
    let groups: Vec<&str> = index_text.split('/').collect();
    let mut index: u64 = 0;
    for (i, group) in groups.iter().enumerate() {
        let last = i + 1 == groups.len();
        let digits = if last {
            *group
        } else {
            group
                .strip_prefix('x')
                .ok_or_else(|| bad_path(path, "index groups before the last must start with 'x'"))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_path(path, "index groups must be exactly 3 digits"));
        }
        let value = u64::from(digits.parse::<u16>().unwrap_or(0));
        if i == 0 && !last && value == 0 {
            return Err(bad_path(path, "index has a leading zero group"));
        }
        index = index
            .checked_mul(1000)
            .and_then(|n| n.checked_add(value))
            .ok_or_else(|| bad_path(path, "index does not fit in 64 bits"))?;
    }
    Ok((index, width))
}

/// A decimal number with no sign and no leading zeros ("0" itself is fine).
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

fn bad_path(path: &str, reason: &str) -> LogError {
    LogError::MalformedTilePath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The bytes of a tile as served: its hashes concatenated.
pub fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * Hash::LEN);
    for hash in hashes {
        out.extend_from_slice(&hash.0);
    }
    out
}

/// Splits served tile bytes back into 1..=256 hashes.
pub fn decode_tile(bytes: &[u8]) -> Result<Vec<Hash>, LogError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(Hash::LEN) || bytes.len() / Hash::LEN > 256 {
        return Err(LogError::MalformedTile {
            reason: format!("{} bytes is not 1 to 256 hashes of 32 bytes", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(Hash::LEN)
        .map(|chunk| Hash(chunk.try_into().expect("chunks_exact yields 32 bytes")))
        .collect())
}

/// An entry bundle: each entry as a big-endian u16 length followed by its bytes.
pub fn encode_entry_bundle<'a, I>(entries: I) -> Result<Vec<u8>, LogError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut out = Vec::new();
    for entry in entries {
        let len =
            u16::try_from(entry.len()).map_err(|_| LogError::EntryTooLong { len: entry.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries (borrowing from `bytes`). Refuses
/// a bundle that ends mid-entry or holds more than 256 entries.
pub fn decode_entry_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, LogError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if entries.len() == usize::from(TILE_WIDTH) {
            return Err(bundle_error("more than 256 entries"));
        }
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| bundle_error("ends inside a length prefix"))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(bundle_error("ends inside an entry"));
        }
        let (entry, tail) = tail.split_at(len);
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

fn bundle_error(reason: &str) -> LogError {
    LogError::MalformedEntryBundle {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(level: u8, index: u64, width: u16) -> TileId {
        TileId {
            level,
            index,
            width,
        }
    }

    #[test]
    fn paths_match_the_spec_examples() {
        assert_eq!(tile(0, 1_234_067, 256).path(), "tile/0/x001/x234/067");
        assert_eq!(tile(0, 1_234_067, 5).path(), "tile/0/x001/x234/067.p/5");
        assert_eq!(tile(2, 0, 1).path(), "tile/2/000.p/1");
        assert_eq!(tile(1, 1000, 256).path(), "tile/1/x001/000");
        assert_eq!(
            tile(7, u64::MAX, 255).path(),
            "tile/7/x018/x446/x744/x073/x709/x551/615.p/255"
        );
        let bundle = EntryBundleId {
            index: 1234,
            width: 7,
        };
        assert_eq!(bundle.path(), "tile/entries/x001/234.p/7");
    }

    #[test]
    fn paths_round_trip() {
        for level in [0u8, 1, 7, 63] {
            for index in [0u64, 1, 999, 1000, 999_999, 1_000_000, 1_234_067, u64::MAX] {
                for width in [1u16, 2, 112, 255, 256] {
                    let id = tile(level, index, width);
                    assert_eq!(TileId::parse_path(&id.path()).unwrap(), id);
                    let bundle = EntryBundleId { index, width };
                    assert_eq!(EntryBundleId::parse_path(&bundle.path()).unwrap(), bundle);
                }
            }
        }
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "",
            "tile",
            "tile/",
            "tile/0",
            "tile/0/",
            "tiles/0/000",
            "/tile/0/000",
            "tile/00/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/a/000",
            "tile/0/0",
            "tile/0/0000",
            "tile/0/00a",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x1/002",
            "tile/0/x001/x002",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/000.p/",
            "tile/0/000.p",
            "tile/0/000.p/1/",
            "tile/0/000/",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
            "tile/entries/",
            "tile/entries/1",
            "tile/data/000",
            "tile/8/0/000",
        ] {
            assert!(TileResource::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert!(TileId::parse_path("tile/entries/000").is_err());
        assert!(EntryBundleId::parse_path("tile/0/000").is_err());
    }

    #[test]
    fn tile_bytes_round_trip_and_refuse_bad_lengths() {
        let hashes: Vec<Hash> = (0u8..3).map(|i| Hash([i; 32])).collect();
        let bytes = encode_tile(&hashes);
        assert_eq!(bytes.len(), 96);
        assert_eq!(decode_tile(&bytes).unwrap(), hashes);
        assert!(decode_tile(&[]).is_err());
        assert!(decode_tile(&bytes[..95]).is_err());
        assert!(decode_tile(&vec![0; 257 * 32]).is_err());
    }

    #[test]
    fn entry_bundles_round_trip_and_refuse_truncation() {
        let entries: Vec<&[u8]> = vec![b"", b"a", b"hello world", &[7u8; 300]];
        let bundle = encode_entry_bundle(entries.iter().copied()).unwrap();
        assert_eq!(&bundle[..5], &[0, 0, 0, 1, b'a']);
        assert_eq!(decode_entry_bundle(&bundle).unwrap(), entries);
        for cut in 1..bundle.len() {
            let decoded = decode_entry_bundle(&bundle[..cut]);
            // A cut that lands on an entry boundary is a valid shorter bundle.
            if let Ok(got) = decoded {
                assert!(got.len() < entries.len());
                assert_eq!(got, entries[..got.len()]);
            }
        }
        assert!(decode_entry_bundle(&[0]).is_err());
        assert!(decode_entry_bundle(&[0, 2, 1]).is_err());
        assert!(encode_entry_bundle([&[0u8; 65_536][..]]).is_err());
        assert!(decode_entry_bundle(&[0u8; 2 * 257]).is_err());
        assert_eq!(decode_entry_bundle(&[0u8; 2 * 256]).unwrap().len(), 256);
    }
}
