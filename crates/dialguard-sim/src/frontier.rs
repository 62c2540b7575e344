//! "What does the guard buy me over a spreadsheet cap?": the campaign run
//! with every fixed daily cap of a family beside the dialguard strategy,
//! and the guard compared with the best cap a team could have picked in
//! hindsight.
//!
//! The comparison is on two axes at once. Among the fixed caps whose
//! label-days are no more than the guard's, the one with the most
//! conversations is the cap to beat; the ratio is the guard's
//! conversations over that cap's. When no cap was as clean as the guard,
//! there is no ratio: nothing a team could have picked by hand matches it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::run::{SimError, Simulator, StrategyReport};
use crate::strategy::{RemoteGuard, StrategyKind};

/// The fixed caps a careful team might pick, calls a day per number.
pub const FIXED_CAPS: [u32; 15] = [5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100, 125, 150, 200];

/// One fixed cap's run, in brief.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapRun {
    pub cap: u32,
    pub conversations: u64,
    pub label_days: f64,
    pub numbers_ever_labeled: u32,
    pub violating_calls: u64,
}

/// The guard beside the fixed-cap family.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frontier {
    pub guard: StrategyReport,
    pub caps: Vec<CapRun>,
    /// The cap with the most conversations among those with no more
    /// label-days than the guard (ties go to the smaller cap).
    pub best: Option<CapRun>,
    /// The guard's conversations over `best`'s.
    pub ratio: Option<f64>,
}

impl Frontier {
    /// Judges `guard` against the fixed-cap runs.
    pub fn judge(guard: StrategyReport, mut caps: Vec<CapRun>) -> Frontier {
        caps.sort_by_key(|c| c.cap);
        let best = caps
            .iter()
            .filter(|c| c.label_days <= guard.label_days)
            .fold(None::<&CapRun>, |best, c| match best {
                Some(b) if b.conversations >= c.conversations => Some(b),
                _ => Some(c),
            })
            .cloned();
        let ratio = best
            .as_ref()
            .map(|b| guard.conversations as f64 / (b.conversations.max(1)) as f64);
        Frontier {
            guard,
            caps,
            best,
            ratio,
        }
    }
}

impl Simulator {
    /// Runs the dialguard strategy and `capped` at each of `caps`, on
    /// `threads` threads; `progress` hears of each finished run.
    pub fn frontier(&self, caps: &[u32], threads: usize, progress: &(dyn Fn() + Sync)) -> Result<Frontier, SimError> {
        self.frontier_via(caps, threads, None, progress)
    }

    /// [`Simulator::frontier`] with the guard asked through `remote` (a
    /// running server's API) instead of in process, when it is given.
    pub fn frontier_via(
        &self,
        caps: &[u32],
        threads: usize,
        remote: Option<Box<dyn RemoteGuard>>,
        progress: &(dyn Fn() + Sync),
    ) -> Result<Frontier, SimError> {
        let remote = Mutex::new(remote);
        // Job 0 is the guard; job i > 0 is caps[i - 1].
        let next = AtomicUsize::new(0);
        let guard = Mutex::new(None);
        let runs = Mutex::new(Vec::with_capacity(caps.len()));
        let failure = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..threads.max(1) {
                scope.spawn(|| {
                    loop {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if job > caps.len() {
                            return;
                        }
                        let result = if job == 0 {
                            let remote = remote.lock().expect("not poisoned").take();
                            match remote {
                                Some(remote) => self.run_remote(remote, &|_| {}),
                                None => self.run(StrategyKind::Dialguard, None, &|_| {}),
                            }
                        } else {
                            self.run_capped(caps[job - 1], &|_| {})
                        };
                        match result {
                            Ok(report) if job == 0 => *guard.lock().expect("not poisoned") = Some(report),
                            Ok(report) => runs.lock().expect("not poisoned").push(CapRun {
                                cap: caps[job - 1],
                                conversations: report.conversations,
                                label_days: report.label_days,
                                numbers_ever_labeled: report.numbers_ever_labeled,
                                violating_calls: report.violating_calls,
                            }),
                            Err(e) => {
                                failure.lock().expect("not poisoned").get_or_insert(e);
                            }
                        }
                        progress();
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().expect("not poisoned") {
            return Err(e);
        }
        let guard = guard.into_inner().expect("not poisoned").expect("job 0 ran");
        Ok(Frontier::judge(guard, runs.into_inner().expect("not poisoned")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(cap: u32, conversations: u64, label_days: f64) -> CapRun {
        CapRun {
            cap,
            conversations,
            label_days,
            numbers_ever_labeled: 0,
            violating_calls: 0,
        }
    }

    fn guard(conversations: u64, label_days: f64) -> StrategyReport {
        let mut report = StrategyReport::new(StrategyKind::Dialguard);
        report.conversations = conversations;
        report.label_days = label_days;
        report
    }

    #[test]
    fn the_cap_to_beat_is_the_best_one_no_dirtier_than_the_guard() {
        let caps = vec![
            cap(10, 400, 0.0),
            cap(50, 1800, 17.7),
            cap(30, 1077, 0.6),
            cap(60, 2083, 111.0),
        ];
        let f = Frontier::judge(guard(1644, 18.8), caps.clone());
        assert_eq!(f.best.as_ref().map(|b| b.cap), Some(50));
        assert!((f.ratio.unwrap() - 1644.0 / 1800.0).abs() < 1e-9);
        // A cleaner guard is held to a cleaner cap.
        let f = Frontier::judge(guard(1200, 1.0), caps.clone());
        assert_eq!(f.best.as_ref().map(|b| b.cap), Some(30));
        assert!(f.ratio.unwrap() > 1.1);
        // Dirtier than none: no cap to compare.
        let f = Frontier::judge(guard(50, 0.0), vec![cap(5, 200, 3.0)]);
        assert_eq!((f.best, f.ratio), (None, None));
        assert_eq!(f.caps.len(), 1);
    }

    #[test]
    fn a_short_campaign_runs_the_whole_family_beside_the_guard() {
        let scenario = crate::Scenario {
            days: 3,
            history_days: 0,
            population: crate::PopulationConfig {
                contacts: 2_000,
                numbers: 4,
                ..crate::PopulationConfig::default()
            },
            ..crate::Scenario::default()
        };
        let sim = Simulator::new(scenario, dialguard_core::engine::EngineConfig::default()).unwrap();
        let runs = AtomicUsize::new(0);
        let f = sim
            .frontier(&[5, 40], 2, &|| {
                runs.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
        assert_eq!(runs.into_inner(), 3);
        assert_eq!(f.caps.iter().map(|c| c.cap).collect::<Vec<_>>(), vec![5, 40]);
        assert!(f.caps[0].conversations < f.caps[1].conversations, "{:?}", f.caps);
        assert!(f.guard.calls > 0);
    }
}
