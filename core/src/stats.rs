//! Per-operation timing (`getPerformanceStats()`): a fixed-size log-scale
//! histogram per operation, lock-free (relaxed atomics). Four buckets per
//! power of two from 1 ns, so a percentile is within ~19% of the true value;
//! count, sum and max are exact for the timed calls. Reads (`get`, `has`) are
//! the hottest path: every call is counted, one in [`READ_SAMPLE`] is timed
//! (the clock read costs about as much as a small `get`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The operations measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Get,
    Has,
    Set,
    Delete,
    SetMultiple,
    Replace,
    Reload,
    Flush,
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::Get,
        Op::Has,
        Op::Set,
        Op::Delete,
        Op::SetMultiple,
        Op::Replace,
        Op::Reload,
        Op::Flush,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Has => "has",
            Op::Set => "set",
            Op::Delete => "delete",
            Op::SetMultiple => "setMultiple",
            Op::Replace => "replace",
            Op::Reload => "reload",
            Op::Flush => "flush",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One in this many reads is timed.
pub const READ_SAMPLE: u64 = 16;

const BUCKETS: usize = 4 * 40; // up to 2^40 ns (~18 min)

struct Hist {
    count: AtomicU64,
    timed: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

impl Hist {
    fn new() -> Hist {
        Hist {
            count: AtomicU64::new(0),
            timed: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < 2 {
        return 0;
    }
    let log = 63 - ns.leading_zeros() as usize; // floor(log2)
    let frac = ((ns >> log.saturating_sub(2)) & 3) as usize; // next two bits
    (log * 4 + frac).min(BUCKETS - 1)
}

/// The upper bound (ns) of a bucket.
fn bucket_top(i: usize) -> f64 {
    let log = i / 4;
    let frac = (i % 4) as f64;
    (1u64 << log) as f64 * (1.0 + (frac + 1.0) / 4.0)
}

/// Statistics of one operation, in microseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub op: &'static str,
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

/// Timing of every operation of one store instance.
pub struct Stats {
    hists: Vec<Hist>,
    /// Report operations slower than this (`None`: off).
    slow: AtomicU64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            hists: Op::ALL.iter().map(|_| Hist::new()).collect(),
            slow: AtomicU64::new(u64::MAX),
        }
    }
}

impl Stats {
    /// Counts a call and says whether to time it.
    #[inline]
    pub fn start(&self, op: Op) -> Option<Instant> {
        let h = &self.hists[op.index()];
        let n = h.count.fetch_add(1, Ordering::Relaxed);
        let sampled = !matches!(op, Op::Get | Op::Has) || n.is_multiple_of(READ_SAMPLE);
        sampled.then(Instant::now)
    }

    /// Records a timed call; returns its duration when it is slower than the
    /// threshold.
    #[inline]
    pub fn finish(&self, op: Op, started: Option<Instant>) -> Option<Duration> {
        let t = started?;
        let d = t.elapsed();
        let ns = d.as_nanos().min(u64::MAX as u128) as u64;
        let h = &self.hists[op.index()];
        h.timed.fetch_add(1, Ordering::Relaxed);
        h.sum_ns.fetch_add(ns, Ordering::Relaxed);
        h.max_ns.fetch_max(ns, Ordering::Relaxed);
        h.buckets[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
        (ns >= self.slow.load(Ordering::Relaxed)).then_some(d)
    }

    /// Operations slower than `threshold` are reported (`None`: off).
    pub fn set_slow_threshold(&self, threshold: Option<Duration>) {
        let v = threshold.map(|d| d.as_nanos().min(u64::MAX as u128 - 1) as u64);
        self.slow.store(v.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn reset(&self) {
        for h in &self.hists {
            h.count.store(0, Ordering::Relaxed);
            h.timed.store(0, Ordering::Relaxed);
            h.sum_ns.store(0, Ordering::Relaxed);
            h.max_ns.store(0, Ordering::Relaxed);
            for b in &h.buckets {
                b.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Operations called at least once.
    pub fn summaries(&self) -> Vec<Summary> {
        let mut out = Vec::new();
        for op in Op::ALL {
            let h = &self.hists[op.index()];
            let count = h.count.load(Ordering::Relaxed);
            let timed = h.timed.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let counts: Vec<u64> = h
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            let max = h.max_ns.load(Ordering::Relaxed) as f64;
            let quantile = |q: f64| {
                if timed == 0 {
                    return 0.0;
                }
                let want = ((timed as f64) * q).ceil().max(1.0) as u64;
                let mut seen = 0;
                for (i, c) in counts.iter().enumerate() {
                    seen += c;
                    if seen >= want {
                        return bucket_top(i).min(max);
                    }
                }
                max
            };
            out.push(Summary {
                op: op.name(),
                count,
                mean: if timed == 0 {
                    0.0
                } else {
                    h.sum_ns.load(Ordering::Relaxed) as f64 / timed as f64 / 1000.0
                },
                p50: quantile(0.5) / 1000.0,
                p95: quantile(0.95) / 1000.0,
                max: max / 1000.0,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_bound_their_values() {
        let mut last = 0;
        for ns in [
            1u64,
            2,
            3,
            5,
            8,
            100,
            1000,
            1234,
            99_999,
            10_000_000,
            1 << 39,
        ] {
            let b = bucket_of(ns);
            assert!(b >= last, "{ns}");
            assert!(
                bucket_top(b) >= ns as f64,
                "{ns} in bucket {b} top {}",
                bucket_top(b)
            );
            assert!(
                bucket_top(b) <= ns as f64 * 1.5 + 2.0,
                "{ns}: top {}",
                bucket_top(b)
            );
            last = b;
        }
    }

    #[test]
    fn percentiles_from_known_samples() {
        let s = Stats::default();
        let h = &s.hists[Op::Set.index()];
        // 90 calls of ~1 µs, 10 of ~1 ms
        for _ in 0..90 {
            h.count.fetch_add(1, Ordering::Relaxed);
            h.timed.fetch_add(1, Ordering::Relaxed);
            h.sum_ns.fetch_add(1000, Ordering::Relaxed);
            h.buckets[bucket_of(1000)].fetch_add(1, Ordering::Relaxed);
        }
        for _ in 0..10 {
            h.count.fetch_add(1, Ordering::Relaxed);
            h.timed.fetch_add(1, Ordering::Relaxed);
            h.sum_ns.fetch_add(1_000_000, Ordering::Relaxed);
            h.buckets[bucket_of(1_000_000)].fetch_add(1, Ordering::Relaxed);
        }
        h.max_ns.store(1_000_000, Ordering::Relaxed);
        let sum = s.summaries();
        assert_eq!(sum.len(), 1);
        let x = &sum[0];
        assert_eq!((x.op, x.count), ("set", 100));
        assert!((x.mean - 100.9).abs() < 0.01, "{}", x.mean);
        assert!(x.p50 >= 1.0 && x.p50 < 1.3, "{}", x.p50);
        assert!(x.p95 >= 1000.0 * 0.99 && x.p95 <= 1000.0, "{}", x.p95);
        assert_eq!(x.max, 1000.0);
        s.reset();
        assert!(s.summaries().is_empty());
    }

    #[test]
    fn reads_are_sampled_writes_are_not_and_slow_calls_are_reported() {
        let s = Stats::default();
        let timed = (0..64).filter(|_| s.start(Op::Get).is_some()).count();
        assert_eq!(timed as u64, 64 / READ_SAMPLE);
        assert!(s.start(Op::Set).is_some());
        s.set_slow_threshold(Some(Duration::from_nanos(1)));
        let t = s.start(Op::Set);
        std::thread::sleep(Duration::from_millis(1));
        assert!(s.finish(Op::Set, t).is_some());
        s.set_slow_threshold(None);
        let t = s.start(Op::Set);
        assert!(s.finish(Op::Set, t).is_none());
        assert_eq!(
            s.summaries().iter().find(|x| x.op == "get").unwrap().count,
            64
        );
    }
}
