//! One engine's line on one metric, learned from what it did: a posterior
//! over where the line lies and how sharp it is.
//!
//! The engine is modelled as labeling a number whose figure `x` on this
//! metric is past its line `t` with probability `σ((ln x − ln t) / s)`: a
//! step at `t` blurred by `s` (the engine's own noise, complaints arriving
//! at random, windows we do not see). Both `t` and `s` are unknown; the
//! posterior is kept on a grid of [`THRESHOLDS`] log-spaced lines times
//! [`SHARPNESS`] widths, as log-weights.
//!
//! Evidence is censored: a clean observation says every metric was under
//! its line, a label says at least one was past its line. The update for a
//! label is shared out by how well the other metrics already explain it
//! (the chance they were all under their lines), so a label at a volume
//! that was clean a hundred times before is blamed on whatever was unusual
//! that day, and a metric that is the same on clean and labeled days
//! learns nothing from either.
//!
//! The one non-obvious decision: the controller never asks for "the line",
//! it asks for [`Line::risk`], the posterior mean of the chance that a
//! figure `x` is past it. Uncertainty then costs volume by itself (a wide
//! posterior puts weight on low lines), so the safety margin shrinks as
//! evidence grows without a separate rule saying so.

use serde::Serialize;

/// Candidate lines per metric.
pub const THRESHOLDS: usize = 48;
/// Candidate widths, in natural-log units of the metric.
pub const SHARPNESS: [f64; 3] = [0.06, 0.15, 0.35];
/// The lines span the prior divided and multiplied by this.
const SPAN: f64 = 12.0;
/// The chance any one observation is wrong (a label from a cause no metric
/// sees, a clean test call that missed a label): no single observation can
/// rule a line out entirely.
const NOISE: f64 = 0.005;
/// Points of the cached risk table, over the same span as the lines and a
/// little beyond.
const TABLE: usize = 96;

/// The posterior over one metric's line.
#[derive(Clone, Debug)]
pub struct Line {
    /// `ln` of the lowest candidate line.
    ln_lo: f64,
    /// `ln` step between candidate lines.
    ln_step: f64,
    /// `log_weight[s * THRESHOLDS + i]`.
    log_weight: Vec<f64>,
    /// [`Line::risk`] at `TABLE` log-spaced figures, rebuilt by
    /// [`Line::refresh`] after updates (a day's observations arrive
    /// together; the table is rebuilt once for them).
    table: Vec<f64>,
    stale: bool,
    /// Observations folded in.
    pub labels: u32,
    pub cleans: u32,
}

/// A summary of a line for explanations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LineSummary {
    /// The posterior median of the line.
    pub median: f64,
    /// The 10th and 90th percentiles.
    pub low: f64,
    pub high: f64,
    pub labels: u32,
    pub cleans: u32,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Line {
    /// A line believed to lie near `prior` (within a factor of `spread`
    /// either way, as a log-normal's standard deviation).
    pub fn new(prior: f64, spread: f64) -> Line {
        let prior = prior.max(1e-6);
        let ln_lo = (prior / SPAN).ln();
        let ln_step = (SPAN * SPAN).ln() / (THRESHOLDS - 1) as f64;
        let sigma = spread.max(1.01).ln();
        let mut log_weight = Vec::with_capacity(THRESHOLDS * SHARPNESS.len());
        for _ in SHARPNESS {
            for i in 0..THRESHOLDS {
                let z = (ln_lo + ln_step * i as f64 - prior.ln()) / sigma;
                log_weight.push(-0.5 * z * z);
            }
        }
        let mut line = Line {
            ln_lo,
            ln_step,
            log_weight,
            table: Vec::new(),
            stale: true,
            labels: 0,
            cleans: 0,
        };
        line.refresh();
        line
    }

    fn ln_line(&self, i: usize) -> f64 {
        self.ln_lo + self.ln_step * i as f64
    }

    /// The chance the engine counts `x` past line `i` at width `s`.
    fn past(&self, ln_x: f64, i: usize, s: f64) -> f64 {
        sigmoid((ln_x - self.ln_line(i)) / s)
    }

    /// A clean observation with figure `x`.
    pub fn clean(&mut self, x: f64) {
        if self.update(x, |past| 1.0 - past) {
            self.cleans += 1;
        }
    }

    /// A new label with figure `x`, where `others_under` is the chance every
    /// other metric was under its line (1 when this one alone could explain
    /// it, 0 when another surely does).
    pub fn label(&mut self, x: f64, others_under: f64) {
        let q = others_under.clamp(0.0, 1.0);
        if self.update(x, |past| 1.0 - (1.0 - past) * q) {
            self.labels += 1;
        }
    }

    /// Folds in one observation; false (and nothing learned, nothing
    /// counted) when the figure says nothing about the line.
    fn update(&mut self, x: f64, likelihood: impl Fn(f64) -> f64) -> bool {
        if !(x.is_finite() && x > 0.0) {
            // A figure of zero is under every line: a label cannot be blamed
            // on it, and a clean zero is no news. Neither counts, so a label
            // on a number that had not called does not hold the pool to the
            // cautious reach of an untaught line.
            return false;
        }
        let ln_x = x.ln();
        for (k, s) in SHARPNESS.iter().enumerate() {
            for i in 0..THRESHOLDS {
                let l = NOISE + (1.0 - NOISE) * likelihood(self.past(ln_x, i, *s));
                self.log_weight[k * THRESHOLDS + i] += l.ln();
            }
        }
        let max = self.log_weight.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for w in &mut self.log_weight {
            *w -= max;
        }
        self.stale = true;
        true
    }

    fn weights(&self) -> impl Iterator<Item = (usize, f64, f64)> + '_ {
        self.log_weight
            .iter()
            .enumerate()
            .map(|(j, w)| (j % THRESHOLDS, SHARPNESS[j / THRESHOLDS], w.exp()))
    }

    fn table_ln_x(&self, k: usize) -> f64 {
        // From two steps below the lowest line to two above the highest.
        let lo = self.ln_lo - 2.0 * self.ln_step;
        let hi = self.ln_line(THRESHOLDS - 1) + 2.0 * self.ln_step;
        lo + (hi - lo) * k as f64 / (TABLE - 1) as f64
    }

    /// Rebuilds the risk table after updates.
    pub fn refresh(&mut self) {
        if !self.stale {
            return;
        }
        self.stale = false;
        let total: f64 = self.weights().map(|(_, _, w)| w).sum();
        let mut table = Vec::with_capacity(TABLE);
        for k in 0..TABLE {
            let ln_x = self.table_ln_x(k);
            let risk: f64 = self.weights().map(|(i, s, w)| w * self.past(ln_x, i, s)).sum();
            table.push(risk / total);
        }
        self.table = table;
    }

    /// The posterior chance that the engine counts figure `x` past its line.
    pub fn risk(&self, x: f64) -> f64 {
        if x.is_nan() || x <= 0.0 {
            return 0.0;
        }
        let ln_x = x.ln();
        if self.stale {
            // Not refreshed since the last update: the slow, exact sum.
            let total: f64 = self.weights().map(|(_, _, w)| w).sum();
            let risk: f64 = self.weights().map(|(i, s, w)| w * self.past(ln_x, i, s)).sum();
            return risk / total;
        }
        let lo = self.table_ln_x(0);
        let hi = self.table_ln_x(TABLE - 1);
        if ln_x <= lo {
            return self.table[0];
        }
        if ln_x >= hi {
            return self.table[TABLE - 1];
        }
        let pos = (ln_x - lo) / (hi - lo) * (TABLE - 1) as f64;
        let k = pos.floor() as usize;
        let f = pos - k as f64;
        self.table[k] * (1.0 - f) + self.table[(k + 1).min(TABLE - 1)] * f
    }

    /// The highest figure whose [`Line::risk`] is at most `risk` (the
    /// lowest figure of the table when even that is riskier).
    pub fn reach(&self, risk: f64) -> f64 {
        let (mut lo, mut hi) = (self.table_ln_x(0), self.table_ln_x(TABLE - 1));
        if self.risk(lo.exp()) > risk {
            return lo.exp();
        }
        if self.risk(hi.exp()) <= risk {
            return hi.exp();
        }
        for _ in 0..30 {
            let mid = 0.5 * (lo + hi);
            if self.risk(mid.exp()) <= risk {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo.exp()
    }

    /// The posterior's quantile `q` of the line itself.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut marginal = [0.0; THRESHOLDS];
        for (i, _, w) in self.weights() {
            marginal[i] += w;
        }
        let total: f64 = marginal.iter().sum();
        let mut acc = 0.0;
        for (i, m) in marginal.iter().enumerate() {
            acc += m / total;
            if acc >= q {
                return self.ln_line(i).exp();
            }
        }
        self.ln_line(THRESHOLDS - 1).exp()
    }

    pub fn summary(&self) -> LineSummary {
        LineSummary {
            median: self.quantile(0.5),
            low: self.quantile(0.1),
            high: self.quantile(0.9),
            labels: self.labels,
            cleans: self.cleans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic engine: labels exactly past `truth`.
    fn observe(line: &mut Line, truth: f64, xs: impl Iterator<Item = f64>) {
        for x in xs {
            if x > truth {
                line.label(x, 1.0);
            } else {
                line.clean(x);
            }
        }
    }

    #[test]
    fn with_no_evidence_the_risk_rises_with_the_figure_around_the_prior() {
        let line = Line::new(100.0, 2.5);
        assert!(line.risk(10.0) < 0.05, "{}", line.risk(10.0));
        assert!((0.3..0.7).contains(&line.risk(100.0)), "{}", line.risk(100.0));
        assert!(line.risk(1000.0) > 0.95);
        assert_eq!(line.risk(0.0), 0.0);
        let mut last = 0.0;
        for x in 1..400 {
            let r = line.risk(f64::from(x));
            assert!(r >= last - 1e-12, "risk never falls as the figure rises");
            last = r;
        }
    }

    #[test]
    fn clean_days_lower_the_risk_at_their_figure_and_a_label_raises_it() {
        let mut line = Line::new(100.0, 2.5);
        let before = line.risk(60.0);
        for _ in 0..20 {
            line.clean(60.0);
        }
        line.refresh();
        let after_clean = line.risk(60.0);
        assert!(after_clean < before / 3.0, "{before} -> {after_clean}");
        let median = line.summary().median;
        let risk_at_80 = line.risk(80.0);
        line.label(80.0, 1.0);
        line.refresh();
        assert!(line.risk(80.0) > risk_at_80);
        assert!(line.summary().median < median, "{median} -> {:?}", line.summary());
    }

    #[test]
    fn a_label_another_metric_explains_teaches_this_one_little() {
        let mut blamed = Line::new(100.0, 2.5);
        let mut excused = Line::new(100.0, 2.5);
        blamed.label(50.0, 1.0);
        excused.label(50.0, 0.02);
        assert!(blamed.risk(50.0) > excused.risk(50.0) + 0.2);
        assert!((excused.risk(50.0) - Line::new(100.0, 2.5).risk(50.0)).abs() < 0.05);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Whatever the engine's true line (a factor of five either side of
        /// the prior), figures scattered around it teach where it is.
        #[test]
        fn the_learned_line_converges_to_the_true_one(truth_factor in 0.2f64..5.0, seed in 0u64..1000) {
            let prior = 100.0;
            let truth = prior * truth_factor;
            let mut line = Line::new(prior, 2.5);
            let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut draw = move || {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let early_error = {
                let mut early = line.clone();
                observe(&mut early, truth, (0..10).map(|_| truth * (0.5 + draw())));
                (early.summary().median / truth).ln().abs()
            };
            observe(&mut line, truth, (0..400).map(|_| truth * (0.5 + draw())));
            let s = line.summary();
            let error = (s.median / truth).ln().abs();
            prop_assert!(error < 0.12, "truth {truth}, learned {s:?}");
            prop_assert!(error <= early_error + 0.1, "more evidence, closer: {early_error} -> {error}");
            prop_assert!(s.low <= truth * 1.1 && s.high >= truth / 1.1, "{s:?} brackets {truth}");
        }
    }
}
