//! What each carrier's handsets have shown for our numbers.
//!
//! Label observations arrive as events (a test call, a monitoring feed, a
//! person typing it in) in any order; [`Labels`] keeps each number's
//! observations sorted by instant and answers "what does each carrier show
//! as of `now`". An observation of a clean display is as much a fact as a
//! label: it is what ends one.

use crate::FastMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::event::{Carrier, Event, LabelObserved};
use crate::number::E164;

/// One carrier's latest display of a number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierLabel {
    pub carrier: Carrier,
    /// The analytics engine behind the carrier (`hiya`, `tns`, `first-orion`).
    pub engine: std::borrow::Cow<'static, str>,
    /// `Spam Likely`, …; `None` when the number showed clean.
    pub label: Option<String>,
    /// The latest observation.
    pub observed_at: Timestamp,
    /// Since when the carrier has shown it labeled (or clean) without a
    /// change in between, as far as anyone looked.
    pub since: Timestamp,
    pub source: String,
}

impl CarrierLabel {
    pub fn is_labeled(&self) -> bool {
        self.label.is_some()
    }
}

/// Every label observation, per number.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    observed: FastMap<E164, Observed>,
}

/// One number's observations, with what [`Labels::current`] needs at hand:
/// every tick asks it of each number that called, and a number watched
/// daily on three carriers has hundreds of observations.
#[derive(Clone, Debug, Default)]
struct Observed {
    /// Oldest first.
    list: Vec<LabelObserved>,
    /// `since[i]`: when the unbroken run of the same display (labeled or
    /// clean) on `list[i]`'s carrier that ends at `list[i]` began.
    since: Vec<Timestamp>,
    /// The newest observation's index per carrier, in [`Carrier::ALL`] order.
    newest: [Option<usize>; 3],
}

impl Observed {
    fn insert(&mut self, obs: LabelObserved) {
        // Same instant: the one that arrived later is the later word.
        let at = self.list.partition_point(|o| o.at <= obs.at);
        if at == self.list.len() {
            self.push(obs);
            return;
        }
        // Out of order (rare): every run after it may change.
        let mut list = std::mem::take(&mut self.list);
        list.insert(at, obs);
        self.since.clear();
        self.newest = [None; 3];
        for obs in list {
            self.push(obs);
        }
    }

    /// Appends the newest observation, continuing its carrier's run when
    /// the display is the same.
    fn push(&mut self, obs: LabelObserved) {
        let carrier = obs.carrier as usize;
        let since = match self.newest[carrier] {
            Some(prev) if is_labeled(&self.list[prev]) == is_labeled(&obs) => self.since[prev],
            _ => obs.at,
        };
        self.newest[carrier] = Some(self.list.len());
        self.since.push(since);
        self.list.push(obs);
    }

    /// The newest observation on `carrier` among the first `upto`.
    fn newest_before(&self, carrier: Carrier, upto: usize) -> Option<usize> {
        match self.newest[carrier as usize] {
            Some(i) if i < upto => Some(i),
            None => None,
            // Looking back in time: walk back from `upto`.
            Some(_) => self.list[..upto].iter().rposition(|o| o.carrier == carrier),
        }
    }
}

fn is_labeled(obs: &LabelObserved) -> bool {
    label_text(obs).is_some()
}

/// A blank label is a clean display, whatever the source wrote.
fn label_text(obs: &LabelObserved) -> Option<&str> {
    obs.label.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

impl Labels {
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Folds a label event; other events are ignored.
    pub fn apply(&mut self, event: &Event) {
        if let Event::Label(obs) = event {
            self.observe(obs.clone());
        }
    }

    pub fn observe(&mut self, obs: LabelObserved) {
        self.observed.entry(obs.number).or_default().insert(obs);
    }

    /// Every observation of a number, oldest first.
    pub fn history(&self, number: E164) -> &[LabelObserved] {
        self.observed.get(&number).map_or(&[], |o| o.list.as_slice())
    }

    /// The numbers with any observation, sorted.
    pub fn numbers(&self) -> Vec<E164> {
        let mut numbers: Vec<E164> = self.observed.keys().copied().collect();
        numbers.sort();
        numbers
    }

    /// Each carrier's latest display as of `now` (carriers never observed
    /// are left out), in [`Carrier::ALL`] order.
    pub fn current(&self, number: E164, now: Timestamp) -> Vec<CarrierLabel> {
        let Some(observed) = self.observed.get(&number) else {
            return Vec::new();
        };
        let upto = observed.list.partition_point(|o| o.at <= now);
        Carrier::ALL
            .into_iter()
            .filter_map(|carrier| {
                let i = observed.newest_before(carrier, upto)?;
                let latest = &observed.list[i];
                Some(CarrierLabel {
                    carrier,
                    engine: carrier.engine().into(),
                    label: label_text(latest).map(str::to_owned),
                    observed_at: latest.at,
                    since: observed.since[i],
                    source: latest.source.clone(),
                })
            })
            .collect()
    }

    /// Whether any carrier shows a label as of `now`.
    pub fn is_labeled(&self, number: E164, now: Timestamp) -> bool {
        self.current(number, now).iter().any(CarrierLabel::is_labeled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: E164 = E164::from_digits_unchecked(14_155_550_100);

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn seen(carrier: Carrier, label: Option<&str>, at: &str) -> LabelObserved {
        LabelObserved {
            number: N,
            carrier,
            label: label.map(str::to_owned),
            at: t(at),
            source: "test_call".into(),
            source_id: None,
        }
    }

    fn view(labels: &Labels, now: &str) -> Vec<(Carrier, Option<String>, Timestamp)> {
        labels
            .current(N, t(now))
            .into_iter()
            .map(|c| (c.carrier, c.label, c.since))
            .collect()
    }

    #[test]
    fn each_carrier_shows_its_latest_observation() {
        let mut labels = Labels::new();
        for obs in [
            seen(Carrier::Att, Some("Spam Likely"), "2026-03-01T10:00:00Z"),
            seen(Carrier::Tmobile, None, "2026-03-01T11:00:00Z"),
            seen(Carrier::Att, Some("Scam Likely"), "2026-03-03T10:00:00Z"),
        ] {
            labels.apply(&Event::Label(obs));
        }
        assert_eq!(
            view(&labels, "2026-03-04T00:00:00Z"),
            vec![
                (Carrier::Att, Some("Scam Likely".into()), t("2026-03-01T10:00:00Z")),
                (Carrier::Tmobile, None, t("2026-03-01T11:00:00Z")),
            ],
            "a changed label text keeps the number labeled since the first sighting"
        );
        assert!(labels.is_labeled(N, t("2026-03-04T00:00:00Z")));
    }

    #[test]
    fn a_clean_observation_ends_a_label() {
        let mut labels = Labels::new();
        labels.observe(seen(Carrier::Verizon, Some("Potential Spam"), "2026-03-01T10:00:00Z"));
        labels.observe(seen(Carrier::Verizon, None, "2026-03-20T10:00:00Z"));
        assert!(labels.is_labeled(N, t("2026-03-10T00:00:00Z")));
        assert!(!labels.is_labeled(N, t("2026-03-21T00:00:00Z")));
        assert_eq!(
            view(&labels, "2026-03-21T00:00:00Z"),
            vec![(Carrier::Verizon, None, t("2026-03-20T10:00:00Z"))]
        );
    }

    #[test]
    fn order_of_arrival_does_not_matter_and_the_future_is_unseen() {
        let obs = [
            seen(Carrier::Att, None, "2026-03-05T10:00:00Z"),
            seen(Carrier::Att, Some("Spam Likely"), "2026-03-01T10:00:00Z"),
            seen(Carrier::Att, Some("Spam Likely"), "2026-03-09T10:00:00Z"),
        ];
        let mut forward = Labels::new();
        let mut backward = Labels::new();
        for o in obs.iter().cloned() {
            forward.observe(o);
        }
        for o in obs.iter().rev().cloned() {
            backward.observe(o);
        }
        for now in ["2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z"] {
            assert_eq!(view(&forward, now), view(&backward, now), "{now}");
        }
        assert!(forward.current(N, t("2026-02-01T00:00:00Z")).is_empty());
        assert!(!forward.is_labeled(N, t("2026-03-06T00:00:00Z")));
        assert_eq!(
            view(&forward, "2026-03-10T00:00:00Z"),
            vec![(Carrier::Att, Some("Spam Likely".into()), t("2026-03-09T10:00:00Z"))]
        );
    }

    #[test]
    fn a_blank_label_is_a_clean_display() {
        let mut labels = Labels::new();
        labels.observe(seen(Carrier::Att, Some("   "), "2026-03-01T10:00:00Z"));
        assert!(!labels.is_labeled(N, t("2026-03-02T00:00:00Z")));
        assert_eq!(labels.history(N).len(), 1);
        assert_eq!(labels.numbers(), vec![N]);
    }

    /// Each carrier's display as of `now`, the slow way: walk back from the
    /// newest observation at or before `now` while the display holds.
    fn walked(history: &[LabelObserved], now: Timestamp) -> Vec<(Carrier, Option<String>, Timestamp, Timestamp)> {
        let upto = &history[..history.partition_point(|o| o.at <= now)];
        Carrier::ALL
            .into_iter()
            .filter_map(|carrier| {
                let mut ours = upto.iter().rev().filter(|o| o.carrier == carrier);
                let latest = ours.next()?;
                let mut since = latest.at;
                for earlier in ours {
                    if is_labeled(earlier) != is_labeled(latest) {
                        break;
                    }
                    since = earlier.at;
                }
                Some((carrier, label_text(latest).map(str::to_owned), latest.at, since))
            })
            .collect()
    }

    #[test]
    fn the_kept_runs_agree_with_walking_the_history() {
        let mut rng = fastrand::Rng::with_seed(11);
        let base = t("2026-03-02T00:00:00Z");
        for _ in 0..300 {
            let mut labels = Labels::new();
            for _ in 0..rng.usize(0..40) {
                let carrier = Carrier::ALL[rng.usize(0..3)];
                // Mostly in time order, sometimes late, sometimes blank.
                let label = [None, Some("Spam Likely"), Some("  ")][rng.usize(0..3)];
                let at = base + jiff::SignedDuration::from_hours(rng.i64(0..200));
                let mut obs = seen(carrier, label, "2026-03-02T00:00:00Z");
                obs.at = at;
                labels.observe(obs);
            }
            for hours in [-1, 0, 50, 100, 199, 400] {
                let now = base + jiff::SignedDuration::from_hours(hours);
                let kept: Vec<_> = labels
                    .current(N, now)
                    .into_iter()
                    .map(|c| (c.carrier, c.label, c.observed_at, c.since))
                    .collect();
                assert_eq!(kept, walked(labels.history(N), now), "at {now}");
            }
        }
    }
}
