//! Capacity planning: how many numbers a pool needs to carry a daily volume
//! inside the engine profiles' allowances and the guard's caps.
//!
//! A number's room is the tightest of: the guard's daily and hourly caps,
//! its pacing gap, and every profile's volume allowance for the number's
//! maturity (a new number's allowance is lower, and `aging` caps it lower
//! still for its first weeks). The calls of a day spread over the hours the
//! people called may legally be called, so the hourly room matters as much
//! as the daily one. Numbers that rest after a label carry nothing for a
//! month: a reserve on top keeps the volume up while some rest.

use dialguard_core::guard::GuardConfig;
use dialguard_core::risk::RiskConfig;
use serde::{Deserialize, Serialize};

/// What to plan for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub calls_per_day: u32,
    /// Hours a day the calls spread over. Default 12: the 13 federal hours
    /// less the spread of US time zones a national list needs.
    pub calling_hours: f64,
    /// Extra numbers, as a share of the working ones, to cover those resting
    /// after a label `[sim]`. Default 0.2.
    pub reserve: f64,
}

impl PlanRequest {
    pub fn new(calls_per_day: u32) -> PlanRequest {
        PlanRequest {
            calls_per_day,
            calling_hours: 12.0,
            reserve: 0.2,
        }
    }
}

/// One limit on a number's volume, and where it comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// `guard` or a profile's name.
    pub source: String,
    pub per_hour_new: u32,
    pub per_hour_mature: u32,
    pub per_day_new: u32,
    pub per_day_mature: u32,
}

/// The answer for one maturity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    /// Calls one number may place a day and an hour.
    pub per_number_daily: u32,
    pub per_number_hourly: u32,
    /// Which limit binds (the source of the lower of the two needs).
    pub limited_by: String,
    /// Numbers needed for the daily volume and for the busiest hour.
    pub for_daily: u32,
    pub for_hourly: u32,
    /// The larger of the two, plus the reserve.
    pub working: u32,
    pub reserve: u32,
    pub total: u32,
}

/// A pool sized for a volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacityPlan {
    pub request: PlanRequest,
    /// Numbers with a month or more of calling history.
    pub mature: Sizing,
    /// Numbers new to calling (profiles' `new` allowance).
    pub new: Sizing,
    /// Brand-new numbers in `aging`, week by week of their ramp.
    pub aging_weeks: Vec<Sizing>,
    pub limits: Vec<Limit>,
}

/// A request that cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("plan: `{field}` {reason}")]
pub struct PlanError {
    pub field: &'static str,
    pub reason: String,
}

/// Sizes a pool for `request` under the given profiles and guard settings.
pub fn plan(request: &PlanRequest, risk: &RiskConfig, guard: &GuardConfig) -> Result<CapacityPlan, PlanError> {
    if request.calls_per_day == 0 {
        return Err(PlanError {
            field: "calls_per_day",
            reason: "must be at least 1".into(),
        });
    }
    if !(request.calling_hours.is_finite() && request.calling_hours > 0.0 && request.calling_hours <= 24.0) {
        return Err(PlanError {
            field: "calling_hours",
            reason: format!("is {}: use 1 to 24 hours", request.calling_hours),
        });
    }
    if !(request.reserve.is_finite() && (0.0..=10.0).contains(&request.reserve)) {
        return Err(PlanError {
            field: "reserve",
            reason: format!(
                "is {}: a share of the working numbers, 0 to 10 (0.2 for 20 %)",
                request.reserve
            ),
        });
    }
    let pacing_per_hour = 3_600 / guard.pacing_seconds.max(1);
    let mut limits = vec![Limit {
        source: "guard".into(),
        per_hour_new: guard.hourly_cap.min(pacing_per_hour),
        per_hour_mature: guard.hourly_cap.min(pacing_per_hour),
        per_day_new: guard.daily_cap,
        per_day_mature: guard.daily_cap,
    }];
    for profile in &risk.profiles {
        let a = &profile.allowance;
        limits.push(Limit {
            source: profile.name.clone(),
            per_hour_new: a.per_hour.new.floor().max(1.0) as u32,
            per_hour_mature: a.per_hour.mature.floor().max(1.0) as u32,
            per_day_new: a.per_day.new.floor().max(1.0) as u32,
            per_day_mature: a.per_day.mature.floor().max(1.0) as u32,
        });
    }
    let tightest = |pick: fn(&Limit) -> u32| {
        limits
            .iter()
            .min_by_key(|l| pick(l))
            .map(|l| (pick(l), l.source.clone()))
            .expect("the guard's limit is always there")
    };
    let mature = size(request, tightest(|l| l.per_day_mature), tightest(|l| l.per_hour_mature));
    let new = size(request, tightest(|l| l.per_day_new), tightest(|l| l.per_hour_new));
    let aging_weeks = guard
        .aging
        .daily_caps_by_week
        .iter()
        .map(|cap| {
            let (daily, source) = tightest(|l| l.per_day_new);
            let daily = if *cap < daily {
                (*cap, "guard aging".to_owned())
            } else {
                (daily, source)
            };
            size(request, daily, tightest(|l| l.per_hour_new))
        })
        .collect();
    Ok(CapacityPlan {
        request: request.clone(),
        mature,
        new,
        aging_weeks,
        limits,
    })
}

fn size(request: &PlanRequest, daily: (u32, String), hourly: (u32, String)) -> Sizing {
    let calls = f64::from(request.calls_per_day);
    let for_daily = (calls / f64::from(daily.0.max(1))).ceil() as u32;
    let busiest_hour = (calls / request.calling_hours).ceil();
    let for_hourly = (busiest_hour / f64::from(hourly.0.max(1))).ceil() as u32;
    let (working, limited_by) = if for_hourly > for_daily {
        (for_hourly, format!("{} (per hour)", hourly.1))
    } else {
        (for_daily, format!("{} (per day)", daily.1))
    };
    let reserve = (f64::from(working) * request.reserve).ceil() as u32;
    Sizing {
        per_number_daily: daily.0,
        per_number_hourly: hourly.0,
        limited_by,
        for_daily,
        for_hourly,
        working,
        reserve,
        total: working + reserve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(calls: u32) -> CapacityPlan {
        plan(
            &PlanRequest::new(calls),
            &RiskConfig::defaults(),
            &GuardConfig::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_volume_needs_the_numbers_its_tightest_limit_says() {
        let p = shipped(20_000);
        // Mature numbers: the guard's 150 a day (TNS and First Orion agree)
        // against 30 an hour over 12 hours (1,667 calls an hour).
        assert_eq!(p.mature.per_number_daily, 150);
        assert_eq!(p.mature.per_number_hourly, 30);
        assert_eq!(p.mature.for_daily, 134);
        assert_eq!(p.mature.for_hourly, 56);
        assert_eq!(p.mature.working, 134);
        assert_eq!(p.mature.total, 134 + 27);
        assert!(p.mature.limited_by.contains("per day"), "{}", p.mature.limited_by);
        // New numbers: TNS allows 50 a day.
        assert_eq!(
            (p.new.per_number_daily, p.new.limited_by.as_str()),
            (50, "tns (per day)")
        );
        assert_eq!(p.new.working, 400);
        // Aging week 1: the guard's ramp caps at 10 a day.
        assert_eq!(p.aging_weeks[0].per_number_daily, 10);
        assert_eq!(p.aging_weeks[0].working, 2_000);
    }

    #[test]
    fn more_calls_never_need_fewer_numbers() {
        let mut last = 0;
        for calls in [1, 10, 149, 150, 151, 1_000, 5_000, 20_000, 100_000] {
            let total = shipped(calls).mature.total;
            assert!(total >= last, "{calls}: {total} < {last}");
            last = total;
        }
        assert_eq!(shipped(1).mature.working, 1);
    }

    #[test]
    fn bad_requests_name_the_field() {
        let cases = [
            (
                PlanRequest {
                    calls_per_day: 0,
                    ..PlanRequest::new(1)
                },
                "calls_per_day",
            ),
            (
                PlanRequest {
                    calling_hours: 0.0,
                    ..PlanRequest::new(1)
                },
                "calling_hours",
            ),
            (
                PlanRequest {
                    calling_hours: 25.0,
                    ..PlanRequest::new(1)
                },
                "calling_hours",
            ),
            (
                PlanRequest {
                    reserve: -1.0,
                    ..PlanRequest::new(1)
                },
                "reserve",
            ),
        ];
        for (request, field) in cases {
            let err = plan(&request, &RiskConfig::defaults(), &GuardConfig::default()).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
    }
}
