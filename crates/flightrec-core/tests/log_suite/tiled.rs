//! The tiled machinery (RightEdge, tiles, subtree reads, proofs built from
//! tiles) against the naive recursive reference, re-checking the whole tree
//! from the tiles after every append.

use std::collections::BTreeSet;

use flightrec_core::log::tile::TileId;
use flightrec_core::log::{
    MemoryTiles, RightEdge, TileReader, consistency_proof, inclusion_proof, subtree_hash,
    tree_root, verify_consistency, verify_inclusion,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::reference::Reference;

/// Checks root, every (or a sample of) inclusion and consistency proof of
/// the tree of `n` leaves held in `tiles` against the reference.
fn check_size(
    reference: &Reference,
    tiles: &MemoryTiles,
    n: u64,
    indexes: &[u64],
    old_sizes: &[u64],
) {
    let root = reference.root(n as usize);
    assert_eq!(tree_root(tiles, n).unwrap(), root, "root of size {n}");
    for &i in indexes {
        let proof = inclusion_proof(tiles, i, n).unwrap();
        assert_eq!(
            proof.hashes,
            reference.path(i as usize, 0, n as usize),
            "inclusion {i} in {n}"
        );
        verify_inclusion(reference.leaves[i as usize], &proof, root)
            .unwrap_or_else(|e| panic!("inclusion {i} in {n}: {e}"));
    }
    for &m in old_sizes {
        let proof = consistency_proof(tiles, m, n).unwrap();
        assert_eq!(
            proof.hashes,
            reference.consistency(m as usize, n as usize),
            "consistency {m} -> {n}"
        );
        verify_consistency(reference.root(m as usize), root, &proof)
            .unwrap_or_else(|e| panic!("consistency {m} -> {n}: {e}"));
    }
}

/// Some indexes below n: the edges, powers of two around, and a stride.
fn sample_below(n: u64, rng: &mut StdRng, extra: usize) -> Vec<u64> {
    let mut set = BTreeSet::new();
    for i in [0, 1, 2, n / 2, n.saturating_sub(2), n - 1] {
        set.insert(i.min(n - 1));
    }
    let mut p = 1;
    while p < n {
        set.insert(p - 1);
        set.insert(p.min(n - 1));
        p *= 2;
    }
    for _ in 0..extra {
        set.insert(rng.gen_range(0..n));
    }
    set.into_iter().collect()
}

#[test]
fn every_size_from_1_to_300_matches_the_reference() {
    let reference = Reference::numbered(300);
    let mut rng = StdRng::seed_from_u64(1);
    let mut edge = RightEdge::empty();
    let mut tiles = MemoryTiles::new();
    for n in 1..=300u64 {
        edge.push(reference.leaves[n as usize - 1]);
        assert_eq!(edge.size(), n);
        assert_eq!(
            edge.root(),
            reference.root(n as usize),
            "right edge root at {n}"
        );
        tiles.apply(&edge);
        edge.clear_dirty();
        // Everything for small trees and around tile boundaries; a sample elsewhere.
        // Proofs for small trees and tile boundaries exhaustively, for every
        // 7th size by sample (building proofs hashes up to 255 nodes per
        // tile, which is slow in debug builds); the root at every size.
        let exhaustive = n <= 33 || [256, 257].contains(&n);
        if !exhaustive && n % 7 != 0 {
            assert_eq!(
                tree_root(&tiles, n).unwrap(),
                reference.root(n as usize),
                "root of size {n}"
            );
            continue;
        }
        let (indexes, old_sizes): (Vec<u64>, Vec<u64>) = if exhaustive {
            ((0..n).collect(), (0..=n).collect())
        } else {
            (
                sample_below(n, &mut rng, 4),
                sample_below(n + 1, &mut rng, 4),
            )
        };
        check_size(&reference, &tiles, n, &indexes, &old_sizes);
    }
}

#[test]
fn every_complete_subtree_of_a_300_leaf_tree_is_read_from_tiles() {
    let reference = Reference::numbered(300);
    let mut edge = RightEdge::empty();
    for leaf in &reference.leaves {
        edge.push(*leaf);
    }
    let mut tiles = MemoryTiles::new();
    tiles.apply(&edge);
    for level in 0..9u32 {
        for index in 0..(300u64 >> level) {
            let lo = (index << level) as usize;
            let hi = ((index + 1) << level) as usize;
            assert_eq!(
                subtree_hash(&tiles, level, index).unwrap(),
                reference.mth(lo, hi),
                "node ({level}, {index})"
            );
        }
    }
    // A subtree that is not complete yet is not in the tiles.
    assert!(subtree_hash(&tiles, 2, 75).is_err());
    assert!(subtree_hash(&tiles, 9, 0).is_err());
}

/// The tiles a tree of `size` leaves has, per https://c2sp.org/tlog-tiles.
fn expected_tiles(size: u64) -> BTreeSet<TileId> {
    let mut out = BTreeSet::new();
    let mut level = 0u8;
    while size >> (8 * level as u32) > 0 {
        let count = size >> (8 * level as u32);
        for index in 0..count / 256 {
            out.insert(TileId {
                level,
                index,
                width: 256,
            });
        }
        if !count.is_multiple_of(256) {
            out.insert(TileId {
                level,
                index: count / 256,
                width: (count % 256) as u16,
            });
        }
        level += 1;
    }
    out
}

fn held_tiles(tiles: &MemoryTiles, size: u64) -> BTreeSet<TileId> {
    expected_tiles(size)
        .into_iter()
        .map(|id| TileId {
            width: tiles.get(id.level, id.index).map_or(0, |h| h.len() as u16),
            ..id
        })
        .collect()
}

#[test]
fn large_trees_match_the_reference_and_the_spec_tile_layout() {
    let total = 70_000u64;
    let reference = Reference::numbered(total as usize);
    let mut rng = StdRng::seed_from_u64(2);
    let mut edge = RightEdge::empty();
    let mut tiles = MemoryTiles::new();
    let checkpoints = [65_535u64, 65_536, 65_537, 66_000, 70_000];
    for n in 1..=total {
        edge.push(reference.leaves[n as usize - 1]);
        if checkpoints.contains(&n) || rng.gen_ratio(1, 5_000) {
            tiles.apply(&edge);
            edge.clear_dirty();
            assert_eq!(edge.root(), reference.root(n as usize), "root at {n}");
            assert_eq!(
                held_tiles(&tiles, n),
                expected_tiles(n),
                "tile widths at {n}"
            );
            let indexes = sample_below(n, &mut rng, 5);
            let olds = sample_below(n + 1, &mut rng, 5);
            check_size(&reference, &tiles, n, &indexes, &olds);
        }
    }
    // The spec's own example: "a tree of size 70,000 will be represented by
    // 273 full level 0 tiles, one partial level 0 tile of width 112, one full
    // level 1 tile, one partial level 1 tile of width 17, and one partial
    // level 2 tile of width 1."
    let layout = expected_tiles(70_000);
    assert_eq!(
        layout
            .iter()
            .filter(|t| t.level == 0 && t.width == 256)
            .count(),
        273
    );
    assert!(layout.contains(&TileId {
        level: 0,
        index: 273,
        width: 112
    }));
    assert!(layout.contains(&TileId {
        level: 1,
        index: 0,
        width: 256
    }));
    assert!(layout.contains(&TileId {
        level: 1,
        index: 1,
        width: 17
    }));
    assert!(layout.contains(&TileId {
        level: 2,
        index: 0,
        width: 1
    }));
    assert_eq!(layout.len(), 277);
    assert_eq!(held_tiles(&tiles, 70_000), layout);
}

/// A store that holds exactly the tiles of one tree size, as a real store
/// would after committing that size, and counts reads.
fn tiles_of(reference: &Reference, size: u64) -> MemoryTiles {
    let mut edge = RightEdge::empty();
    for leaf in &reference.leaves[..size as usize] {
        edge.push(*leaf);
    }
    let mut tiles = MemoryTiles::new();
    tiles.apply(&edge);
    tiles
}

struct Counting<'a> {
    inner: &'a MemoryTiles,
    reads: std::cell::Cell<usize>,
}

impl TileReader for Counting<'_> {
    type Error = flightrec_core::log::LogError;
    fn read_tile(
        &self,
        level: u8,
        index: u64,
        width: u16,
    ) -> Result<Vec<flightrec_core::log::Hash>, Self::Error> {
        self.reads.set(self.reads.get() + 1);
        self.inner.read_tile(level, index, width)
    }
}

#[test]
fn a_right_edge_loaded_midway_continues_exactly() {
    let total = 70_000u64;
    let reference = Reference::numbered(total as usize);
    let mut rng = StdRng::seed_from_u64(3);
    let full = tiles_of(&reference, total);
    let mut starts = vec![1u64, 256, 257, 65_535, 65_536, 69_999];
    starts.push(rng.gen_range(0..total));
    for start in starts {
        let mut tiles = tiles_of(&reference, start);
        let counting = Counting {
            inner: &tiles,
            reads: std::cell::Cell::new(0),
        };
        let mut edge = RightEdge::load(&counting, start).unwrap();
        assert!(
            counting.reads.get() <= 3,
            "load at {start} read {} tiles",
            counting.reads.get()
        );
        assert_eq!(edge.size(), start);
        assert_eq!(
            edge.root(),
            reference.root(start as usize),
            "loaded root at {start}"
        );
        assert!(
            edge.dirty_tiles().is_empty(),
            "nothing is dirty right after load"
        );
        // Continue in a few batches, writing each batch's dirty tiles.
        let mut at = start;
        while at < total {
            let batch_end = (at + rng.gen_range(1..3_000)).min(total);
            let before = held_tiles(&tiles, at);
            for leaf in &reference.leaves[at as usize..batch_end as usize] {
                edge.push(*leaf);
            }
            let dirty: BTreeSet<TileId> = edge.dirty_tiles().iter().map(|t| t.id).collect();
            // Exactly the tiles of the new size that the old size did not have.
            let want: BTreeSet<TileId> = expected_tiles(batch_end)
                .difference(&before)
                .copied()
                .collect();
            assert_eq!(dirty, want, "dirty tiles {at} -> {batch_end}");
            for t in edge.dirty_tiles() {
                assert_eq!(t.hashes.len(), t.id.width as usize);
            }
            tiles.apply(&edge);
            edge.clear_dirty();
            assert!(edge.dirty_tiles().is_empty());
            assert_eq!(
                edge.root(),
                reference.root(batch_end as usize),
                "root at {batch_end}"
            );
            at = batch_end;
        }
        for id in expected_tiles(total) {
            assert_eq!(
                tiles.get(id.level, id.index),
                full.get(id.level, id.index),
                "tile {id} after loading at {start}"
            );
        }
    }
}

#[test]
fn proofs_read_logarithmically_many_tiles() {
    let reference = Reference::numbered(70_000);
    let tiles = tiles_of(&reference, 70_000);
    let counting = Counting {
        inner: &tiles,
        reads: std::cell::Cell::new(0),
    };
    for (i, m) in [
        (0u64, 1u64),
        (12_345, 33_333),
        (69_998, 69_999),
        (65_535, 65_536),
    ] {
        counting.reads.set(0);
        inclusion_proof(&counting, i, 70_000).unwrap();
        assert!(
            counting.reads.get() <= 2 * 17,
            "inclusion {i}: {} reads",
            counting.reads.get()
        );
        counting.reads.set(0);
        consistency_proof(&counting, m, 70_000).unwrap();
        assert!(
            counting.reads.get() <= 2 * 17 + 1,
            "consistency {m}: {} reads",
            counting.reads.get()
        );
    }
}
