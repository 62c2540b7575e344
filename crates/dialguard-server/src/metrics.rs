//! Prometheus metrics: what operations watches.
//!
//! Labels are bounded sets (route template, method, status, decision, deny
//! reason, event kind, health, state, and the pools the operators named): a
//! phone number never appears in a label, because every distinct label value
//! is a time series of its own and numbers belong in logs and reports. Counters on the decide path are
//! resolved once at start (no label lookup per request).

use std::time::Duration;

use dialguard_core::NumberState;
use dialguard_core::guard::{Decision, DenyReason};
use dialguard_core::risk::Health;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    health: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolHealthLabels {
    pool: String,
    health: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolStateLabels {
    pool: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

/// Every health, so each has a series from zero (an alert on
/// `health="labeled"` must see the 0 before the 1).
const HEALTHS: [Health; 4] = [Health::Healthy, Health::Watch, Health::AtRisk, Health::Labeled];

fn duration_histogram() -> Histogram {
    // 50 µs to ~1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    allowed: Counter,
    denied: Counter,
    denials: Vec<(DenyReason, Counter)>,
    ingested: Family<KindLabels, Counter>,
    duplicates: Family<KindLabels, Counter>,
    rejected: Family<KindLabels, Counter>,
    state_changes: Family<StateLabels, Counter>,
    log_batches: Counter,
    log_append_seconds: Histogram,
    numbers_by_health: Family<HealthLabels, Gauge>,
    numbers_by_state: Family<StateLabels, Gauge>,
    pool_by_health: Family<PoolHealthLabels, Gauge>,
    pool_by_state: Family<PoolStateLabels, Gauge>,
    pool_calls: Family<PoolLabels, Gauge>,
    pool_caps: Family<PoolLabels, Gauge>,
    scrape: parking_lot::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("dialguard");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status",
            requests.clone(),
        );
        let request_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            request_seconds.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("decisions", "Dial-path decisions, by outcome", decisions.clone());
        let allowed = decisions.get_or_create(&DecisionLabels { decision: "allow" }).clone();
        let denied = decisions.get_or_create(&DecisionLabels { decision: "deny" }).clone();
        let reasons = Family::<ReasonLabels, Counter>::default();
        registry.register("denials", "Denied decisions, by reason", reasons.clone());
        let denials = DenyReason::ALL
            .into_iter()
            .map(|r| (r, reasons.get_or_create(&ReasonLabels { reason: r.as_str() }).clone()))
            .collect();
        let ingested = Family::<KindLabels, Counter>::default();
        registry.register(
            "ingested_events",
            "Events written to the log, by kind",
            ingested.clone(),
        );
        let duplicates = Family::<KindLabels, Counter>::default();
        registry.register(
            "ingest_duplicates",
            "Events skipped because the log already held them, by kind",
            duplicates.clone(),
        );
        let rejected = Family::<KindLabels, Counter>::default();
        registry.register(
            "ingest_rejected",
            "Records refused as malformed, by kind",
            rejected.clone(),
        );
        let state_changes = Family::<StateLabels, Counter>::default();
        registry.register(
            "state_changes",
            "Lifecycle state changes the engine decided, by new state",
            state_changes.clone(),
        );
        // Present from zero, so a rate or an alert on them starts at 0.
        for state in NumberState::ALL {
            drop(state_changes.get_or_create(&StateLabels { state: state.as_str() }));
        }
        drop(rejected.get_or_create(&KindLabels { kind: "call" }));
        let log_batches = Counter::default();
        registry.register(
            "log_batches",
            "Transactions written to the event log",
            log_batches.clone(),
        );
        let log_append_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "log_append_duration_seconds",
            "Time to write one transaction to the event log",
            log_append_seconds.clone(),
        );
        let numbers_by_health = Family::<HealthLabels, Gauge>::default();
        registry.register("numbers", "Registered numbers, by health", numbers_by_health.clone());
        let numbers_by_state = Family::<StateLabels, Gauge>::default();
        registry.register(
            "numbers_by_state",
            "Registered numbers, by lifecycle state",
            numbers_by_state.clone(),
        );
        let pool_by_health = Family::<PoolHealthLabels, Gauge>::default();
        registry.register(
            "pool_numbers",
            "Registered numbers, by pool and health",
            pool_by_health.clone(),
        );
        let pool_by_state = Family::<PoolStateLabels, Gauge>::default();
        registry.register(
            "pool_numbers_by_state",
            "Registered numbers, by pool and lifecycle state",
            pool_by_state.clone(),
        );
        let pool_calls = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "pool_calls_today",
            "Outbound calls in the last 24 hours, by pool",
            pool_calls.clone(),
        );
        let pool_caps = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "pool_cap_today",
            "The most the pool's numbers may place in 24 hours now, summed by pool",
            pool_caps.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            allowed,
            denied,
            denials,
            ingested,
            duplicates,
            rejected,
            state_changes,
            log_batches,
            log_append_seconds,
            numbers_by_health,
            numbers_by_state,
            pool_by_health,
            pool_by_state,
            pool_calls,
            pool_caps,
            scrape: parking_lot::Mutex::new(()),
        }
    }

    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn decision(&self, decision: &Decision) {
        match decision {
            Decision::Allow { .. } => {
                self.allowed.inc();
            }
            Decision::Deny { reason, .. } => {
                self.denied.inc();
                if let Some((_, counter)) = self.denials.iter().find(|(r, _)| r == reason) {
                    counter.inc();
                }
            }
        }
    }

    pub fn ingested(&self, kind: &'static str, accepted: u64, duplicates: u64) {
        if accepted > 0 {
            self.ingested.get_or_create(&KindLabels { kind }).inc_by(accepted);
        }
        if duplicates > 0 {
            self.duplicates.get_or_create(&KindLabels { kind }).inc_by(duplicates);
        }
    }

    pub fn rejected(&self, kind: &'static str, count: u64) {
        if count > 0 {
            self.rejected.get_or_create(&KindLabels { kind }).inc_by(count);
        }
    }

    pub fn state_changed(&self, state: NumberState) {
        self.state_changes
            .get_or_create(&StateLabels { state: state.as_str() })
            .inc();
    }

    pub fn log_batch(&self, took: Duration) {
        self.log_batches.inc();
        self.log_append_seconds.observe(took.as_secs_f64());
    }

    /// Replaces the number gauges with a fresh count of `numbers` (every
    /// tenant's): by health and by state, overall and per pool, every
    /// health and state present from zero, and each pool's calls and caps
    /// in the last 24 hours (its headroom).
    pub fn set_numbers(&self, numbers: &[dialguard_core::engine::NumberSummary]) {
        let pools: std::collections::BTreeSet<&str> = numbers.iter().map(|n| n.pool.as_str()).collect();
        self.numbers_by_health.clear();
        self.numbers_by_state.clear();
        self.pool_by_health.clear();
        self.pool_by_state.clear();
        self.pool_calls.clear();
        self.pool_caps.clear();
        for health in HEALTHS {
            let count = numbers.iter().filter(|n| n.health == health).count() as i64;
            self.numbers_by_health
                .get_or_create(&HealthLabels {
                    health: health.as_str(),
                })
                .set(count);
        }
        for state in NumberState::ALL {
            let count = numbers.iter().filter(|n| n.state == state).count() as i64;
            self.numbers_by_state
                .get_or_create(&StateLabels { state: state.as_str() })
                .set(count);
        }
        for pool in pools {
            let members: Vec<_> = numbers.iter().filter(|n| n.pool == pool).collect();
            for health in HEALTHS {
                let labels = PoolHealthLabels {
                    pool: pool.to_owned(),
                    health: health.as_str(),
                };
                let count = members.iter().filter(|n| n.health == health).count() as i64;
                self.pool_by_health.get_or_create(&labels).set(count);
            }
            for state in NumberState::ALL {
                let labels = PoolStateLabels {
                    pool: pool.to_owned(),
                    state: state.as_str(),
                };
                let count = members.iter().filter(|n| n.state == state).count() as i64;
                self.pool_by_state.get_or_create(&labels).set(count);
            }
            let labels = PoolLabels { pool: pool.to_owned() };
            let calls: i64 = members.iter().map(|n| i64::from(n.calls_today)).sum();
            let caps: i64 = members.iter().map(|n| i64::from(n.cap_today)).sum();
            self.pool_calls.get_or_create(&labels).set(calls);
            self.pool_caps.get_or_create(&labels).set(caps);
        }
    }

    /// The text exposition format with the number gauges counted from
    /// `numbers`; one scrape at a time, so two tenants' scrapes never show
    /// each other's counts.
    pub fn render_with_numbers(&self, numbers: &[dialguard_core::engine::NumberSummary]) -> String {
        let _one_at_a_time = self.scrape.lock();
        self.set_numbers(numbers);
        self.render()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use dialguard_core::E164;

    use super::*;

    #[test]
    fn decisions_are_counted_by_outcome_and_reason() {
        let metrics = Metrics::new();
        let caller_id = E164::from_digits_unchecked(14_155_550_100);
        metrics.decision(&Decision::Allow { caller_id });
        metrics.decision(&Decision::Deny {
            reason: DenyReason::PoolExhausted,
            retry_at: None,
        });
        metrics.decision(&Decision::Deny {
            reason: DenyReason::PoolExhausted,
            retry_at: None,
        });
        let text = metrics.render();
        assert!(
            text.contains("dialguard_decisions_total{decision=\"allow\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("dialguard_decisions_total{decision=\"deny\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("dialguard_denials_total{reason=\"pool_exhausted\"} 2"),
            "{text}"
        );
        assert!(text.contains("dialguard_denials_total{reason=\"dnc\"} 0"), "{text}");
        assert!(
            !text.contains("4155550100"),
            "a phone number leaked into the metrics: {text}"
        );
    }

    fn summary(
        number: u64,
        pool: &str,
        state: NumberState,
        health: Health,
        calls: u32,
        cap: u32,
    ) -> dialguard_core::engine::NumberSummary {
        dialguard_core::engine::NumberSummary {
            number: E164::from_digits_unchecked(number),
            pool: pool.to_owned(),
            state,
            health,
            risk: 0,
            calls_today: calls,
            cap_today: cap,
            top_factor: None,
            cap_reason: None,
        }
    }

    #[test]
    fn number_gauges_are_replaced_every_series_from_zero_and_per_pool() {
        let metrics = Metrics::new();
        metrics.set_numbers(&[
            summary(14_155_550_100, "sales", NumberState::Active, Health::Healthy, 10, 50),
            summary(14_155_550_101, "sales", NumberState::Active, Health::Healthy, 20, 50),
            summary(
                14_155_550_102,
                "collections",
                NumberState::Active,
                Health::Healthy,
                5,
                40,
            ),
        ]);
        metrics.set_numbers(&[
            summary(
                14_155_550_100,
                "sales",
                NumberState::Quarantined,
                Health::Labeled,
                30,
                0,
            ),
            summary(14_155_550_101, "sales", NumberState::Active, Health::Healthy, 25, 50),
        ]);
        let text = metrics.render();
        for line in [
            "dialguard_numbers{health=\"labeled\"} 1",
            "dialguard_numbers{health=\"healthy\"} 1",
            // Present from zero, so an alert sees the 0 before the 1.
            "dialguard_numbers{health=\"at_risk\"} 0",
            "dialguard_numbers_by_state{state=\"quarantined\"} 1",
            "dialguard_numbers_by_state{state=\"resting\"} 0",
            "dialguard_pool_numbers{pool=\"sales\",health=\"labeled\"} 1",
            "dialguard_pool_numbers{pool=\"sales\",health=\"watch\"} 0",
            "dialguard_pool_numbers_by_state{pool=\"sales\",state=\"active\"} 1",
            "dialguard_pool_calls_today{pool=\"sales\"} 55",
            "dialguard_pool_cap_today{pool=\"sales\"} 50",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        // Replaced, not accumulated: the pool that is gone has no series.
        assert!(!text.contains("collections"), "{text}");
    }
}
