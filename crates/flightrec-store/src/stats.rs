//! What `/v1/stats` reports of a window: counts, the rates compliance
//! asks for and duration percentiles, overall or per group.
//!
//! Every append keeps a table of tallies (`record_stats`) with one row per
//! tenant, dimension (verb, provider, agent, type or status), hour of
//! `time` and value of that dimension: its counts and a histogram of its
//! durations. A window's whole hours are read from it, its partial edge
//! hours from the records themselves (see `hour_windows`), so a window over
//! a million records reads one row per hour and group. Durations are
//! bucketed to the millisecond below 32 ms, then 8 buckets per doubling,
//! so a percentile is within 1/16 of the exact one (or 0.5 ms); the
//! histogram is stored as varint (bucket, count) pairs, a few hundred bytes
//! at most.
//!
//! Headers and these columns never change (erasure clears bodies and the
//! columns that can name a person, none of them tallied here), so the
//! tallies never go stale.

use crate::hour_windows::WindowSum;
use flightrec_core::event::Measures;
use flightrec_core::record::SealedEvent;
use std::collections::BTreeMap;

/// What `/v1/stats` can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Verb,
    Provider,
    Agent,
    Type,
    Status,
    Day,
    Hour,
}

impl GroupBy {
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Verb,
        GroupBy::Provider,
        GroupBy::Agent,
        GroupBy::Type,
        GroupBy::Status,
        GroupBy::Day,
        GroupBy::Hour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Verb => "verb",
            GroupBy::Provider => "provider",
            GroupBy::Agent => "agent",
            GroupBy::Type => "type",
            GroupBy::Status => "status",
            GroupBy::Day => "day",
            GroupBy::Hour => "hour",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// The dimension whose tallies answer it. Every record has a status,
    /// so the status rows, summed per hour or day, count every record.
    pub fn dimension(group_by: Option<GroupBy>) -> Dimension {
        match group_by {
            Some(GroupBy::Verb) => Dimension::Verb,
            Some(GroupBy::Provider) => Dimension::Provider,
            Some(GroupBy::Agent) => Dimension::Agent,
            Some(GroupBy::Type) => Dimension::Type,
            Some(GroupBy::Status | GroupBy::Day | GroupBy::Hour) | None => Dimension::Status,
        }
    }
}

/// A column `record_stats` keeps tallies of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Verb,
    Provider,
    Agent,
    Type,
    Status,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Verb,
        Dimension::Provider,
        Dimension::Agent,
        Dimension::Type,
        Dimension::Status,
    ];

    /// Its name in `record_stats.dim`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Verb => "verb",
            Dimension::Provider => "provider",
            Dimension::Agent => "agent",
            Dimension::Type => "type",
            Dimension::Status => "status",
        }
    }
}

/// The value a record without the column is tallied under (no verb, no
/// provider, no agent); the API shows it as `null`.
pub const NO_VALUE: &str = "";

/// One record as the tallies see it.
#[derive(Debug, Clone, Copy)]
pub struct StatFacts<'a> {
    pub time: &'a str,
    pub event_type: &'a str,
    pub status: &'a str,
    pub verb: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    pub governance_status: Option<&'a str>,
    pub measures: Measures,
}

impl<'a> StatFacts<'a> {
    /// A record on its way into the log.
    pub fn of(event: &'a SealedEvent) -> StatFacts<'a> {
        StatFacts {
            time: &event.time,
            event_type: &event.event_type,
            status: event.status.as_str(),
            verb: event.index.verb.as_deref(),
            provider: event.index.provider.as_deref(),
            agent_id: event.index.agent_id.as_deref(),
            governance_status: event.index.governance_status.as_deref(),
            measures: event.measures,
        }
    }

    fn value(&self, dimension: Dimension) -> &str {
        match dimension {
            Dimension::Verb => self.verb.unwrap_or(NO_VALUE),
            Dimension::Provider => self.provider.unwrap_or(NO_VALUE),
            Dimension::Agent => self.agent_id.unwrap_or(NO_VALUE),
            Dimension::Type => self.event_type,
            Dimension::Status => self.status,
        }
    }

    fn group(&self, group_by: Option<GroupBy>) -> &str {
        match group_by {
            None => NO_VALUE,
            Some(GroupBy::Day) => day_of(self.time),
            Some(GroupBy::Hour) => hour_of(self.time),
            Some(g) => self.value(GroupBy::dimension(Some(g))),
        }
    }

    fn counts(&self) -> RowCounts {
        RowCounts {
            n: 1,
            fail: u64::from(self.status == "fail"),
            warn: u64::from(self.status == "warn"),
            blocked: u64::from(self.governance_status == Some("blocked")),
            dry_run: u64::from(self.measures.dry_run),
            idempotency_hits: u64::from(self.measures.idempotency_hit),
        }
    }
}

/// The records' columns a [`StatFacts`] is read from, in its fields'
/// order (both stores read them so for a window's edge hours).
pub(crate) const FACT_COLUMNS: &str = "time, type, status, verb, provider, agent_id, \
                                       governance_status, dry_run, idempotency_hit, duration_ms";

/// The group a `record_stats` row adds to, as SQL both stores run.
pub(crate) fn group_expr(group_by: Option<GroupBy>) -> &'static str {
    match group_by {
        None => "''",
        Some(GroupBy::Day) => "substr(hour, 1, 10)",
        Some(GroupBy::Hour) => "hour",
        Some(_) => "value",
    }
}

/// The key of the hour of a time (`2026-11-23T02`), as `record_stats` has.
pub fn hour_of(time: &str) -> &str {
    time.get(..13).unwrap_or(time)
}

/// The key of the day of a time or hour key (`2026-11-23`).
pub fn day_of(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// The counters of one `record_stats` row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub n: u64,
    pub fail: u64,
    pub warn: u64,
    pub blocked: u64,
    pub dry_run: u64,
    pub idempotency_hits: u64,
}

impl RowCounts {
    /// `part`'s share of these records (0 when there are none).
    pub fn rate(&self, part: u64) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            part as f64 / self.n as f64
        }
    }

    fn add(&mut self, more: &RowCounts) {
        self.n += more.n;
        self.fail += more.fail;
        self.warn += more.warn;
        self.blocked += more.blocked;
        self.dry_run += more.dry_run;
        self.idempotency_hits += more.idempotency_hits;
    }
}

/// Durations below this many milliseconds each have a bucket of their own.
const EXACT_BELOW: u64 = 32;
/// Buckets per doubling above that.
const PER_DOUBLING: u64 = 8;

/// The histogram bucket of a duration: its rounded milliseconds below 32,
/// then 8 buckets per doubling; `None` for no duration (or one that is not
/// a finite number ≥ 0).
pub fn duration_bucket(ms: Option<f64>) -> Option<u64> {
    let ms = ms.filter(|ms| ms.is_finite() && *ms >= 0.0)?;
    // Saturates at 2^53 ms (285,000 years), which no duration reaches.
    let r = ((ms + 0.5).floor() as u64).min(1 << 53);
    if r < EXACT_BELOW {
        return Some(r);
    }
    let top = 63 - u64::from(r.leading_zeros()); // r's highest set bit, ≥ 5
    let shift = top - 3; // keeps r's 4 highest bits: 8..=15
    let mantissa = r >> shift;
    Some(EXACT_BELOW + (top - 5) * PER_DOUBLING + (mantissa - PER_DOUBLING))
}

/// The duration a bucket stands for: the middle of the whole milliseconds
/// it holds (exact below 32 ms).
pub fn bucket_value(b: u64) -> f64 {
    if b < EXACT_BELOW {
        return b as f64;
    }
    let k = b - EXACT_BELOW;
    let shift = 2 + k / PER_DOUBLING; // top - 3, where top = 5 + k / 8
    let low = (PER_DOUBLING + k % PER_DOUBLING) << shift;
    let high = low + (1 << shift) - 1;
    (low + high) as f64 / 2.0
}

/// Counts, rates and durations of a set of records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub counts: RowCounts,
    /// How many records with a `duration_ms` fall in each bucket.
    pub durations: BTreeMap<u64, u64>,
}

impl Tally {
    /// Counts one record.
    pub fn count(&mut self, facts: &StatFacts<'_>) {
        self.counts.add(&facts.counts());
        if let Some(bucket) = duration_bucket(facts.measures.duration_ms) {
            *self.durations.entry(bucket).or_default() += 1;
        }
    }

    pub fn merge(&mut self, more: &Tally) {
        self.counts.add(&more.counts);
        for (bucket, n) in &more.durations {
            *self.durations.entry(*bucket).or_default() += n;
        }
    }

    /// How many of the records had a duration.
    pub fn with_duration(&self) -> u64 {
        self.durations.values().sum()
    }

    /// The nearest-rank `p`-th percentile (0 < p ≤ 1) of the durations, to
    /// the histogram's precision; `None` without durations.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let total = self.with_duration();
        let rank = ((p * total as f64).ceil() as u64).clamp(1, total.max(1));
        let mut seen = 0;
        for (bucket, n) in &self.durations {
            seen += n;
            if seen >= rank {
                return Some(bucket_value(*bucket));
            }
        }
        None
    }

    /// The histogram as stored: (bucket, count) pairs in bucket order,
    /// each number an unsigned LEB128 varint.
    pub fn encode_durations(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.durations.len() * 3);
        for (bucket, n) in &self.durations {
            put_varint(&mut out, *bucket);
            put_varint(&mut out, *n);
        }
        out
    }

    /// Adds a histogram [`Tally::encode_durations`] wrote.
    pub fn merge_encoded_durations(&mut self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            let bucket = take_varint(&mut bytes)?;
            let n = take_varint(&mut bytes)?;
            *self.durations.entry(bucket).or_default() += n;
        }
        Ok(())
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes
            .split_first()
            .ok_or("a duration histogram ends inside a number")?;
        *bytes = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a duration histogram holds a number longer than 64 bits".into())
}

/// Tallies per group (one group, keyed [`NO_VALUE`], without `group_by`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatGroups(pub BTreeMap<String, Tally>);

impl StatGroups {
    /// Counts one record, read from the records themselves.
    pub fn count(&mut self, facts: &StatFacts<'_>, group_by: Option<GroupBy>) {
        self.group(facts.group(group_by)).count(facts);
    }

    /// The tally of `group`, empty until something is added.
    pub fn group(&mut self, group: &str) -> &mut Tally {
        if !self.0.contains_key(group) {
            self.0.insert(group.to_owned(), Tally::default());
        }
        self.0.get_mut(group).expect("inserted above")
    }

    /// Everything in one tally.
    pub fn total(&self) -> Tally {
        let mut all = Tally::default();
        for tally in self.0.values() {
            all.merge(tally);
        }
        all
    }
}

impl WindowSum for StatGroups {
    fn add(&mut self, more: StatGroups) {
        for (group, tally) in more.0 {
            self.0.entry(group).or_default().merge(&tally);
        }
    }
}

/// The key of a `record_stats` row, beside its tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatKey {
    pub dimension: Dimension,
    pub hour: String,
    pub value: String,
}

/// Tallies per `record_stats` row: what one append adds (each row written
/// once per batch), or a migration's count of the records already stored.
#[derive(Debug, Default)]
pub struct StatRows(pub BTreeMap<StatKey, Tally>);

impl StatRows {
    pub fn count(&mut self, facts: &StatFacts<'_>) {
        let hour = hour_of(facts.time);
        for dimension in Dimension::ALL {
            let key = StatKey {
                dimension,
                hour: hour.to_owned(),
                value: facts.value(dimension).to_owned(),
            };
            self.0.entry(key).or_default().count(facts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_32_ms_then_within_a_sixteenth() {
        assert_eq!(duration_bucket(None), None);
        assert_eq!(duration_bucket(Some(f64::NAN)), None);
        assert_eq!(duration_bucket(Some(-1.0)), None);
        for ms in 0..32u32 {
            let b = duration_bucket(Some(f64::from(ms))).unwrap();
            assert_eq!(bucket_value(b), f64::from(ms));
        }
        assert_eq!(duration_bucket(Some(2.49)), Some(2));
        assert_eq!(duration_bucket(Some(2.5)), Some(3));
        let mut previous = duration_bucket(Some(31.0)).unwrap();
        for ms in 32..200_000u64 {
            let b = duration_bucket(Some(ms as f64)).unwrap();
            assert!(
                b == previous || b == previous + 1,
                "{ms}: {previous} then {b}"
            );
            previous = b;
            let value = bucket_value(b);
            assert!(
                (value - ms as f64).abs() <= ms as f64 / 16.0,
                "{ms} ms is in bucket {b}, which stands for {value}"
            );
        }
        // 32..=35 share a bucket, 36 starts the next (four per step at 32).
        assert_eq!(duration_bucket(Some(32.0)), Some(32));
        assert_eq!(duration_bucket(Some(35.0)), Some(32));
        assert_eq!(duration_bucket(Some(36.0)), Some(33));
        assert_eq!(bucket_value(32), 33.5);
        assert!(duration_bucket(Some(1e300)).is_some());
    }

    fn record(ms: Option<f64>) -> StatFacts<'static> {
        StatFacts {
            time: "2026-01-01T00:00:00.000000Z",
            event_type: "x",
            status: "ok",
            verb: None,
            provider: None,
            agent_id: None,
            governance_status: None,
            measures: Measures {
                duration_ms: ms,
                ..Measures::default()
            },
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut tally = Tally::default();
        assert_eq!(tally.percentile(0.5), None);
        for ms in 1..=10 {
            tally.count(&record(Some(f64::from(ms))));
        }
        tally.count(&record(None));
        assert_eq!(tally.counts.n, 11);
        assert_eq!(tally.with_duration(), 10);
        assert_eq!(tally.percentile(0.5), Some(5.0));
        assert_eq!(tally.percentile(0.95), Some(10.0));
        assert_eq!(tally.percentile(0.1), Some(1.0));
    }

    #[test]
    fn histograms_round_trip_and_bad_bytes_are_refused() {
        let mut tally = Tally::default();
        for ms in [0.0, 5.0, 5.0, 300.0, 1e9, 1e15] {
            tally.count(&record(Some(ms)));
        }
        let bytes = tally.encode_durations();
        let mut back = Tally::default();
        back.merge_encoded_durations(&bytes).unwrap();
        assert_eq!(back.durations, tally.durations);
        back.merge_encoded_durations(&bytes).unwrap();
        assert_eq!(back.with_duration(), 2 * tally.with_duration());
        assert!(Tally::default().merge_encoded_durations(&[0x85]).is_err());
        assert!(
            Tally::default()
                .merge_encoded_durations(&[0xff; 11])
                .is_err()
        );
    }
}
