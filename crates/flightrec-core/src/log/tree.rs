//! Tree hashes: the naive RFC 9162 Merkle Tree Hash, hashes read from C2SP
//! tiles, and [`RightEdge`], the state the sequencer appends through.
//!
//! The tree is stored as tiles of height 8: tile `index` at tile level `L`
//! holds the hashes of tree level `8L`, node indexes `index*256 ..
//! index*256+255`. A partial tile is a prefix of the full tile it becomes.
//! Any complete subtree's hash is one tile read away (plus at most 127 node
//! hashes when its height is not a multiple of 8).
//!
//! Not here: where tiles are kept (behind [`TileReader`]) or proofs (see
//! [`super::proof`]).

use std::collections::HashMap;

use super::tile::{TILE_HEIGHT, TILE_WIDTH, TileId};
use super::{Hash, LogError, node_hash};

/// Read access to a log's tiles.
///
/// Contract: `read_tile(level, index, width)` returns exactly the first
/// `width` hashes (1..=256) of tile `index` at tile level `level`, from the
/// full tile if it exists or from any partial tile at least that wide. A tile
/// the store does not have is an error, never an empty or short answer (a
/// short answer is reported as [`LogError::ShortTile`]).
pub trait TileReader {
    type Error;
    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<Hash>, Self::Error>;
}

impl<T: TileReader + ?Sized> TileReader for &T {
    type Error = T::Error;
    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_tile(level, index, width)
    }
}

/// The RFC 9162 §2.1.1 Merkle Tree Hash of a list of leaf hashes, computed
/// the obvious recursive way.
///
/// This is the reference the tiled code is tested against, and it is handy
/// for small trees; it holds every leaf in memory, so the log itself never
/// uses it.
pub fn merkle_tree_hash(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::EMPTY_TREE,
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(
                &merkle_tree_hash(&leaves[..k]),
                &merkle_tree_hash(&leaves[k..]),
            )
        }
    }
}

/// The largest power of two strictly less than `n` (`n >= 2`): where RFC 9162
/// splits a tree of `n` leaves.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The hash of the complete subtree of height `level` whose leftmost leaf is
/// `index << level` (tree node `(level, index)`).
///
/// Reads one tile at tile level `level / 8`; when `level % 8 != 0` it hashes
/// up the `2^(level % 8)` (at most 128) hashes it needs from that tile. The
/// caller must know the subtree is complete in the stored tree; asking for one
/// that is not makes the reader fail.
pub fn subtree_hash<R>(reader: &R, level: u32, index: u64) -> Result<Hash, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    let out_of_range = || LogError::SubtreeOutOfRange { level, index };
    if level >= 64
        || index
            .checked_shl(level)
            .is_none_or(|first| first >> level != index)
    {
        return Err(out_of_range().into());
    }
    let tile_level = level / TILE_HEIGHT;
    let within = level % TILE_HEIGHT;
    // The 2^within nodes at tree level 8*tile_level under this subtree.
    let first_node = index << within;
    let tile_index = first_node >> TILE_HEIGHT;
    let offset = (first_node & 0xff) as usize;
    let count = 1usize << within;
    let width = (offset + count) as u16;
    let hashes = read_exact(reader, tile_level as u8, tile_index, width)?;
    Ok(fold_complete(&hashes[offset..]))
}

/// The root of the tree of the first `size` leaves, read from tiles.
/// Size 0 gives [`Hash::EMPTY_TREE`].
pub fn tree_root<R>(reader: &R, size: u64) -> Result<Hash, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    if size == 0 {
        return Ok(Hash::EMPTY_TREE);
    }
    range_hash(reader, 0, size)
}

/// The Merkle Tree Hash of leaves `[start, end)`, where `start` is a multiple
/// of a power of two at least `end - start` (so the range is one node of the
/// RFC 9162 tree of size `end`, complete or not). It is the right fold of the
/// complete subtrees the range splits into, largest first.
pub(crate) fn range_hash<R>(reader: &R, start: u64, end: u64) -> Result<Hash, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    debug_assert!(start < end);
    let mut parts = Vec::with_capacity(64);
    let mut at = start;
    let len = end - start;
    for height in (0..64u32).rev() {
        if len & (1 << height) != 0 {
            parts.push(subtree_hash(reader, height, at >> height)?);
            at += 1 << height;
        }
    }
    Ok(fold_right(&parts))
}

/// Joins complete subtree roots, largest (leftmost) first, into the root of
/// their concatenation: RFC 9162's shape for a tree whose size is not a
/// power of two.
pub(crate) fn fold_right(parts: &[Hash]) -> Hash {
    let mut iter = parts.iter().rev();
    let Some(last) = iter.next() else {
        return Hash::EMPTY_TREE;
    };
    iter.fold(*last, |acc, left| node_hash(left, &acc))
}

/// The root of a complete subtree whose bottom row is `nodes` (a power of two
/// of them).
fn fold_complete(nodes: &[Hash]) -> Hash {
    debug_assert!(nodes.len().is_power_of_two());
    let mut row: Vec<Hash> = nodes.to_vec();
    while row.len() > 1 {
        row = row
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    row[0]
}

fn read_exact<R>(reader: &R, level: u8, index: u64, width: u16) -> Result<Vec<Hash>, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    let hashes = reader.read_tile(level, index, width)?;
    if hashes.len() != usize::from(width) {
        return Err(LogError::ShortTile {
            level,
            index,
            wanted: width,
            got: hashes.len(),
        }
        .into());
    }
    Ok(hashes)
}

/// A tile that changed since a [`RightEdge`] was loaded: its id (width = its
/// full width now) and all its hashes so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileRef<'a> {
    pub id: TileId,
    pub hashes: &'a [Hash],
}

/// The right edge of a growing tree: what the sequencer needs to append
/// leaves, compute the new root and know which tiles to write.
///
/// It holds the rightmost (partial) tile of every tile level and the compact
/// range (the roots of the complete subtrees that make up the tree, largest
/// first). Appending costs one node hash per leaf on average and no
/// allocation except when a tile fills up; tiles filled since loading are
/// kept until [`RightEdge::clear_dirty`] so the store can write them.
///
/// Not thread-safe by design: one sequencer owns it inside its append
/// transaction. If that transaction fails, throw the `RightEdge` away and
/// load a fresh one; it does not roll back.
#[derive(Clone, Debug)]
pub struct RightEdge {
    size: u64,
    /// Roots of the complete subtrees covering `[0, size)`, largest first;
    /// their heights are the set bits of `size`, high to low.
    compact: Vec<Hash>,
    /// `partial[L]`: the hashes of the rightmost, not yet full tile at tile
    /// level L (`(size >> 8L) % 256` of them).
    partial: Vec<Vec<Hash>>,
    /// `(index, width)` of each level's partial tile when loaded or last
    /// cleaned, to tell which partial tiles grew.
    clean: Vec<(u64, u16)>,
    /// Tiles that became full since loading or the last clean, in order.
    filled: Vec<(u8, u64, Vec<Hash>)>,
}

impl RightEdge {
    /// The right edge of the empty tree.
    pub fn empty() -> RightEdge {
        RightEdge {
            size: 0,
            compact: Vec::new(),
            partial: Vec::new(),
            clean: Vec::new(),
            filled: Vec::new(),
        }
    }

    /// Loads the right edge of the stored tree of `size` leaves, reading only
    /// the rightmost partial tile of each tile level (at most 8 reads).
    pub fn load<R>(reader: &R, size: u64) -> Result<RightEdge, R::Error>
    where
        R: TileReader + ?Sized,
        R::Error: From<LogError>,
    {
        let mut edge = RightEdge::empty();
        edge.size = size;
        let mut level = 0u32;
        while level < 64 && size >> level != 0 {
            let tile_level = level / TILE_HEIGHT;
            let width = ((size >> level) & 0xff) as u16;
            let index = (size >> level) >> TILE_HEIGHT;
            let hashes = if width == 0 {
                Vec::with_capacity(usize::from(TILE_WIDTH))
            } else {
                let mut hashes = read_exact(reader, tile_level as u8, index, width)?;
                hashes.reserve_exact(usize::from(TILE_WIDTH) - hashes.len());
                hashes
            };
            edge.partial.push(hashes);
            edge.clean.push((index, width));
            level += TILE_HEIGHT;
        }
        // The compact range, largest subtree first: from the highest tile
        // level down, each partial tile splits by the bits of its width.
        for tile_level in (0..edge.partial.len()).rev() {
            let row = &edge.partial[tile_level];
            let mut at = 0usize;
            for bit in (0..8).rev() {
                if row.len() & (1 << bit) != 0 {
                    edge.compact.push(fold_complete(&row[at..at + (1 << bit)]));
                    at += 1 << bit;
                }
            }
        }
        Ok(edge)
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    ///
    /// # Panics
    ///
    /// If the tree already has `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash) {
        let old_size = self.size;
        self.size = old_size
            .checked_add(1)
            .expect("Merkle tree is full (2^64 - 1 leaves)");
        self.append_to_tile(0, leaf);
        // Each trailing 1 bit of the old size is a complete subtree of that
        // height waiting for a right sibling: merge until a 0 bit.
        let mut node = leaf;
        let mut height = 0u32;
        while old_size & (1 << height) != 0 {
            let left = self.compact.pop().expect("compact range matches size bits");
            node = node_hash(&left, &node);
            height += 1;
            if height.is_multiple_of(TILE_HEIGHT) {
                self.append_to_tile((height / TILE_HEIGHT) as usize, node);
            }
        }
        self.compact.push(node);
    }

    /// Appends to the partial tile at `tile_level`, retiring it once full.
    fn append_to_tile(&mut self, tile_level: usize, hash: Hash) {
        if self.partial.len() <= tile_level {
            self.partial
                .push(Vec::with_capacity(usize::from(TILE_WIDTH)));
            // A tile level that did not exist at load time: index 0, empty.
            self.clean.push((0, 0));
        }
        let row = &mut self.partial[tile_level];
        row.push(hash);
        if row.len() == usize::from(TILE_WIDTH) {
            let full = std::mem::replace(row, Vec::with_capacity(usize::from(TILE_WIDTH)));
            // This tile's index: the nodes below it end at the new size.
            let index = ((self.size >> (TILE_HEIGHT * tile_level as u32)) >> TILE_HEIGHT) - 1;
            self.filled.push((tile_level as u8, index, full));
        }
    }

    /// The root hash of the tree as it stands.
    pub fn root(&self) -> Hash {
        fold_right(&self.compact)
    }

    /// Every tile that changed since loading (or since [`Self::clear_dirty`]):
    /// tiles that filled up, then each level's partial tile if it grew or is
    /// new. Writing exactly these brings the store to [`Self::size`].
    /// Ordered by tile level, then index.
    pub fn dirty_tiles(&self) -> Vec<TileRef<'_>> {
        let mut out: Vec<TileRef<'_>> = self
            .filled
            .iter()
            .map(|(level, index, hashes)| TileRef {
                id: TileId {
                    level: *level,
                    index: *index,
                    width: TILE_WIDTH,
                },
                hashes,
            })
            .collect();
        for (level, row) in self.partial.iter().enumerate() {
            if row.is_empty() {
                continue;
            }
            let index = (self.size >> (TILE_HEIGHT * level as u32)) >> TILE_HEIGHT;
            let width = row.len() as u16;
            if self.clean.get(level) != Some(&(index, width)) {
                out.push(TileRef {
                    id: TileId {
                        level: level as u8,
                        index,
                        width,
                    },
                    hashes: row,
                });
            }
        }
        out.sort_by_key(|t| (t.id.level, t.id.index));
        out
    }

    /// Forgets which tiles changed, once the store has durably written them.
    pub fn clear_dirty(&mut self) {
        self.filled.clear();
        for (level, row) in self.partial.iter().enumerate() {
            let index = (self.size >> (TILE_HEIGHT * level as u32)) >> TILE_HEIGHT;
            self.clean[level] = (index, row.len() as u16);
        }
    }
}

impl Default for RightEdge {
    fn default() -> Self {
        RightEdge::empty()
    }
}

/// Tiles in a `HashMap`: a [`TileReader`] for tests, for rebuilding a tree in
/// memory to check a store against, and for verifying an export offline.
///
/// Keeps the widest version of each tile it has been given.
#[derive(Clone, Debug, Default)]
pub struct MemoryTiles {
    tiles: HashMap<(u8, u64), Vec<Hash>>,
}

impl MemoryTiles {
    pub fn new() -> MemoryTiles {
        MemoryTiles::default()
    }

    /// Stores one tile, unless a wider version of it is already here.
    pub fn insert(&mut self, level: u8, index: u64, hashes: &[Hash]) {
        let slot = self.tiles.entry((level, index)).or_default();
        if hashes.len() > slot.len() {
            *slot = hashes.to_vec();
        }
    }

    /// Stores every dirty tile of `edge`.
    pub fn apply(&mut self, edge: &RightEdge) {
        for tile in edge.dirty_tiles() {
            self.insert(tile.id.level, tile.id.index, tile.hashes);
        }
    }

    /// All the hashes held for one tile.
    pub fn get(&self, level: u8, index: u64) -> Option<&[Hash]> {
        self.tiles.get(&(level, index)).map(Vec::as_slice)
    }

    /// How many tiles are held.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

impl TileReader for MemoryTiles {
    type Error = LogError;

    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<Hash>, LogError> {
        let have = self
            .tiles
            .get(&(level, index))
            .map_or(&[][..], Vec::as_slice);
        let want = usize::from(width);
        if have.len() < want || want == 0 || want > usize::from(TILE_WIDTH) {
            return Err(LogError::ShortTile {
                level,
                index,
                wanted: width,
                got: have.len(),
            });
        }
        Ok(have[..want].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn split_point_is_rfc_9162s() {
        for (n, k) in [
            (2u64, 1u64),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(largest_power_of_two_below(n), k, "n = {n}");
        }
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    }

    #[test]
    fn subtree_hash_refuses_impossible_subtrees() {
        let tiles = MemoryTiles::new();
        assert!(matches!(
            subtree_hash(&tiles, 64, 0),
            Err(LogError::SubtreeOutOfRange { .. })
        ));
        assert!(matches!(
            subtree_hash(&tiles, 1, u64::MAX),
            Err(LogError::SubtreeOutOfRange { .. })
        ));
        assert!(matches!(
            subtree_hash(&tiles, 3, 0),
            Err(LogError::ShortTile { .. })
        ));
    }

    #[test]
    fn a_short_answer_from_a_reader_is_an_error() {
        struct Liar;
        impl TileReader for Liar {
            type Error = LogError;
            fn read_tile(&self, _: u8, _: u64, _: u16) -> Result<Vec<Hash>, LogError> {
                Ok(vec![Hash::default()])
            }
        }
        assert!(matches!(
            tree_root(&Liar, 300),
            Err(LogError::ShortTile { .. })
        ));
        assert!(matches!(
            RightEdge::load(&Liar, 300),
            Err(LogError::ShortTile { .. })
        ));
    }

    #[test]
    fn right_edge_matches_reference_for_small_trees() {
        let all = leaves(600);
        let mut edge = RightEdge::empty();
        let mut tiles = MemoryTiles::new();
        assert_eq!(edge.root(), Hash::EMPTY_TREE);
        for n in 1..=600u64 {
            edge.push(all[n as usize - 1]);
            let want = merkle_tree_hash(&all[..n as usize]);
            assert_eq!(edge.root(), want, "size {n}");
            tiles.apply(&edge);
            edge.clear_dirty();
            assert_eq!(tree_root(&tiles, n).unwrap(), want, "tiled size {n}");
        }
    }
}
