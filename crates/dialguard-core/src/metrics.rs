//! Each owned number's calling pattern over rolling windows (SPEC §2.2).
//!
//! [`Ledger`] folds events into a compact per-number history; [`Ledger::metrics`]
//! computes the figures for any `now`, so the same history answers "how does
//! this number look now" and "how did it look last Tuesday". Histories are
//! kept sorted by start time whatever order records arrive in (a backfill of
//! last month's CDRs lands in place), so the figures depend only on which
//! events were folded, never on their order.

use smallvec::SmallVec;

use crate::{FastMap, FastSet};
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::call::{Call, Direction};
use crate::classify::{Cause, Outcome};
use crate::event::Event;
use crate::nanp;
use crate::number::E164;

/// The rolling windows every report shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Window {
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::Hour, Window::Day, Window::Week, Window::Month];

    pub fn seconds(self) -> i64 {
        match self {
            Window::Hour => 3_600,
            Window::Day => 86_400,
            Window::Week => 7 * 86_400,
            Window::Month => 30 * 86_400,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
            Window::Week => "7d",
            Window::Month => "30d",
        }
    }
}

/// The thresholds that turn talk time into "short" and "long".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// An answered call with at most this many seconds of talk is short
    /// (6 s: the cut Telnyx and Volli document for short-duration calls).
    pub short_call_secs: u32,
    /// An answered call with at least this many seconds is a conversation
    /// (2 minutes, SPEC §2.2).
    pub long_call_secs: u32,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            short_call_secs: 6,
            long_call_secs: 120,
        }
    }
}

/// One call as the metrics need it: 20 bytes instead of a full [`Call`]
/// (the ledger holds one for every call of the longest window and more,
/// so at a million calls a day each byte is 30 MB a month). The other
/// party's digits (15 at most, under 2^50) share a word with the outcome,
/// the cause and the direction.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
struct CallFact {
    started: i64,
    /// Bits 0-49 the counterpart's digits, 50-52 the outcome, 53-55 the
    /// cause, 56 inbound.
    packed: u64,
    talk: u32,
}

const DIGITS_BITS: u32 = 50;

impl CallFact {
    fn new(started: i64, counterpart: E164, talk: u32, outcome: Outcome, cause: Cause, inbound: bool) -> CallFact {
        let digits = counterpart.digits() & ((1 << DIGITS_BITS) - 1);
        let (outcome, cause) = (outcome as u64, cause as u64);
        CallFact {
            started,
            packed: digits
                | outcome << DIGITS_BITS
                | cause << (DIGITS_BITS + 3)
                | u64::from(inbound) << (DIGITS_BITS + 6),
            talk,
        }
    }

    /// The other party's digits.
    fn counterpart(&self) -> u64 {
        self.packed & ((1 << DIGITS_BITS) - 1)
    }

    fn outcome(&self) -> Outcome {
        Outcome::ALL[(self.packed >> DIGITS_BITS & 0b111) as usize]
    }

    fn cause(&self) -> Cause {
        Cause::ALL[(self.packed >> (DIGITS_BITS + 3) & 0b111) as usize]
    }

    fn inbound(&self) -> bool {
        self.packed >> (DIGITS_BITS + 6) & 1 == 1
    }
}

impl std::fmt::Debug for CallFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (started, talk) = (self.started, self.talk);
        f.debug_struct("CallFact")
            .field("started", &started)
            .field("counterpart", &self.counterpart())
            .field("talk", &talk)
            .field("outcome", &self.outcome())
            .field("cause", &self.cause())
            .field("inbound", &self.inbound())
            .finish()
    }
}

/// Everything known about one number's calls and complaints.
#[derive(Clone, Debug, Default)]
struct History {
    /// Sorted by `started`.
    calls: Vec<CallFact>,
    /// Sorted complaint instants (seconds).
    complaints: Vec<i64>,
    /// Sorted starts of outbound calls the network blocked as unwanted:
    /// counted in a window by two searches, not a walk of the calls.
    blocked: Vec<i64>,
    /// Sorted distinct UTC days (seconds / 86 400) with an outbound call:
    /// maturity without walking every call.
    active_days: Vec<i64>,
    /// Counts calls inserted before the end (out of order): a cached
    /// decayed view built before such an insert is rebuilt.
    reorders: u64,
}

/// Inserts in order; true when the item went to the end (the usual case).
fn insert_sorted<T: Copy>(items: &mut Vec<T>, item: T, key: impl Fn(&T) -> i64) -> bool {
    let k = key(&item);
    // Records nearly always arrive in order: check the end first.
    if items.last().is_none_or(|last| key(last) <= k) {
        items.push(item);
        true
    } else {
        let at = items.partition_point(|x| key(x) <= k);
        items.insert(at, item);
        false
    }
}

/// The figures for one number over one window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowMetrics {
    pub window: String,
    /// Outbound calls started in the window.
    pub attempts: u32,
    pub answered: u32,
    /// Answered / attempts.
    pub answer_rate: Option<f64>,
    /// Answered calls with talk at most the short-call threshold.
    pub short_calls: u32,
    /// Short / answered.
    pub short_call_ratio: Option<f64>,
    pub avg_talk_seconds: Option<f64>,
    pub median_talk_seconds: Option<f64>,
    /// Answered calls of at least the conversation threshold, over answered.
    pub long_call_share: Option<f64>,
    pub invalid_destinations: u32,
    /// Invalid destinations / attempts.
    pub invalid_ratio: Option<f64>,
    /// Calls the network or callee refused as unwanted (SIP 603 Network
    /// Blocked, 607, 608).
    pub blocked: u32,
    pub voicemail: u32,
    pub complaints: u32,
    pub distinct_destinations: u32,
    /// Calls to a destination already called earlier in the window, over attempts.
    pub repeat_call_share: Option<f64>,
    /// Most outbound calls started in any 60 minutes of the window.
    pub peak_calls_per_hour: u32,
    pub min_gap_seconds: Option<i64>,
    pub median_gap_seconds: Option<f64>,
    pub distinct_area_codes: u32,
    pub distinct_states: u32,
    pub inbound_calls: u32,
}

/// All windows for one number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberMetrics {
    pub number: E164,
    pub at: Timestamp,
    pub windows: Vec<WindowMetrics>,
}

impl NumberMetrics {
    pub fn window(&self, w: Window) -> &WindowMetrics {
        self.windows
            .iter()
            .find(|m| m.window == w.label())
            .expect("every window is computed")
    }
}

/// The fold of call and complaint events into per-number histories.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    config: MetricsConfig,
    histories: FastMap<E164, History>,
    registered: FastSet<E164>,
    outbound_callers: FastSet<E164>,
    /// The pool each registered number was last put in, and how many
    /// numbers each pool holds (the risk engine's neighbour-pattern factor).
    pools: FastMap<E164, String>,
    pool_sizes: FastMap<String, u32>,
    /// Decayed sums kept from one query to the next (see [`Ledger::decayed`]).
    decay_cache: DecayCaches,
}

impl Ledger {
    pub fn new(config: MetricsConfig) -> Ledger {
        Ledger {
            config,
            ..Ledger::default()
        }
    }

    pub fn config(&self) -> MetricsConfig {
        self.config
    }

    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Call(call) => self.apply_call(call),
            Event::Complaint(c) => {
                let history = self.histories.entry(c.number).or_default();
                let _ = insert_sorted(&mut history.complaints, c.at.as_second(), |t| *t);
            }
            Event::NumberRegistered(n) => {
                self.registered.insert(n.number);
                self.put_in_pool(n.number, &n.pool);
            }
            Event::Label(_)
            | Event::OptOut(_)
            | Event::Consent(_)
            | Event::StateChanged(_)
            | Event::DisputeUpdated(_) => {}
        }
    }

    pub fn apply_call(&mut self, call: &Call) {
        let owned = call.owned_number();
        if call.direction == Direction::Outbound {
            self.outbound_callers.insert(owned);
        }
        let fact = CallFact::new(
            call.started_at.as_second(),
            call.counterpart(),
            call.talk_seconds,
            call.outcome,
            call.cause,
            call.direction == Direction::Inbound,
        );
        let history = self.histories.entry(owned).or_default();
        if !insert_sorted(&mut history.calls, fact, |f| f.started) {
            history.reorders += 1;
        }
        if !fact.inbound() {
            if fact.cause() == Cause::BlockedCaller {
                let _ = insert_sorted(&mut history.blocked, fact.started, |t| *t);
            }
            let day = fact.started.div_euclid(86_400);
            if let Err(at) = history.active_days.binary_search(&day) {
                history.active_days.insert(at, day);
            }
        }
    }

    fn put_in_pool(&mut self, number: E164, pool: &str) {
        if let Some(old) = self.pools.insert(number, pool.to_owned())
            && let Some(size) = self.pool_sizes.get_mut(&old)
        {
            *size = size.saturating_sub(1);
        }
        *self.pool_sizes.entry(pool.to_owned()).or_default() += 1;
    }

    /// The pool a registered number was last put in.
    pub fn pool_of(&self, number: E164) -> Option<&str> {
        self.pools.get(&number).map(String::as_str)
    }

    /// How many registered numbers a pool holds.
    pub fn pool_size(&self, pool: &str) -> u32 {
        self.pool_sizes.get(pool).copied().unwrap_or(0)
    }

    /// The numbers the business owns: those registered, or, while none are,
    /// every caller id seen on an outbound call. Sorted.
    pub fn owned_numbers(&self) -> Vec<E164> {
        let set = if self.registered.is_empty() {
            &self.outbound_callers
        } else {
            &self.registered
        };
        let mut numbers: Vec<E164> = set.iter().copied().collect();
        numbers.sort();
        numbers
    }

    pub fn is_owned(&self, number: E164) -> bool {
        if self.registered.is_empty() {
            self.outbound_callers.contains(&number)
        } else {
            self.registered.contains(&number)
        }
    }

    /// The figures for every window, as of `now`.
    pub fn metrics(&self, number: E164, now: Timestamp) -> NumberMetrics {
        let empty = History::default();
        let history = self.histories.get(&number).unwrap_or(&empty);
        let windows = Window::ALL
            .iter()
            .map(|w| window_metrics(history, now, *w, self.config))
            .collect();
        NumberMetrics {
            number,
            at: now,
            windows,
        }
    }

    /// One window only: the hot loop of reports over many numbers.
    pub fn window_metrics(&self, number: E164, now: Timestamp, window: Window) -> WindowMetrics {
        let empty = History::default();
        let history = self.histories.get(&number).unwrap_or(&empty);
        window_metrics(history, now, window, self.config)
    }

    /// The figures for calls (and complaints) in `[from, to)`, any span: a
    /// plan's phase, a calendar day of a report. Its `window` is `"span"`.
    pub fn span_metrics(&self, number: E164, from: Timestamp, to: Timestamp) -> WindowMetrics {
        let empty = History::default();
        let history = self.histories.get(&number).unwrap_or(&empty);
        // Instants are whole seconds here: [from, to) is (from - 1, to - 1].
        span_metrics(history, from.as_second() - 1, to.as_second() - 1, "span", self.config)
    }

    /// The latest instant any call or complaint carries (for `--at` defaults).
    pub fn latest(&self) -> Option<Timestamp> {
        self.histories
            .values()
            .flat_map(|h| {
                h.calls
                    .last()
                    .map(|c| c.started)
                    .into_iter()
                    .chain(h.complaints.last().copied())
            })
            .max()
            .and_then(|s| Timestamp::from_second(s).ok())
    }

    /// Calls folded so far, over every number.
    pub fn call_count(&self) -> usize {
        self.histories.values().map(|h| h.calls.len()).sum()
    }
}

fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    } else {
        values[mid] as f64
    })
}

fn window_metrics(history: &History, now: Timestamp, window: Window, config: MetricsConfig) -> WindowMetrics {
    let end = now.as_second();
    span_metrics(history, end - window.seconds(), end, window.label(), config)
}

/// The figures for calls started in `(start, end]`, in seconds.
fn span_metrics(history: &History, start: i64, end: i64, label: &str, config: MetricsConfig) -> WindowMetrics {
    let lo = history.calls.partition_point(|c| c.started <= start);
    let hi = history.calls.partition_point(|c| c.started <= end);
    let calls = &history.calls[lo..hi];

    let mut m = WindowMetrics {
        window: label.to_owned(),
        ..WindowMetrics::default()
    };
    let mut talks = Vec::new();
    let mut starts = Vec::new();
    let mut destinations = FastSet::default();
    let mut areas = FastSet::default();
    let mut repeats = 0u32;
    let mut counts = WindowCounts::default();
    for call in calls {
        if call.inbound() {
            m.inbound_calls += 1;
            continue;
        }
        counts.count(call, config);
        starts.push(call.started);
        if !destinations.insert(call.counterpart()) {
            repeats += 1;
        }
        if let Some(npa) = E164::from_digits_unchecked(call.counterpart()).area_code() {
            areas.insert(npa);
        }
        match call.outcome() {
            Outcome::Answered => talks.push(i64::from(call.talk)),
            Outcome::Voicemail => m.voicemail += 1,
            _ => {}
        }
    }
    m.attempts = counts.attempts;
    m.answered = counts.answered;
    m.short_calls = counts.short_calls;
    m.invalid_destinations = counts.invalid_destinations;
    m.blocked = counts.blocked;
    let long_calls = talks.iter().filter(|t| **t >= i64::from(config.long_call_secs)).count() as u32;
    m.answer_rate = ratio(m.answered, m.attempts);
    m.short_call_ratio = counts.short_call_ratio();
    m.long_call_share = ratio(long_calls, m.answered);
    m.invalid_ratio = counts.invalid_ratio();
    m.avg_talk_seconds = (!talks.is_empty()).then(|| talks.iter().sum::<i64>() as f64 / talks.len() as f64);
    m.median_talk_seconds = median(&mut talks);
    m.distinct_destinations = destinations.len() as u32;
    m.repeat_call_share = ratio(repeats, m.attempts);
    m.distinct_area_codes = areas.len() as u32;
    m.distinct_states = areas
        .iter()
        .filter_map(|npa| nanp::area(*npa).map(|a| a.location.as_str()))
        .filter(|s| !s.is_empty())
        .collect::<FastSet<_>>()
        .len() as u32;
    m.peak_calls_per_hour = peak_in_any_hour(&starts);
    let mut gaps: Vec<i64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    m.min_gap_seconds = gaps.iter().copied().min();
    m.median_gap_seconds = median(&mut gaps);
    let c_lo = history.complaints.partition_point(|t| *t <= start);
    let c_hi = history.complaints.partition_point(|t| *t <= end);
    m.complaints = (c_hi - c_lo) as u32;
    m
}

/// The most starts in any 60-minute span (two pointers over sorted starts).
fn peak_in_any_hour(starts: &[i64]) -> u32 {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..starts.len() {
        while starts[hi] - starts[lo] >= 3_600 {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best as u32
}

/// What turns a call history into the recency-weighted view the risk engine
/// scores. Each engine profile brings its own (see `risk::profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DecayConfig {
    /// A call's weight halves with every `half_life_secs` of age.
    pub half_life_secs: i64,
    /// Answered with at most this many seconds of talk: short.
    pub short_call_secs: u32,
    /// Answered with fewer than this many seconds of talk: the callee did
    /// not engage.
    pub engagement_secs: u32,
    /// The call that makes this many to one person within 24 hours, and
    /// every call after it, is a repeat call.
    pub repeat_calls_per_day: u32,
    /// Local hours `[start, end)` in the destination's time zone in which a
    /// call is expected; a call started outside them is off-hours.
    pub calling_hours: (u8, u8),
}

/// Recency-weighted sums over one number's outbound calls: a call counts
/// `0.5^(age / half-life)`, so last week's pattern weighs half of today's.
/// A ratio of two sums does not move with time alone; the sums shrink, which
/// is how a rested number's evidence fades.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecayedCounts {
    pub attempts: f64,
    pub answered: f64,
    /// Answered with talk at most [`DecayConfig::short_call_secs`].
    pub short_calls: f64,
    /// Answered with talk under [`DecayConfig::engagement_secs`].
    pub unengaged: f64,
    /// Talk seconds of answered calls.
    pub talk_seconds: f64,
    pub invalid: f64,
    /// Refused by the network or the callee as unwanted ([`Cause::BlockedCaller`]).
    pub blocked: f64,
    /// Started outside the calling hours in the destination's local time.
    pub off_hours: f64,
    /// See [`DecayConfig::repeat_calls_per_day`].
    pub repeat_calls: f64,
    /// To a destination in the caller's own area code.
    pub local_calls: f64,
}

/// Counts over plain windows ending at `now`, for the figures an engine
/// reads as bursts and reports rather than as shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Distinct UTC days with at least one outbound call, up to `now`
    /// (counted up to [`Activity::ACTIVE_DAYS_CAP`]).
    pub active_days: u32,
    pub attempts_24h: u32,
    /// Most outbound calls started in any 60 seconds of the last 24 hours.
    pub peak_per_minute_24h: u32,
    /// Most outbound calls started in any 60 minutes of the last 24 hours.
    pub peak_per_hour_24h: u32,
    /// Complaints in the last `recent_secs` (see [`Ledger::activity`]).
    pub complaints: u32,
    /// Outbound calls refused as unwanted in the last `recent_secs`.
    pub blocked: u32,
}

impl Activity {
    /// Maturity stops mattering long before a year; counting stops there.
    pub const ACTIVE_DAYS_CAP: u32 = 366;
}

/// The plain counts of one window's outbound calls: what the quarantine
/// rules read, without the sets and sorting [`WindowMetrics`] needs. The
/// window figures count through the same [`WindowCounts::count`], so the
/// two never disagree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowCounts {
    pub attempts: u32,
    pub answered: u32,
    /// Answered with talk at or under the short-call threshold.
    pub short_calls: u32,
    pub invalid_destinations: u32,
    /// Refused as unwanted (SIP 603 Network Blocked, 607, 608).
    pub blocked: u32,
}

impl WindowCounts {
    fn count(&mut self, call: &CallFact, config: MetricsConfig) {
        self.attempts += 1;
        match call.outcome() {
            Outcome::Answered => {
                self.answered += 1;
                if call.talk <= config.short_call_secs {
                    self.short_calls += 1;
                }
            }
            Outcome::InvalidDestination => self.invalid_destinations += 1,
            _ => {}
        }
        if call.cause() == Cause::BlockedCaller {
            self.blocked += 1;
        }
    }

    /// Short calls among answered ones.
    pub fn short_call_ratio(&self) -> Option<f64> {
        ratio(self.short_calls, self.answered)
    }

    /// Invalid destinations among attempts.
    pub fn invalid_ratio(&self) -> Option<f64> {
        ratio(self.invalid_destinations, self.attempts)
    }

    /// Blocked calls among attempts.
    pub fn blocked_ratio(&self) -> Option<f64> {
        ratio(self.blocked, self.attempts)
    }
}

impl Ledger {
    /// The starts (seconds) of the number's outbound calls at or after
    /// `from`, ascending.
    pub fn outbound_starts_since(&self, number: E164, from: i64) -> Vec<i64> {
        let Some(history) = self.histories.get(&number) else {
            return Vec::new();
        };
        let lo = history.calls.partition_point(|c| c.started < from);
        history.calls[lo..]
            .iter()
            .filter(|c| !c.inbound())
            .map(|c| c.started)
            .collect()
    }

    /// The start (seconds) of the number's newest call.
    pub fn newest_start(&self, number: E164) -> Option<i64> {
        self.histories
            .get(&number)
            .and_then(|h| h.calls.last())
            .map(|c| c.started)
    }

    /// One window's [`WindowCounts`] for one number as of `now`.
    pub fn window_counts(&self, number: E164, now: Timestamp, window: Window) -> WindowCounts {
        let mut counts = WindowCounts::default();
        let Some(history) = self.histories.get(&number) else {
            return counts;
        };
        let end = now.as_second();
        let lo = history.calls.partition_point(|c| c.started <= end - window.seconds());
        let hi = history.calls.partition_point(|c| c.started <= end);
        for call in history.calls[lo..hi].iter().filter(|c| !c.inbound()) {
            counts.count(call, self.config);
        }
        counts
    }
}

impl Ledger {
    /// The recency-weighted view of one number's outbound calls up to `now`.
    /// Calls older than 60 half-lives weigh under 2^-60 of a call placed now
    /// and are skipped: too little for any share with enough calls behind it
    /// to notice, so the cut never makes a score rise as time passes.
    ///
    /// The sums are kept per number and configuration between calls: a later
    /// `now` scales them by the decay since and folds in only the calls placed
    /// since, so a tick costs the new calls, not the history. An earlier
    /// `now`, or a call inserted out of order, walks the history afresh.
    pub fn decayed(&self, number: E164, now: Timestamp, config: &DecayConfig) -> DecayedCounts {
        let Some(history) = self.histories.get(&number) else {
            return DecayedCounts::default();
        };
        let end = now.as_second();
        let mut caches = self
            .decay_cache
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (number, *config);
        let reusable = caches
            .get(&key)
            .is_some_and(|c| c.reorders == history.reorders && c.anchor <= end);
        if !reusable {
            if caches.get(&key).is_some_and(|c| c.anchor > end) {
                // Looking back in time (a plan review, a report): answer
                // without disturbing the cache that follows the present.
                let mut fresh = DecayCache::start(history, number, end, config);
                fresh.advance(history, end, config);
                return fresh.sums;
            }
            caches.insert(key, DecayCache::start(history, number, end, config));
        }
        let cache = caches.get_mut(&key).expect("just ensured");
        cache.advance(history, end, config);
        cache.sums
    }

    /// Distinct UTC days with an outbound call up to `now`, counted up to
    /// [`Activity::ACTIVE_DAYS_CAP`].
    pub fn active_days(&self, number: E164, now: Timestamp) -> u32 {
        let Some(history) = self.histories.get(&number) else {
            return 0;
        };
        let today = now.as_second().div_euclid(86_400);
        let days = history.active_days.partition_point(|d| *d <= today);
        (days as u32).min(Activity::ACTIVE_DAYS_CAP)
    }

    /// Complaints about one number in the `secs` before `now`.
    pub fn complaints_within(&self, number: E164, now: Timestamp, secs: i64) -> u32 {
        self.histories.get(&number).map_or(0, |history| {
            let end = now.as_second();
            let lo = history.complaints.partition_point(|t| *t <= end - secs);
            let hi = history.complaints.partition_point(|t| *t <= end);
            (hi - lo) as u32
        })
    }

    /// Bursts, maturity and recent complaints for one number as of `now`;
    /// `recent_secs` is the window complaints and blocked calls are counted in.
    pub fn activity(&self, number: E164, now: Timestamp, recent_secs: i64) -> Activity {
        let mut activity = Activity::default();
        let Some(history) = self.histories.get(&number) else {
            return activity;
        };
        let end = now.as_second();
        let hi = history.calls.partition_point(|c| c.started <= end);
        activity.active_days = self.active_days(number, now);
        let day_lo = history.calls.partition_point(|c| c.started <= end - 86_400);
        let starts: Vec<i64> = history.calls[day_lo..hi]
            .iter()
            .filter(|c| !c.inbound())
            .map(|c| c.started)
            .collect();
        activity.attempts_24h = starts.len() as u32;
        activity.peak_per_minute_24h = peak_in_span(&starts, 60);
        activity.peak_per_hour_24h = peak_in_span(&starts, 3_600);
        let blocked_lo = history.blocked.partition_point(|t| *t <= end - recent_secs);
        let blocked_hi = history.blocked.partition_point(|t| *t <= end);
        activity.blocked = (blocked_hi - blocked_lo) as u32;
        activity.complaints = self.complaints_within(number, now, recent_secs);
        activity
    }
}

/// The decayed sums of one number under one [`DecayConfig`], valid at
/// `anchor`, with every outbound call before `next` folded in.
struct DecayCache {
    anchor: i64,
    next: usize,
    reorders: u64,
    sums: DecayedCounts,
    /// Calls before this instant are 60 half-lives old at the first query:
    /// they only feed the repeat counts, never the sums.
    weigh_from: i64,
    /// Per callee, the starts of the calls to them in the 24 hours before
    /// the latest folded call: what makes a call a repeat.
    /// Inline: most callees get one or two calls a day, and a heap block
    /// for each would cost an allocation per new callee.
    recent: FastMap<u64, SmallVec<[i64; 2]>>,
    /// The hour (seconds / 3 600) `recent` was last pruned in.
    last_prune_hour: i64,
    own_area: Option<u16>,
    off_hours: crate::risk::zones::OffHours,
}

impl DecayCache {
    /// An empty view at `end`: calls older than 60 half-lives weigh under
    /// 2^-60 of a call placed now and are skipped (too little for any share
    /// with enough calls behind it to notice); repeats look a day further
    /// back than the weights do.
    fn start(history: &History, number: E164, end: i64, config: &DecayConfig) -> DecayCache {
        let half_life = config.half_life_secs.max(1);
        let weigh_from = end.saturating_sub(half_life.saturating_mul(60));
        let next = history
            .calls
            .partition_point(|c| c.started <= weigh_from.saturating_sub(86_400));
        DecayCache {
            anchor: end,
            next,
            reorders: history.reorders,
            sums: DecayedCounts::default(),
            weigh_from,
            recent: FastMap::default(),
            last_prune_hour: end.div_euclid(3_600),
            own_area: number.area_code(),
            off_hours: crate::risk::zones::OffHours::new(config.calling_hours),
        }
    }

    /// Moves the view to `end` (not before `anchor`): decays the sums, then
    /// folds in the calls started since.
    fn advance(&mut self, history: &History, end: i64, config: &DecayConfig) {
        let half_life = config.half_life_secs.max(1) as f64;
        if end > self.anchor {
            let keep = (-((end - self.anchor) as f64) / half_life).exp2();
            let s = &mut self.sums;
            for v in [
                &mut s.attempts,
                &mut s.answered,
                &mut s.short_calls,
                &mut s.unengaged,
                &mut s.talk_seconds,
                &mut s.invalid,
                &mut s.blocked,
                &mut s.off_hours,
                &mut s.repeat_calls,
                &mut s.local_calls,
            ] {
                *v *= keep;
            }
            self.anchor = end;
        }
        let back = config.repeat_calls_per_day.saturating_sub(1) as usize;
        let hi = history.calls.partition_point(|c| c.started <= end);
        for call in &history.calls[self.next.min(hi)..hi] {
            if call.inbound() {
                continue;
            }
            let earlier = self.recent.entry(call.counterpart()).or_default();
            let stale = earlier.iter().take_while(|&&t| call.started - t >= 86_400).count();
            earlier.drain(..stale);
            let is_repeat = earlier.len() >= back;
            earlier.push(call.started);
            // Only the newest `back` can make the next call a repeat: the
            // starts are in order, so the older ones go stale first.
            if earlier.len() > back {
                earlier.drain(..earlier.len() - back);
            }
            if call.started <= self.weigh_from {
                continue;
            }
            let weight = (-((end - call.started) as f64) / half_life).exp2();
            let destination = E164::from_digits_unchecked(call.counterpart());
            let sums = &mut self.sums;
            sums.attempts += weight;
            if call.outcome() == Outcome::Answered {
                sums.answered += weight;
                sums.talk_seconds += weight * f64::from(call.talk);
                if call.talk <= config.short_call_secs {
                    sums.short_calls += weight;
                }
                if call.talk < config.engagement_secs {
                    sums.unengaged += weight;
                }
            }
            if call.outcome() == Outcome::InvalidDestination {
                sums.invalid += weight;
            }
            if call.cause() == Cause::BlockedCaller {
                sums.blocked += weight;
            }
            if is_repeat {
                sums.repeat_calls += weight;
            }
            if self.own_area.is_some() && destination.area_code() == self.own_area {
                sums.local_calls += weight;
            }
            if self.off_hours.outside(destination, call.started) {
                sums.off_hours += weight;
            }
        }
        self.next = self.next.max(hi);
        // Callees not called for a day can no longer make a repeat: pruned
        // every hour, so the map holds about a day of callees, not two.
        let hour = end.div_euclid(3_600);
        if hour > self.last_prune_hour {
            self.last_prune_hour = hour;
            self.recent
                .retain(|_, starts| starts.last().is_some_and(|t| end - t < 86_400));
        }
    }
}

/// Decayed views kept between queries. A clone starts empty: the cache is a
/// speed-up, never state.
#[derive(Default)]
struct DecayCaches(Mutex<FastMap<(E164, DecayConfig), DecayCache>>);

impl Clone for DecayCaches {
    fn clone(&self) -> Self {
        DecayCaches::default()
    }
}

impl std::fmt::Debug for DecayCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecayCaches")
    }
}

/// The most starts in any `span` seconds (two pointers over sorted starts).
fn peak_in_span(starts: &[i64], span: i64) -> u32 {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..starts.len() {
        while starts[hi] - starts[lo] >= span {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best as u32
}

/// A convenience for tests and reports: `now` minus a duration.
pub fn before(now: Timestamp, seconds: i64) -> Timestamp {
    now - SignedDuration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Source;
    use crate::event::Complaint;

    const OURS: u64 = 14_155_550_100;

    #[test]
    fn a_call_fact_gives_back_every_field_it_was_made_from() {
        assert_eq!(std::mem::size_of::<CallFact>(), 20);
        for (i, outcome) in Outcome::ALL.into_iter().enumerate() {
            for cause in Cause::ALL {
                for inbound in [false, true] {
                    // The longest E.164 number (15 digits) and a short one.
                    for digits in [999_999_999_999_999, 4_915_123] {
                        let started = -1_000_000_007 + i as i64 * 86_400_000_000;
                        let fact = CallFact::new(
                            started,
                            E164::from_digits_unchecked(digits),
                            u32::MAX - i as u32,
                            outcome,
                            cause,
                            inbound,
                        );
                        let (s, talk) = (fact.started, fact.talk);
                        assert_eq!((s, talk), (started, u32::MAX - i as u32));
                        assert_eq!(fact.counterpart(), digits);
                        assert_eq!(
                            (fact.outcome(), fact.cause(), fact.inbound()),
                            (outcome, cause, inbound)
                        );
                    }
                }
            }
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn call(start: &str, to: u64, outcome: Outcome, talk: u32) -> Call {
        let started_at = t(start);
        Call {
            from: E164::from_digits_unchecked(OURS),
            to: E164::from_digits_unchecked(to),
            direction: Direction::Outbound,
            started_at,
            answered_at: (outcome == Outcome::Answered).then_some(started_at),
            ended_at: started_at + SignedDuration::from_secs(i64::from(talk) + 10),
            talk_seconds: talk,
            outcome,
            cause: Cause::Unspecified,
            source: Source::Api,
            source_id: format!("{start}-{to}"),
        }
    }

    fn ledger(calls: &[Call]) -> Ledger {
        let mut l = Ledger::default();
        for c in calls {
            l.apply(&Event::Call(c.clone()));
        }
        l
    }

    #[test]
    fn a_day_of_calls_gives_the_figures_a_person_would_count() {
        let l = ledger(&[
            call("2026-03-02T15:00:00Z", 12_125_550_101, Outcome::Answered, 3),
            call("2026-03-02T15:00:30Z", 12_125_550_102, Outcome::Answered, 200),
            call("2026-03-02T15:01:30Z", 13_125_550_103, Outcome::NoAnswer, 0),
            call("2026-03-02T15:05:30Z", 12_125_550_101, Outcome::InvalidDestination, 0),
        ]);
        let m = l.window_metrics(
            E164::from_digits_unchecked(OURS),
            t("2026-03-02T16:00:00Z"),
            Window::Day,
        );
        assert_eq!(m.attempts, 4);
        assert_eq!(m.answered, 2);
        assert_eq!(m.answer_rate, Some(0.5));
        assert_eq!(m.short_calls, 1);
        assert_eq!(m.short_call_ratio, Some(0.5));
        assert_eq!(m.avg_talk_seconds, Some(101.5));
        assert_eq!(m.median_talk_seconds, Some(101.5));
        assert_eq!(m.long_call_share, Some(0.5));
        assert_eq!(m.invalid_ratio, Some(0.25));
        assert_eq!(m.distinct_destinations, 3);
        assert_eq!(m.repeat_call_share, Some(0.25));
        assert_eq!(m.peak_calls_per_hour, 4);
        assert_eq!(m.min_gap_seconds, Some(30));
        assert_eq!(m.median_gap_seconds, Some(60.0));
        assert_eq!(m.distinct_area_codes, 2);
        assert_eq!(m.distinct_states, 2, "212 is NY, 312 is IL");
    }

    #[test]
    fn windows_see_only_their_own_span() {
        let l = ledger(&[
            call("2026-03-01T10:00:00Z", 12_125_550_101, Outcome::Answered, 60),
            call("2026-03-02T15:30:00Z", 12_125_550_102, Outcome::Answered, 60),
            call("2026-03-02T17:00:00Z", 12_125_550_103, Outcome::Answered, 60),
        ]);
        let m = l.metrics(E164::from_digits_unchecked(OURS), t("2026-03-02T16:00:00Z"));
        assert_eq!(m.window(Window::Hour).attempts, 1);
        assert_eq!(m.window(Window::Day).attempts, 1, "a call after `now` does not count");
        assert_eq!(m.window(Window::Week).attempts, 2);
    }

    #[test]
    fn order_of_arrival_does_not_change_the_figures() {
        let calls = [
            call("2026-03-02T15:05:30Z", 12_125_550_101, Outcome::NoAnswer, 0),
            call("2026-03-02T15:00:00Z", 12_125_550_101, Outcome::Answered, 3),
            call("2026-03-02T15:01:30Z", 13_125_550_103, Outcome::Answered, 50),
        ];
        let mut reversed = calls.clone();
        reversed.reverse();
        let now = t("2026-03-02T16:00:00Z");
        let n = E164::from_digits_unchecked(OURS);
        assert_eq!(ledger(&calls).metrics(n, now), ledger(&reversed).metrics(n, now));
    }

    #[test]
    fn complaints_and_inbound_calls_are_counted_apart_from_attempts() {
        let mut l = ledger(&[call("2026-03-02T15:00:00Z", 12_125_550_101, Outcome::Answered, 30)]);
        let mut inbound = call("2026-03-02T15:10:00Z", 12_125_550_101, Outcome::Answered, 30);
        std::mem::swap(&mut inbound.from, &mut inbound.to);
        inbound.direction = Direction::Inbound;
        l.apply(&Event::Call(inbound));
        l.apply(&Event::Complaint(Complaint {
            number: E164::from_digits_unchecked(OURS),
            at: t("2026-03-02T15:20:00Z"),
            source: "api".into(),
            source_id: "1".into(),
            consumer_area_code: None,
            consumer_state: None,
            subject: None,
            robocall: None,
        }));
        let m = l.window_metrics(
            E164::from_digits_unchecked(OURS),
            t("2026-03-02T15:30:00Z"),
            Window::Hour,
        );
        assert_eq!((m.attempts, m.inbound_calls, m.complaints), (1, 1, 1));
    }

    #[test]
    fn owned_numbers_are_the_registered_ones_once_any_are() {
        let mut l = ledger(&[call("2026-03-02T15:00:00Z", 12_125_550_101, Outcome::Answered, 30)]);
        assert_eq!(l.owned_numbers(), vec![E164::from_digits_unchecked(OURS)]);
        let other = E164::from_digits_unchecked(13_125_550_199);
        l.apply(&Event::NumberRegistered(crate::event::NumberRegistered {
            number: other,
            pool: "sales".into(),
            at: t("2026-03-01T00:00:00Z"),
            state: crate::lifecycle::NumberState::Active,
            cnam: None,
        }));
        assert_eq!(l.owned_numbers(), vec![other]);
    }

    #[test]
    fn peak_hour_slides() {
        assert_eq!(peak_in_any_hour(&[0, 10, 3_599, 3_600, 3_605, 7_300]), 4);
        assert_eq!(peak_in_any_hour(&[]), 0);
    }
}

#[cfg(test)]
mod decay_tests {
    use super::*;
    use crate::call::Source;

    const OURS: u64 = 14_155_550_100;

    fn call(started: i64, to: u64, talk: u32) -> Call {
        let started_at = Timestamp::from_second(started).unwrap();
        let outcome = if talk > 0 { Outcome::Answered } else { Outcome::NoAnswer };
        Call {
            from: E164::from_digits_unchecked(OURS),
            to: E164::from_digits_unchecked(to),
            direction: Direction::Outbound,
            started_at,
            answered_at: (talk > 0).then_some(started_at),
            ended_at: started_at + SignedDuration::from_secs(i64::from(talk) + 10),
            talk_seconds: talk,
            outcome,
            cause: Cause::Unspecified,
            source: Source::Api,
            source_id: format!("{started}-{to}"),
        }
    }

    const CONFIG: DecayConfig = DecayConfig {
        half_life_secs: 7 * 86_400,
        short_call_secs: 6,
        engagement_secs: 15,
        repeat_calls_per_day: 3,
        calling_hours: (8, 21),
    };

    fn close(a: &DecayedCounts, b: &DecayedCounts) -> bool {
        let pairs = [
            (a.attempts, b.attempts),
            (a.answered, b.answered),
            (a.short_calls, b.short_calls),
            (a.unengaged, b.unengaged),
            (a.talk_seconds, b.talk_seconds),
            (a.repeat_calls, b.repeat_calls),
            (a.local_calls, b.local_calls),
            (a.off_hours, b.off_hours),
        ];
        pairs.iter().all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0))
    }

    /// A repeat is the call that makes `repeat_calls_per_day` to one person
    /// within 24 hours, and every call after it: the view's sums agree with
    /// that rule counted call by call, for people called many times a day.
    #[test]
    fn repeat_calls_follow_the_rule_however_often_a_person_is_called() {
        let base = 1_772_370_000;
        let mut ledger = Ledger::default();
        let mut calls = Vec::new();
        for i in 0..400_i64 {
            // Three people every 20 minutes in turn (each every hour), and
            // once in a while somebody new; a gap of a day in the middle.
            let to = if i % 7 == 6 {
                13_105_550_000 + i as u64
            } else {
                12_125_550_100 + (i % 3) as u64
            };
            let gap = if i >= 200 { 26 * 3_600 } else { 0 };
            calls.push(call(base + i * 1_200 + gap, to, 0));
        }
        calls.iter().for_each(|c| ledger.apply_call(c));
        let end = calls.last().unwrap().started_at.as_second() + 60;
        let back = (CONFIG.repeat_calls_per_day - 1) as usize;
        let expected: f64 = calls
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                let t = c.started_at.as_second();
                calls[..*i]
                    .iter()
                    .filter(|e| e.to == c.to && t - e.started_at.as_second() < 86_400)
                    .count()
                    >= back
            })
            .map(|(_, c)| (-((end - c.started_at.as_second()) as f64) / CONFIG.half_life_secs as f64).exp2())
            .sum();
        let got = ledger.decayed(
            E164::from_digits_unchecked(OURS),
            Timestamp::from_second(end).unwrap(),
            &CONFIG,
        );
        assert!(expected > 10.0, "the pattern makes repeats");
        assert!(
            (got.repeat_calls - expected).abs() < 1e-9 * expected,
            "{} repeats, by the rule {expected}",
            got.repeat_calls
        );
    }

    /// A view kept from query to query reads the same as one built afresh,
    /// whatever order the calls and queries come in.
    #[test]
    fn kept_sums_match_a_fresh_walk_as_time_moves_and_calls_arrive_late() {
        let base = 1_772_370_000; // 2026-03-01, 13:00 UTC
        let mut kept = Ledger::default();
        let mut calls = Vec::new();
        for i in 0..600_i64 {
            // Three callees called again and again make repeats; the rest once.
            let to = if i % 5 == 0 {
                12_125_550_100 + (i % 3) as u64
            } else {
                13_105_550_000 + i as u64
            };
            calls.push(call(base + i * 1_500, to, (i % 40) as u32));
        }
        // One call arrives late, out of order.
        let late = calls.remove(300);
        for (i, c) in calls.iter().enumerate() {
            kept.apply_call(c);
            if i % 50 == 49 {
                let now = Timestamp::from_second(c.started_at.as_second() + 60).unwrap();
                let fresh = {
                    let mut l = Ledger::default();
                    calls[..=i].iter().for_each(|c| l.apply_call(c));
                    l.decayed(E164::from_digits_unchecked(OURS), now, &CONFIG)
                };
                let got = kept.decayed(E164::from_digits_unchecked(OURS), now, &CONFIG);
                assert!(close(&got, &fresh), "after {} calls: {got:?} != {fresh:?}", i + 1);
                assert!(got.repeat_calls > 0.0, "the repeated callees count");
            }
        }
        let number = E164::from_digits_unchecked(OURS);
        let end = Timestamp::from_second(base + 600 * 1_500).unwrap();
        let before_late = kept.decayed(number, end, &CONFIG);
        kept.apply_call(&late);
        let mut all = Ledger::default();
        calls.iter().chain([&late]).for_each(|c| all.apply_call(c));
        let after_late = kept.decayed(number, end, &CONFIG);
        assert!(close(&after_late, &all.decayed(number, end, &CONFIG)));
        assert!(after_late.attempts > before_late.attempts, "the late call counts");
        // Looking back in time leaves the kept view alone.
        let earlier = Timestamp::from_second(base + 100 * 1_500).unwrap();
        let back = kept.decayed(number, earlier, &CONFIG);
        assert!(close(&back, &all.decayed(number, earlier, &CONFIG)));
        assert!(back.attempts < after_late.attempts);
        assert!(close(&kept.decayed(number, end, &CONFIG), &after_late));
        assert_eq!(
            kept.active_days(number, end),
            11,
            "600 calls 25 minutes apart span 11 UTC days"
        );
    }
}
