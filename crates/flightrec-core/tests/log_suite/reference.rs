//! A deliberately naive RFC 9162 tree over leaf hashes in memory: MTH, PATH
//! and SUBPROOF written as the RFC's recursive definitions (§2.1.1, §2.1.3.1,
//! §2.1.4.1), to check the tiled code against. Subtree hashes are memoised so
//! that checking thousands of proofs stays quick; the recursion is unchanged.

use std::cell::RefCell;
use std::collections::HashMap;

use flightrec_core::log::{Hash, leaf_hash, node_hash};

pub struct Reference {
    pub leaves: Vec<Hash>,
    memo: RefCell<HashMap<(usize, usize), Hash>>,
}

/// The largest power of two strictly less than n.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

impl Reference {
    pub fn new(leaves: Vec<Hash>) -> Reference {
        Reference {
            leaves,
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// Leaves made from distinct inputs, so no two leaf hashes are equal.
    pub fn numbered(n: usize) -> Reference {
        Reference::new(
            (0..n as u64)
                .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
                .collect(),
        )
    }

    /// MTH(D[lo:hi]).
    pub fn mth(&self, lo: usize, hi: usize) -> Hash {
        if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
            return *h;
        }
        let h = match hi - lo {
            0 => Hash::EMPTY_TREE,
            1 => self.leaves[lo],
            n => {
                let k = split(n);
                node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi))
            }
        };
        self.memo.borrow_mut().insert((lo, hi), h);
        h
    }

    pub fn root(&self, size: usize) -> Hash {
        self.mth(0, size)
    }

    /// PATH(m, D[lo:hi]).
    pub fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
        let n = hi - lo;
        if n == 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true).
    pub fn consistency(&self, m: usize, n: usize) -> Vec<Hash> {
        if m == 0 || m == n {
            return Vec::new();
        }
        self.subproof(m, 0, n, true)
    }

    fn subproof(&self, m: usize, lo: usize, hi: usize, complete: bool) -> Vec<Hash> {
        let n = hi - lo;
        if m == n {
            return if complete {
                Vec::new()
            } else {
                vec![self.mth(lo, hi)]
            };
        }
        let k = split(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, complete);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }
}
