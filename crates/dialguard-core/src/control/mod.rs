//! The closed loop: learn where this tenant's engines draw their lines from
//! what they did to its numbers, and steer every number's caps under them.
//!
//! ```text
//! LabelObserved ──► figures of the number before it ──► Line per (carrier, metric)
//!  (label or clean)      (control::figures)               (control::line, censored)
//!                                                              │
//! reassess(number) ──► its figures now ──► steer ◄─────────────┘
//!                                            └─► daily / hourly caps + why ──► Guard
//! ```
//!
//! - **Evidence.** Every clean observation and every new label on a calling
//!   number is paired with that number's figures just before it: calls in
//!   the last 24 hours, its recency-weighted calls per day (what an engine
//!   that accumulates evidence has seen), distinct destinations, the
//!   busiest hour, the short, invalid and unanswered shares, and complaints
//!   in 7 days. Each carrier's engine has its own [`Line`] on each metric,
//!   tenant-wide: engines score the enterprise too, so what one number
//!   taught steers the whole pool.
//! - **Priors** are the shipped profiles: the line on daily calls starts at
//!   the profile's mature allowance, the shares at its `strong` levels, all
//!   with a wide spread, so evidence moves them either way.
//! - **Steering.** A volume line's cautious quantile (`caution`, which
//!   moves up as clean evidence narrows the posterior) less a `margin` is
//!   the most the number may reach on that metric; the daily cap is the
//!   volume that keeps every carrier's figures there. Under that, the cap
//!   follows the *strain* proven clean lately (recency-weighted calls a day
//!   that were not engaged conversations: what an engine holds against a
//!   number), carried by the number's own mix of calls, so a level proven
//!   on friendlier traffic does not carry over to a colder list. Rotating
//!   scouts probe `probe_step` above it, and no further than halfway to
//!   the lowest strain labeled lately. A label (which pulls the line's
//!   posterior below the figure it happened at) cuts every number's cap at
//!   once.
//! - **Live limits.** A share or complaint count a carrier has been seen to
//!   label on (a line with labels behind it) stops a number for the rest of
//!   its 24 hours when its own figure today reaches that line less the
//!   margin: four dead destinations in thirty calls and it is done.
//!
//! Everything here is a fold of events and a function of `now`: replaying a
//! log rebuilds the same lines and the same caps.

mod figures;
mod line;
mod suspect;

pub use figures::{Figures, figures};
pub use line::{Line, LineSummary};
pub use suspect::{Answered, Suspicion, suspect};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::Carrier;
use crate::lifecycle::NumberState;
use crate::number::E164;
use crate::risk::RiskConfig;

/// What the controller learns lines on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Outbound calls in the last 24 hours.
    Calls24h,
    /// Recency-weighted outbound calls per day (half-life
    /// `ControlConfig::memory_days`): the volume an accumulating engine sees.
    CallsPerDay,
    /// Distinct destinations in the last 24 hours.
    Destinations24h,
    /// The most calls started in any 60 minutes of the last 24 hours.
    PeakHour,
    /// Short answered calls over answered calls, last 24 hours.
    ShortShare,
    /// Invalid destinations over calls, last 24 hours.
    InvalidShare,
    /// Unanswered calls over calls, last 24 hours (one minus the answer rate).
    UnansweredShare,
    /// Complaints in the last 7 days.
    Complaints7d,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::Calls24h,
        Metric::CallsPerDay,
        Metric::Destinations24h,
        Metric::PeakHour,
        Metric::ShortShare,
        Metric::InvalidShare,
        Metric::UnansweredShare,
        Metric::Complaints7d,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the figure is a volume the caps set (as opposed to a share or
    /// count the number's list and callees set, watched live).
    pub fn is_volume(self) -> bool {
        matches!(
            self,
            Metric::Calls24h | Metric::CallsPerDay | Metric::Destinations24h | Metric::PeakHour
        )
    }

    pub fn describe(self, x: f64) -> String {
        match self {
            Metric::Calls24h => format!("{x:.0} calls in 24 h"),
            Metric::CallsPerDay => format!("{x:.0} calls a day (recency-weighted)"),
            Metric::Destinations24h => format!("{x:.0} distinct destinations in 24 h"),
            Metric::PeakHour => format!("{x:.0} calls in its busiest hour"),
            Metric::ShortShare => format!("{:.0} % short answered calls", x * 100.0),
            Metric::InvalidShare => format!("{:.0} % dead destinations", x * 100.0),
            Metric::UnansweredShare => format!("{:.0} % unanswered", x * 100.0),
            Metric::Complaints7d => format!("{x:.0} complaint(s) in 7 days"),
        }
    }
}

/// The controller's settings. Every default is the product's own choice
/// (`[dialguard]`), not a published engine figure: the published figures
/// are only the priors, read from the profiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControlConfig {
    /// Steer caps by the learned lines (otherwise the profiles' allowances
    /// and the pool budget set them). Default true; `dialguard simulate
    /// --open-loop` runs the campaign without it for comparison.
    pub enabled: bool,
    /// How sure the controller wants to be that a level is under an
    /// engine's line: it steers to this quantile of the line's posterior.
    /// Default 0.2: with little evidence that is well under the prior; as
    /// clean observations accumulate, it closes on the line.
    pub caution: f64,
    /// Kept under the cautious line, as a share of it. Default 0.15.
    pub margin: f64,
    /// Once an engine has labeled on a metric, the figure on it is also held
    /// where the posterior chance of a label per observation is at most
    /// this. Default 0.002. This is what backs a pool off a level that was
    /// often clean but sometimes labeled: the line's quantile may sit above
    /// such a level, the chance of a label at it does not.
    pub label_risk: f64,
    /// A scout's daily cap carries at most this share more strain (see
    /// `Figures::strain`) than the most any number was observed clean at in
    /// the last `proof_days`; the other numbers' caps stay at that proven
    /// strain. Default 0.4. Because the weighted rate lags the daily volume
    /// by days, as an accumulating engine's evidence does, a scout reaches
    /// an engine's line days before the rest of the pool.
    pub probe_step: f64,
    /// One number in this many is a scout in any one week (which ones
    /// rotates weekly): the probing, and the labels it risks, fall on a
    /// few numbers rather than on the whole pool at once. Default 5.
    pub scout_every: u32,
    /// Days a clean observation proves its volume. Default 7.
    pub proof_days: u32,
    /// The prior's spread: the line is believed within this factor of the
    /// profile's figure (one log-normal standard deviation). Default 2.5.
    pub prior_spread: f64,
    /// The same for shares, which live in 0-1. Default 1.6.
    pub share_spread: f64,
    /// Every new label on a calling number multiplies every number's cap by
    /// this (in a pool of `squeeze_numbers` calling numbers; by a
    /// proportionally smaller step in a larger one). Default 0.75. The
    /// lines say where an engine draws its line; this says that the pool as
    /// a whole is being labeled faster than the lines explain, which is
    /// what happens when a level proven clean on lighter traffic is too
    /// much for this campaign's.
    pub squeeze: f64,
    /// The pool size at which one label takes the whole `squeeze` step.
    /// Default 20.
    pub squeeze_numbers: u32,
    /// The share of the caps given back per day without a new label.
    /// Default 0.03: a halving is undone in about two and a half weeks.
    pub squeeze_recovery_per_day: f64,
    /// Each new label on a calling number also lowers the level the caps
    /// recover to by this share (scaled like `squeeze`). Default 0.1: a
    /// pool labeled again and again settles below the level its labels
    /// came at, instead of climbing back to it after every squeeze (under
    /// a hazard that grows faster than volume, a steady level earns more
    /// conversations per label than swinging about the same mean).
    pub settle: f64,
    /// The share of that level given back per day. Default 0.005.
    pub settle_recovery_per_day: f64,
    /// Half-life of the recency-weighted calls per day, in days. Default 5:
    /// engines let evidence fade over days to weeks.
    pub memory_days: f64,
    /// An answered call of at least this many seconds is an engaged
    /// conversation, which engines count in a number's favour; every other
    /// call strains it (see `Figures::strain`). Default 30.
    pub engaged_secs: u32,
    /// Calls in 24 hours before a share counts (live limits and evidence).
    /// Default 12.
    pub min_share_calls: u32,
    /// The daily cap never falls below this for a number with no live limit
    /// reached, so the loop keeps some evidence coming. Default 8.
    pub min_daily: u32,
    /// A number is suspected of being labeled (see `suspect`) only on at
    /// least this many calls in 24 hours, its pool's other numbers too.
    /// Default 40.
    pub suspect_min_calls: u32,
    /// ... when its answer rate is under this share of its peers'.
    /// Default 0.5.
    pub suspect_ratio: f64,
    /// ... and that many standard errors under it. Default 3.5 (about one
    /// chance in 4,000 of accusing a number on a bad day).
    pub suspect_z: f64,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            enabled: true,
            caution: 0.2,
            margin: 0.15,
            label_risk: 0.002,
            probe_step: 0.4,
            scout_every: 5,
            proof_days: 7,
            prior_spread: 2.5,
            share_spread: 1.6,
            squeeze: 0.75,
            squeeze_numbers: 20,
            squeeze_recovery_per_day: 0.03,
            settle: 0.1,
            settle_recovery_per_day: 0.005,
            memory_days: 5.0,
            engaged_secs: 30,
            min_share_calls: 12,
            min_daily: 8,
            suspect_min_calls: 40,
            suspect_ratio: 0.5,
            suspect_z: 3.5,
        }
    }
}

/// The newest label a carrier raised, for explanations.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelNote {
    pub number: E164,
    pub carrier: Carrier,
    pub at: Timestamp,
    /// The metric the label was blamed on most, and its figure then.
    pub metric: Metric,
    pub figure: f64,
}

/// The caps the controller set for one number, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Steer {
    pub daily: u32,
    pub hourly: u32,
    /// The carrier and metric whose line bound the cap, if a line did.
    pub carrier: Option<Carrier>,
    pub metric: Option<Metric>,
    /// The learned line (posterior median) on that metric.
    pub line: Option<f64>,
    /// Stopped for the rest of its 24 hours by a live limit.
    pub stopped: bool,
    /// In plain words.
    pub why: String,
    /// Held for the day because its own answer rate says it is probably
    /// labeled (`suspect`); the reason is in `why`.
    #[serde(skip)]
    pub suspected: bool,
}

impl Steer {
    /// Holds the number at the `calls` it placed in the last 24 hours: a
    /// rule outside the learned lines (the quarantine file's thresholds)
    /// says it has done enough for now.
    pub fn hold(&mut self, calls: u32, reason: &str) {
        self.daily = calls.max(1);
        self.hourly = 1;
        self.stopped = true;
        self.carrier = None;
        self.metric = None;
        self.line = None;
        self.why = format!("stopped for today: {reason}");
        self.suspected = false;
    }

    /// [`Steer::hold`] for a suspected label.
    pub fn hold_suspected(&mut self, calls: u32, suspicion: &Suspicion) {
        self.hold(calls, &suspicion.describe());
        self.suspected = true;
    }

    /// Leaves the day to a recovery plan's phase (`state`): the plan's
    /// small caps are what its proof is measured at, so the lines, and a
    /// squeeze after labels elsewhere in the pool, do not cut them further.
    pub fn defer_to_phase(&mut self, state: NumberState, ceiling_hourly: u32, ceiling_daily: u32) {
        self.daily = ceiling_daily;
        self.hourly = ceiling_hourly;
        self.carrier = None;
        self.metric = None;
        self.line = None;
        self.why = format!("the recovery plan's {} phase sets the cap", state.as_str());
    }
}

/// `(instant, figure)` pairs, newest last, for a window of time.
#[derive(Clone, Debug, Default)]
struct Recent(Vec<(Timestamp, f64)>);

impl Recent {
    /// Adds a figure at `at`, dropping what is older than `keep_secs` then.
    fn record(&mut self, at: Timestamp, figure: f64, keep_secs: i64) {
        let after = at.as_second() - keep_secs;
        self.0.retain(|(t, _)| t.as_second() > after);
        self.0.push((at, figure));
    }

    fn keep_below(&mut self, figure: f64) {
        self.0.retain(|(_, f)| *f < figure);
    }

    /// The figures of the `secs` before `now`.
    fn within(&self, now: Timestamp, secs: i64) -> impl Iterator<Item = f64> + '_ {
        let after = now.as_second() - secs;
        self.0
            .iter()
            .filter(move |(t, _)| t.as_second() > after && *t <= now)
            .map(|(_, figure)| *figure)
    }
}

/// The learned lines of one tenant.
#[derive(Clone, Debug)]
pub struct Controller {
    config: ControlConfig,
    /// `lines[carrier * 8 + metric]`.
    lines: Vec<Line>,
    last_label: [Option<LabelNote>; 3],
    /// The share of their caps every number keeps after recent labels, as of
    /// an instant (it recovers with time from there).
    squeezed: Option<(Timestamp, f64)>,
    /// The share of their caps the squeeze recovers to, as of an instant
    /// (it recovers with time from there).
    settled: Option<(Timestamp, f64)>,
    /// The strain of clean observations, kept for `proof_days`.
    proven: Recent,
    /// The strain of new labels on calling numbers, kept for three times
    /// `proof_days`: a scout probes no further than halfway from the proven
    /// strain to the lowest of them.
    labeled: Recent,
}

impl Controller {
    /// Lines starting from the profiles' figures for each carrier's engine.
    pub fn new(config: ControlConfig, risk: &RiskConfig) -> Controller {
        let mut lines = Vec::with_capacity(3 * Metric::ALL.len());
        for carrier in Carrier::ALL {
            let profile = risk.profiles.iter().find(|p| p.carrier == Some(carrier));
            for metric in Metric::ALL {
                let prior = prior(profile, metric);
                let spread = if metric.is_volume() || metric == Metric::Complaints7d {
                    config.prior_spread
                } else {
                    config.share_spread
                };
                lines.push(Line::new(prior, spread));
            }
        }
        Controller {
            config,
            lines,
            last_label: [None, None, None],
            squeezed: None,
            settled: None,
            proven: Recent::default(),
            labeled: Recent::default(),
        }
    }

    pub fn config(&self) -> &ControlConfig {
        &self.config
    }

    pub fn line(&self, carrier: Carrier, metric: Metric) -> &Line {
        &self.lines[carrier as usize * Metric::ALL.len() + metric.index()]
    }

    fn line_mut(&mut self, carrier: Carrier, metric: Metric) -> &mut Line {
        &mut self.lines[carrier as usize * Metric::ALL.len() + metric.index()]
    }

    pub fn last_label(&self, carrier: Carrier) -> Option<&LabelNote> {
        self.last_label[carrier as usize].as_ref()
    }

    /// A carrier showed `number` clean at `at`, with these figures.
    pub fn clean(&mut self, carrier: Carrier, at: Timestamp, f: &Figures) {
        for metric in Metric::ALL {
            if let Some(x) = f.get(metric) {
                self.line_mut(carrier, metric).clean(x);
            }
        }
        if let Some(strain) = f.strain {
            self.proven.record(at, strain, self.proof_secs());
        }
    }

    /// The share of its caps every number keeps at `now` after the recent
    /// labels (1 when none squeezed them).
    pub fn squeeze(&self, now: Timestamp) -> f64 {
        let settled = recovered(self.settled, self.config.settle_recovery_per_day, now);
        recovered(self.squeezed, self.config.squeeze_recovery_per_day, now).min(settled)
    }

    /// A carrier newly labeled `number` at `at`, with these figures, in a
    /// tenant with `calling` numbers able to call. The label is shared out
    /// over the metrics by how well the others already explain it, and
    /// squeezes every number's cap.
    pub fn label(&mut self, number: E164, carrier: Carrier, at: Timestamp, f: &Figures, calling: usize) {
        // A number that placed next to no calls in the engines' memory was
        // not labeled for the pool's traffic: it teaches the lines what it
        // can (little) and squeezes nobody.
        if f.get(Metric::CallsPerDay).is_some_and(|rate| rate >= 1.0) {
            let reference = f64::from(self.config.squeeze_numbers.max(1));
            let scale = (reference / calling.max(1) as f64).min(1.0);
            let step = (1.0 - self.config.squeeze.clamp(0.0, 1.0)) * scale;
            // The caps stood at `level` when the label came (the squeeze
            // already holds the level they recover to): they now recover
            // to a little under it. Several labels in one day compound, as
            // their squeezes do: each says again that the level was too
            // much. (Settling them all to the one level their traffic had
            // labeled more numbers over the grid's weak cells.)
            let level = self.squeeze(at);
            let settle = self.config.settle.clamp(0.0, 1.0) * scale;
            self.settled = Some((at, level * (1.0 - settle)));
            self.squeezed = Some((at, level * (1.0 - step)));
        }
        let risks: Vec<(Metric, f64, f64)> = Metric::ALL
            .iter()
            .filter_map(|m| f.get(*m).map(|x| (*m, x, self.line(carrier, *m).risk(x))))
            .collect();
        let all_under: f64 = risks.iter().map(|(_, _, r)| 1.0 - r).product();
        let mut blamed = None;
        for &(metric, x, risk) in &risks {
            let others_under = all_under / (1.0 - risk).max(1e-9);
            self.line_mut(carrier, metric).label(x, others_under);
            if blamed.is_none_or(|(_, _, r)| risk > r) {
                blamed = Some((metric, x, risk));
            }
        }
        // Everything proven at or above the labeled number's strain is proof
        // no more.
        if let Some(strain) = f.strain {
            self.proven.keep_below(strain);
            self.labeled.record(at, strain, 3 * self.proof_secs());
        }
        if let Some((metric, figure, _)) = blamed {
            self.last_label[carrier as usize] = Some(LabelNote {
                number,
                carrier,
                at,
                metric,
                figure,
            });
        }
    }

    /// Rebuilds the lines' risk tables after a batch of observations.
    pub fn refresh(&mut self) {
        for line in &mut self.lines {
            line.refresh();
        }
    }

    fn proof_secs(&self) -> i64 {
        i64::from(self.config.proof_days) * 86_400
    }

    /// The highest strain observed clean in the last `proof_days` before
    /// `now`.
    fn proven_volume(&self, now: Timestamp) -> Option<f64> {
        self.proven.within(now, self.proof_secs()).reduce(f64::max)
    }

    /// The lowest strain a number was newly labeled at in the last three
    /// `proof_days` before `now`.
    fn labeled_strain(&self, now: Timestamp) -> Option<f64> {
        self.labeled.within(now, 3 * self.proof_secs()).reduce(f64::min)
    }

    /// The most a line lets the number reach on its metric.
    fn allowed(&self, carrier: Carrier, metric: Metric) -> f64 {
        let line = self.line(carrier, metric);
        let cautious = line.quantile(self.config.caution) * (1.0 - self.config.margin);
        if line.labels == 0 {
            return cautious;
        }
        cautious.min(line.reach(self.config.label_risk))
    }

    /// Whether `number` scouts this week (see `ControlConfig::scout_every`).
    pub fn is_scout(&self, number: E164, now: Timestamp) -> bool {
        let every = u64::from(self.config.scout_every.max(1));
        let week = now.as_second().div_euclid(7 * 86_400) as u64;
        let mixed = (number.digits() ^ week.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        (mixed >> 32).is_multiple_of(every)
    }

    /// The caps for `number`, whose figures are `f` now, under the guard's
    /// own ceilings.
    pub fn steer(&self, number: E164, f: &Figures, now: Timestamp, ceiling_hourly: u32, ceiling_daily: u32) -> Steer {
        let config = &self.config;
        let calls = f.get(Metric::Calls24h).unwrap_or(0.0);
        // Live limits first: a share or count past a line with labels behind it.
        for carrier in Carrier::ALL {
            for metric in [
                Metric::InvalidShare,
                Metric::ShortShare,
                Metric::UnansweredShare,
                Metric::Complaints7d,
            ] {
                let line = self.line(carrier, metric);
                let Some(x) = f.get(metric) else { continue };
                if line.labels == 0 {
                    continue;
                }
                // The cautious quantile alone: a share's chance of a label
                // is not the number's to lower by calling less.
                let allowed = line.quantile(config.caution) * (1.0 - config.margin);
                if x >= allowed {
                    let median = line.quantile(0.5);
                    return Steer {
                        daily: (calls.floor() as u32).max(1),
                        hourly: 1,
                        carrier: Some(carrier),
                        metric: Some(metric),
                        line: Some(median),
                        stopped: true,
                        why: format!(
                            "stopped for today: {} reaches {} ({}) learned line of {} less its margin",
                            metric.describe(x),
                            carrier.as_str(),
                            carrier.engine(),
                            metric.describe(median)
                        ),
                        suspected: false,
                    };
                }
            }
        }

        let keep = (-std::f64::consts::LN_2 / config.memory_days.max(0.1)).exp();
        let per_day = f.get(Metric::CallsPerDay).unwrap_or(0.0);
        let distinct_share = match (f.get(Metric::Destinations24h), calls) {
            (Some(d), c) if c > 0.0 => (d / c).clamp(0.0, 1.0),
            _ => 1.0,
        };
        let mut daily = f64::from(ceiling_daily);
        let mut bound: Option<(Carrier, Metric)> = None;
        let mut tighten = |v: f64, carrier: Carrier, metric: Metric| {
            if v < daily {
                daily = v;
                bound = Some((carrier, metric));
            }
        };
        // The calls line holds from the prior on; the others bind once an
        // observation stands behind them (before that they only repeat it).
        let observed = |carrier, metric| {
            let line = self.line(carrier, metric);
            line.labels + line.cleans > 0
        };
        for carrier in Carrier::ALL {
            tighten(self.allowed(carrier, Metric::Calls24h), carrier, Metric::Calls24h);
            if observed(carrier, Metric::CallsPerDay) {
                // One more day at v moves the weighted rate to keep·r + (1-keep)·v.
                let reach = self.allowed(carrier, Metric::CallsPerDay);
                let v = (reach - keep * per_day) / (1.0 - keep);
                tighten(v, carrier, Metric::CallsPerDay);
            }
            if observed(carrier, Metric::Destinations24h) && distinct_share > 0.0 {
                let v = self.allowed(carrier, Metric::Destinations24h) / distinct_share;
                tighten(v, carrier, Metric::Destinations24h);
            }
        }
        let mut probe = None;
        let scout = self.is_scout(number, now);
        // A level proven on nearly idle numbers says nothing about volume:
        // a new tenant's first checks must not hold it to a trickle.
        if let Some(proven) = self.proven_volume(now).filter(|p| *p >= f64::from(config.min_daily)) {
            // A scout probes `probe_step` above the proven strain, and no
            // further than halfway to the lowest strain labeled lately: the
            // line lies between, and each probe halves the gap.
            let target = if scout {
                let probe = proven * (1.0 + config.probe_step);
                match self.labeled_strain(now).filter(|l| *l > proven) {
                    Some(labeled) => probe.min((proven + labeled) / 2.0),
                    None => probe,
                }
            } else {
                proven
            };
            // The strain, carried by this number's own mix of calls: a list
            // that engages less gets fewer calls for the same strain.
            let share = f.strain_share.unwrap_or(1.0).clamp(0.1, 1.0);
            let limit = target / share + 1.0;
            if limit < daily {
                daily = limit;
                bound = None;
                probe = Some(proven);
            }
        }
        let squeeze = self.squeeze(now);
        // The floor keeps evidence coming; it never lifts a number past the
        // ceiling the configuration sets.
        let daily = (daily * squeeze)
            .max(f64::from(config.min_daily))
            .min(f64::from(ceiling_daily))
            .floor() as u32;
        let mut hourly = f64::from(ceiling_hourly);
        for carrier in Carrier::ALL {
            if observed(carrier, Metric::PeakHour) {
                hourly = hourly.min(self.allowed(carrier, Metric::PeakHour));
            }
        }
        // The hour is at least an even share of a 12-hour day, so a cap is
        // never spent in one burst nor unreachable.
        let hourly = (hourly.floor() as u32).max(daily.div_ceil(12)).max(1).min(daily);

        let (carrier, metric, line, why) = match (bound, probe) {
            (Some((carrier, metric)), _) => {
                let median = self.line(carrier, metric).quantile(0.5);
                let margin = 1.0 - f64::from(daily) / median.max(1e-9);
                let taught = self
                    .last_label(carrier)
                    .map(|n| {
                        format!(
                            "{} labeled {} on {} at {}; ",
                            carrier.as_str(),
                            n.number,
                            n.at.strftime("%m-%d UTC"),
                            n.metric.describe(n.figure)
                        )
                    })
                    .unwrap_or_default();
                (
                    Some(carrier),
                    Some(metric),
                    Some(median),
                    format!(
                        "{taught}cap {daily} keeps {:.0} % under {}'s ({}) learned line of {}",
                        (margin * 100.0).max(0.0),
                        carrier.as_str(),
                        carrier.engine(),
                        metric.describe(median)
                    ),
                )
            }
            (None, Some(proven)) => (
                None,
                None,
                None,
                if scout {
                    format!(
                        "cap {daily}: this week's scout, probing above a strain of {proven:.0} unengaged calls a day (recency-weighted), the most observed clean in {} days",
                        config.proof_days
                    )
                } else {
                    format!(
                        "cap {daily}: a strain of {proven:.0} unengaged calls a day (recency-weighted) is the most observed clean in {} days; this week's scouts probe above it",
                        config.proof_days
                    )
                },
            ),
            (None, None) => (
                None,
                None,
                None,
                format!("cap {daily}: the configured ceiling; every learned line is above it"),
            ),
        };
        let settled = recovered(self.settled, config.settle_recovery_per_day, now);
        let why = if squeeze < 1.0 && settled <= squeeze {
            format!(
                "{why}; held to {:.0} %: labels in the pool came at the caps it had, so it stays under them (given back {:.1} % a day)",
                squeeze * 100.0,
                config.settle_recovery_per_day * 100.0
            )
        } else if squeeze < 1.0 {
            format!(
                "{why}; squeezed to {:.0} % after recent labels in the pool",
                squeeze * 100.0
            )
        } else {
            why
        };
        Steer {
            daily,
            hourly,
            carrier,
            metric,
            line,
            stopped: false,
            why,
            suspected: false,
        }
    }
}

/// A share that was `share` at an instant and recovers `per_day` a day from
/// there, as of `now` (1 when nothing set it).
fn recovered(state: Option<(Timestamp, f64)>, per_day: f64, now: Timestamp) -> f64 {
    state.map_or(1.0, |(at, share)| {
        let days = (now.as_second() - at.as_second()).max(0) as f64 / 86_400.0;
        (share + per_day * days).min(1.0)
    })
}

/// The prior for one metric from a carrier's profile (or the shipped
/// defaults when the tenant has no profile for that carrier).
fn prior(profile: Option<&crate::risk::Profile>, metric: Metric) -> f64 {
    let per_day = profile.map_or(150.0, |p| p.allowance.per_day.mature);
    let per_hour = profile.map_or(60.0, |p| p.allowance.per_hour.mature);
    let strong = |get: fn(&crate::risk::FactorSpecs) -> f64, default: f64| {
        profile.map_or(default, |p| get(&p.factors)).max(1e-3)
    };
    match metric {
        Metric::Calls24h | Metric::CallsPerDay | Metric::Destinations24h => per_day,
        Metric::PeakHour => per_hour,
        Metric::ShortShare => strong(|f| f.short_calls.strong, 0.2),
        Metric::InvalidShare => strong(|f| f.invalid_destinations.strong, 0.15),
        // The profile's answer-rate strong level is the rate below which it
        // is very poor: unanswered above one minus it.
        Metric::UnansweredShare => (1.0 - strong(|f| f.answer_rate.strong, 0.2)).clamp(0.05, 0.99),
        Metric::Complaints7d => strong(|f| f.complaints.strong, 3.0),
    }
}

#[cfg(test)]
mod tests;
