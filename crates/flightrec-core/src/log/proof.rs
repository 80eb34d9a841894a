//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4): building
//! them from tiles, and verifying them.
//!
//! Building reads O(log n) complete subtrees through a [`TileReader`].
//! Verifying is pure arithmetic on the proof; it never panics, whatever the
//! sizes, indexes or number of hashes, and it refuses a proof with even one
//! hash too many or too few.
//!
//! Not here: deciding which roots to trust (that is a signed checkpoint's
//! job, see [`super::note`]).

use serde::{Deserialize, Serialize};

use super::tree::{TileReader, range_hash, subtree_hash};
use super::{Hash, LogError, node_hash};

/// Proof that the leaf at `leaf_index` is in the tree of `tree_size` leaves:
/// the RFC 9162 audit path, sibling hashes from the leaf upwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub hashes: Vec<Hash>,
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of
/// `new_size` leaves: the RFC 9162 consistency path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    pub hashes: Vec<Hash>,
}

/// Builds the inclusion proof of leaf `leaf_index` in the tree of `tree_size`
/// leaves, which the reader's tiles must cover.
pub fn inclusion_proof<R>(
    reader: &R,
    leaf_index: u64,
    tree_size: u64,
) -> Result<InclusionProof, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    if leaf_index >= tree_size {
        return Err(LogError::IndexOutOfRange {
            index: leaf_index,
            size: tree_size,
        }
        .into());
    }
    Ok(InclusionProof {
        leaf_index,
        tree_size,
        hashes: path_hashes(reader, 0, leaf_index, tree_size)?,
    })
}

/// Builds the consistency proof from the tree of `old_size` leaves to the
/// tree of `new_size` leaves. Empty when the sizes are equal or `old_size`
/// is 0.
pub fn consistency_proof<R>(
    reader: &R,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    if old_size > new_size {
        return Err(LogError::SizeOrder { old_size, new_size }.into());
    }
    let mut hashes = Vec::new();
    if old_size != 0 && old_size != new_size {
        // The old tree's last complete subtree is node (level, index); its
        // audit path in the new tree, plus the node itself unless it is the
        // whole old tree (the verifier already has that hash: the old root).
        let level = old_size.trailing_zeros();
        let index = (old_size - 1) >> level;
        if index != 0 {
            hashes.push(subtree_hash(reader, level, index)?);
        }
        hashes.extend(path_hashes(reader, level, index, new_size)?);
    }
    Ok(ConsistencyProof {
        old_size,
        new_size,
        hashes,
    })
}

/// How far up the paths of node `(level, index)` and of the tree's last node
/// at that level run apart. Below it, siblings are complete subtrees (the top
/// one may be the ragged right edge); above it, the path only has left
/// siblings, one per set bit of `index >> split`.
fn split_height(level: u32, index: u64, size: u64) -> u32 {
    let last = (size - 1) >> level;
    64 - (index ^ last).leading_zeros()
}

/// The number of hashes in the audit path of node `(level, index)` in the
/// tree of `size` leaves (`index << level < size`).
fn path_len(level: u32, index: u64, size: u64) -> usize {
    let split = split_height(level, index, size);
    let above = index.checked_shr(split).unwrap_or(0);
    split as usize + above.count_ones() as usize
}

/// The audit path of the complete node `(level, index)` in the tree of
/// `size` leaves, bottom up.
fn path_hashes<R>(reader: &R, level: u32, index: u64, size: u64) -> Result<Vec<Hash>, R::Error>
where
    R: TileReader + ?Sized,
    R::Error: From<LogError>,
{
    let split = split_height(level, index, size);
    let mut hashes = Vec::with_capacity(path_len(level, index, size));
    for up in 0..split {
        let sibling = (index >> up) ^ 1;
        let height = level + up;
        if up + 1 < split {
            hashes.push(subtree_hash(reader, height, sibling)?);
        } else {
            // The right sibling that holds the tree's last leaf: complete or not.
            hashes.push(range_hash(reader, sibling << height, size)?);
        }
    }
    for up in split..(64 - level) {
        let node = index >> up;
        if node & 1 == 1 {
            hashes.push(subtree_hash(reader, level + up, node ^ 1)?);
        }
    }
    Ok(hashes)
}

/// The root that `proof` and `leaf_hash` imply (RFC 9162 §2.1.3.2), or an
/// error if the proof is malformed for its index and size. Only meaningful
/// once compared with a trusted root; [`verify_inclusion`] does that.
pub fn root_from_inclusion_proof(
    leaf_hash: Hash,
    proof: &InclusionProof,
) -> Result<Hash, LogError> {
    let (index, size) = (proof.leaf_index, proof.tree_size);
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let expected = path_len(0, index, size);
    if proof.hashes.len() != expected {
        return Err(LogError::WrongProofLength {
            expected,
            got: proof.hashes.len(),
        });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut root = leaf_hash;
    for p in &proof.hashes {
        if snode == 0 {
            // Unreachable after the length check; kept as RFC 9162 writes it.
            return Err(LogError::WrongProofLength {
                expected,
                got: proof.hashes.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            root = node_hash(p, &root);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            root = node_hash(&root, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(LogError::WrongProofLength {
            expected,
            got: proof.hashes.len(),
        });
    }
    Ok(root)
}

/// Checks that the leaf with hash `leaf_hash` is at `proof.leaf_index` in the
/// tree of `proof.tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf_hash: Hash,
    proof: &InclusionProof,
    root: Hash,
) -> Result<(), LogError> {
    if root_from_inclusion_proof(leaf_hash, proof)? == root {
        Ok(())
    } else {
        Err(LogError::InclusionMismatch)
    }
}

/// Checks that the tree of `proof.old_size` leaves with root `old_root` is a
/// prefix of the tree of `proof.new_size` leaves with root `new_root`
/// (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots; an old size of 0 needs an
/// empty proof and the empty-tree root as `old_root`.
pub fn verify_consistency(
    old_root: Hash,
    new_root: Hash,
    proof: &ConsistencyProof,
) -> Result<(), LogError> {
    let (old_size, new_size) = (proof.old_size, proof.new_size);
    let hashes = &proof.hashes;
    if old_size > new_size {
        return Err(LogError::SizeOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !hashes.is_empty() {
            return Err(LogError::WrongProofLength {
                expected: 0,
                got: hashes.len(),
            });
        }
        let old_ok = if old_size == 0 {
            old_root == Hash::EMPTY_TREE
        } else {
            old_root == new_root
        };
        return if old_ok {
            Ok(())
        } else {
            Err(LogError::ConsistencyMismatch { which: "old" })
        };
    }

    let level = old_size.trailing_zeros();
    let index = (old_size - 1) >> level;
    let expected = usize::from(index != 0) + path_len(level, index, new_size);
    if hashes.len() != expected {
        return Err(LogError::WrongProofLength {
            expected,
            got: hashes.len(),
        });
    }

    // When the old tree is one complete subtree, its root starts the path.
    let (first, rest) = if index == 0 {
        (old_root, &hashes[..])
    } else {
        (hashes[0], &hashes[1..])
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if snode == 0 {
            return Err(LogError::WrongProofLength {
                expected,
                got: hashes.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(LogError::WrongProofLength {
            expected,
            got: hashes.len(),
        });
    }
    if fr != old_root {
        return Err(LogError::ConsistencyMismatch { which: "old" });
    }
    if sr != new_root {
        return Err(LogError::ConsistencyMismatch { which: "new" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_sizes_are_errors_not_panics() {
        let h = Hash::default();
        for (index, size) in [(0, 0), (1, 1), (u64::MAX, u64::MAX), (u64::MAX, 0), (5, 3)] {
            let p = InclusionProof {
                leaf_index: index,
                tree_size: size,
                hashes: vec![h; 3],
            };
            assert!(verify_inclusion(h, &p, h).is_err());
        }
        for len in [0usize, 1, 63, 64, 65, 200] {
            let p = InclusionProof {
                leaf_index: 0,
                tree_size: u64::MAX,
                hashes: vec![h; len],
            };
            assert!(verify_inclusion(h, &p, h).is_err());
            let p = InclusionProof {
                leaf_index: u64::MAX - 1,
                tree_size: u64::MAX,
                hashes: vec![h; len],
            };
            assert!(verify_inclusion(h, &p, h).is_err());
            for (old_size, new_size) in [
                (1, u64::MAX),
                (u64::MAX - 1, u64::MAX),
                (1 << 63, u64::MAX),
                (u64::MAX, 1),
                (3, 3),
            ] {
                let p = ConsistencyProof {
                    old_size,
                    new_size,
                    hashes: vec![h; len],
                };
                assert!(verify_consistency(h, Hash([1; 32]), &p).is_err());
            }
        }
    }

    #[test]
    fn path_lengths_at_the_extremes() {
        assert_eq!(path_len(0, 0, 1), 0);
        assert_eq!(path_len(0, 0, u64::MAX), 64);
        assert_eq!(path_len(0, u64::MAX - 1, u64::MAX), 63);
        assert_eq!(path_len(63, 0, u64::MAX), 1);
    }
}
