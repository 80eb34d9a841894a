//! What a `log.erased` record says (DESIGN §4, §5): which bodies of its log
//! were erased. An erased body is a gap in the trail, so `verify` accepts
//! one only when a record of flightrec's own (`submitted_by: flightrec`)
//! names its `seq` here.
//!
//! Not here: erasing anything (the store does that), or deciding what may
//! be erased (retention and erasure requests).

use crate::event::Body;
use serde_json::{Value, json};
use std::ops::RangeInclusive;

/// The type of the record that tells of an erasure.
pub const ERASED_TYPE: &str = "log.erased";

/// The type of flightrec's record that tells of crypto-shredding: every
/// data key of its tenant destroyed, every body they sealed unreadable.
/// `verify` accepts a body it cannot open for that reason only before one.
pub const KEYS_DESTROYED_TYPE: &str = "encryption.keys_destroyed";

/// The `metadata` member that lists the erased seqs.
pub const ERASED_SEQS: &str = "erased_seqs";

/// `metadata` for a `log.erased` record of these seqs: `erased_seqs` is a
/// list of `[first, last]` pairs, both included, so a retention pass over a
/// million records is a few numbers.
pub fn erased_seqs_metadata(ranges: &[RangeInclusive<u64>]) -> Value {
    let pairs: Vec<Value> = ranges.iter().map(|r| json!([r.start(), r.end()])).collect();
    json!({ ERASED_SEQS: pairs })
}

/// The seqs a `log.erased` record's body names; `None` when the body does
/// not name them in the form above (it then covers nothing).
pub fn erased_seqs(body: &Body) -> Option<Vec<RangeInclusive<u64>>> {
    let pairs = body.metadata.as_ref()?.get(ERASED_SEQS)?.as_array()?;
    pairs
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([first, last]) => {
                let (first, last) = (first.as_u64()?, last.as_u64()?);
                (first <= last).then_some(first..=last)
            }
            _ => None,
        })
        .collect()
}

/// Seqs as few inclusive ranges, for a set built one seq at a time in
/// increasing order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqRanges(Vec<RangeInclusive<u64>>);

impl SeqRanges {
    /// Adds `seq`, which must not be below any seq added before.
    pub fn push(&mut self, seq: u64) {
        match self.0.last_mut() {
            Some(last) if *last.end() + 1 == seq => *last = *last.start()..=seq,
            Some(last) if last.contains(&seq) => {}
            _ => self.0.push(seq..=seq),
        }
    }

    pub fn ranges(&self) -> &[RangeInclusive<u64>] {
        &self.0
    }

    /// How many seqs.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|r| r.end() - r.start() + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first seq of `self` that no range of `cover` holds.
    pub fn first_not_in(&self, cover: &[RangeInclusive<u64>]) -> Option<u64> {
        let mut cover: Vec<RangeInclusive<u64>> = cover.to_vec();
        cover.sort_by_key(|r| *r.start());
        for range in &self.0 {
            let mut next = *range.start();
            for c in &cover {
                if *c.start() > next {
                    break;
                }
                if *c.end() >= next {
                    match c.end().checked_add(1) {
                        Some(after) => next = after,
                        None => return None,
                    }
                }
            }
            if next <= *range.end() {
                return Some(next);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(metadata: Value) -> Body {
        serde_json::from_value(json!({ "metadata": metadata })).unwrap()
    }

    #[test]
    fn metadata_reads_back() {
        let ranges = [3..=3, 10..=2_000_000];
        let b = body(erased_seqs_metadata(&ranges));
        assert_eq!(erased_seqs(&b), Some(ranges.to_vec()));
    }

    #[test]
    fn malformed_lists_cover_nothing() {
        for bad in [
            json!({}),
            json!({"erased_seqs": 5}),
            json!({"erased_seqs": [[5]]}),
            json!({"erased_seqs": [[5, 4]]}),
            json!({"erased_seqs": [[-1, 4]]}),
            json!({"erased_seqs": [["1", "2"]]}),
        ] {
            assert_eq!(erased_seqs(&body(bad.clone())), None, "{bad}");
        }
    }

    #[test]
    fn ranges_grow_and_find_what_is_not_covered() {
        let mut erased = SeqRanges::default();
        for s in [1, 2, 3, 7, 8, 20] {
            erased.push(s);
        }
        assert_eq!(erased.ranges(), &[1..=3, 7..=8, 20..=20]);
        assert_eq!(erased.len(), 6);
        assert_eq!(erased.first_not_in(&[1..=8, 20..=20]), None);
        assert_eq!(erased.first_not_in(&[7..=30, 1..=2]), Some(3));
        assert_eq!(erased.first_not_in(&[1..=2, 3..=3, 7..=8]), Some(20));
        assert_eq!(erased.first_not_in(&[]), Some(1));
    }
}
