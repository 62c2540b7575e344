//! The campaign driver: one strategy, minute by minute, over the scenario's
//! days.
//!
//! Each simulated minute: events that have come due reach the strategy
//! (call records when a call ends, complaints a day late through the
//! feeds), the engines' clocks move every hour, the monitoring feed's test
//! calls run once a day, and while the call center is open the dialer works
//! its list at the scenario's rate: the next person due, asked of the
//! strategy, dialed with the caller id it picked. Every call is judged by
//! the law check ([`crate::law`]), answered or not by the callee model
//! ([`crate::callee`]), and seen by the carrier's engine
//! ([`crate::emulator`]).
//!
//! Time is integer seconds; per-person state is a flat array; events are
//! built only when the strategy or an [`EventSink`] wants them, and the call
//! record is one reused value, so a run allocates nothing per call.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;

use dialguard_core::engine::{EngineConfig, EngineError};
use dialguard_core::guard::DenyReason;
use dialguard_core::{
    Call, Carrier, Cause, Complaint, Direction, E164, Event, LabelObserved, NumberState, OptOut, Outcome, Source,
};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::callee::Circumstances;
use crate::dice::Dice;
use crate::emulator::{Emulator, SeenCall};
use crate::law::{FEDERAL_HOURS, Violations, ZoneClock};
use crate::population::{Population, PopulationError};
use crate::scenario::{Scenario, ScenarioError};
use crate::strategy::{Choice, Dialer, RemoteGuard, StrategyKind, World, timestamp};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// Calls to one person remembered for the frequency rules and the callee's
/// patience (older ones fall out of a 7-day window long before).
const REMEMBERED_CALLS: usize = 8;
/// People a dialer skips over in one call slot before it gives up on the
/// slot (each skip is an instant "not this one" from the strategy).
const SKIPS_PER_SLOT: usize = 64;

/// Where a run's events go (the event log, for `dialguard demo`; a vector,
/// for tests). Events arrive in the order the strategy would receive them.
pub trait EventSink {
    fn record(&mut self, event: &Event);
}

impl EventSink for Vec<Event> {
    fn record(&mut self, event: &Event) {
        self.push(event.clone());
    }
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Population(#[from] PopulationError),
    #[error("the dialguard strategy's engine: {0}")]
    Engine(#[from] EngineError),
    #[error("the dialguard server: {0}")]
    Remote(String),
}

/// What one strategy achieved over the scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyReport {
    pub strategy: StrategyKind,
    /// Calls placed.
    pub calls: u64,
    pub answered: u64,
    /// Answered calls of two minutes or more with someone who wanted to talk.
    pub conversations: u64,
    /// Answered calls over within 6 seconds.
    pub short_calls: u64,
    pub invalid_destinations: u64,
    /// Calls a carrier refused outright (SIP 608).
    pub blocked_calls: u64,
    pub complaints: u64,
    pub opt_outs: u64,
    /// Days a spam label showed, summed over numbers and carriers.
    pub label_days: f64,
    pub labels_raised: u32,
    pub numbers_ever_labeled: u32,
    /// Of those, the numbers already labeled when the campaign began (by
    /// the traffic of their history): no strategy could have kept them
    /// clean.
    pub numbers_labeled_at_start: u32,
    /// Calls the law check found illegal on at least one count.
    pub violating_calls: u64,
    pub violations: Violations,
    /// The strategy's refusals, by reason.
    pub denials: BTreeMap<String, u64>,
    /// Numbers the strategy stopped (dialguard's quarantines).
    pub quarantines: u32,
    /// People still waiting for a call when the run ended.
    pub contacts_left: u64,
}

impl StrategyReport {
    pub(crate) fn new(strategy: StrategyKind) -> StrategyReport {
        StrategyReport {
            strategy,
            calls: 0,
            answered: 0,
            conversations: 0,
            short_calls: 0,
            invalid_destinations: 0,
            blocked_calls: 0,
            complaints: 0,
            opt_outs: 0,
            label_days: 0.0,
            labels_raised: 0,
            numbers_ever_labeled: 0,
            numbers_labeled_at_start: 0,
            violating_calls: 0,
            violations: Violations::default(),
            denials: DenyReason::ALL.iter().map(|r| (r.as_str().to_owned(), 0)).collect(),
            quarantines: 0,
            contacts_left: 0,
        }
    }

    /// All denials together.
    pub fn denied(&self) -> u64 {
        self.denials.values().sum()
    }
}

/// A scenario with its population drawn, ready to run strategies on.
pub struct Simulator {
    scenario: Scenario,
    population: Population,
    engine: EngineConfig,
    clock: ZoneClock,
}

impl Simulator {
    /// Checks the scenario and draws its population. `engine` configures the
    /// dialguard strategy (the shipped defaults are `EngineConfig::default()`).
    pub fn new(scenario: Scenario, engine: EngineConfig) -> Result<Simulator, SimError> {
        scenario.validate()?;
        scenario.engines.validate().map_err(|e| ScenarioError {
            field: "engines",
            reason: e.to_string(),
        })?;
        let population = Population::generate(&scenario.population, scenario.seed)?;
        let history = i64::from(scenario.history_days) * DAY;
        let hours = (scenario.days + scenario.history_days) as usize * 24 + 48;
        let clock = ZoneClock::new(&population.zones, scenario.start.as_second() - history - DAY, hours);
        Ok(Simulator {
            scenario,
            population,
            engine,
            clock,
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn population(&self) -> &Population {
        &self.population
    }

    /// Runs one strategy. `progress` hears of each finished day.
    pub fn run<'s>(
        &'s self,
        strategy: StrategyKind,
        sink: Option<&'s mut dyn EventSink>,
        progress: &dyn Fn(u32),
    ) -> Result<StrategyReport, SimError> {
        Campaign::new(self, strategy, self.scenario.capped_daily_cap, sink, None)?.run(progress)
    }

    /// Runs the dialguard strategy asked through `remote` (a running
    /// server's API, for one) instead of in process.
    pub fn run_remote(&self, remote: Box<dyn RemoteGuard>, progress: &dyn Fn(u32)) -> Result<StrategyReport, SimError> {
        Campaign::new(
            self,
            StrategyKind::Dialguard,
            self.scenario.capped_daily_cap,
            None,
            Some(remote),
        )?
        .run(progress)
    }

    /// Runs the `capped` strategy with a daily cap of `cap` rather than the
    /// scenario's.
    pub fn run_capped(&self, cap: u32, progress: &dyn Fn(u32)) -> Result<StrategyReport, SimError> {
        Campaign::new(self, StrategyKind::Capped, cap.max(1), None, None)?.run(progress)
    }

    /// Runs several strategies side by side, each on its own thread.
    pub fn run_all(
        &self,
        strategies: &[StrategyKind],
        progress: &(dyn Fn(StrategyKind, u32) + Sync),
    ) -> Result<Vec<StrategyReport>, SimError> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = strategies
                .iter()
                .map(|&kind| scope.spawn(move || self.run(kind, None, &|day| progress(kind, day))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }
}

/// One person's state in one run.
#[derive(Clone, Copy, Debug)]
struct Person {
    attempts: u8,
    /// The dialer will not call again (reached, dead, out of attempts, or
    /// known to have opted out).
    done: bool,
    /// When they asked not to be called; `i64::MAX` if never.
    opted_out_at: i64,
    /// Starts of the latest calls, oldest overwritten first.
    calls: [i64; REMEMBERED_CALLS],
}

impl Person {
    const NEW: Person = Person {
        attempts: 0,
        done: false,
        opted_out_at: i64::MAX,
        calls: [i64::MIN; REMEMBERED_CALLS],
    };

    fn calls_after(&self, since: i64) -> u32 {
        self.calls.iter().filter(|t| **t > since).count() as u32
    }

    fn remember(&mut self, at: i64) {
        let slot = usize::from(self.attempts) % REMEMBERED_CALLS;
        self.calls[slot] = at;
    }
}

/// Something that reaches the strategy later than it happened.
#[derive(Clone, Copy, Debug)]
enum Later {
    CallEnded {
        number: u32,
        contact: u32,
        started: i64,
        ring: u32,
        talk: u32,
        outcome: Outcome,
        cause: Cause,
    },
    Complaint {
        number: u32,
        contact: u32,
    },
    OptOut {
        contact: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct Due {
    at: i64,
    seq: u64,
    what: Later,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Campaign<'a> {
    sim: &'a Simulator,
    world: World<'a>,
    dice: Dice,
    dialer: Dialer,
    engines: Emulator,
    people: Vec<Person>,
    /// The next person never called yet.
    fresh: u32,
    /// People to call again, by when.
    queue: BinaryHeap<Reverse<(i64, u32)>>,
    later: BinaryHeap<Reverse<Due>>,
    seq: u64,
    /// Opt-outs the dialer's list will learn of at the nightly scrub.
    to_scrub: Vec<u32>,
    /// The dialer waits: every number is busy until then.
    paused_until: i64,
    center: TimeZone,
    events: bool,
    sink: Option<&'a mut dyn EventSink>,
    scratch: Event,
    denials: [u64; DenyReason::ALL.len()],
    report: StrategyReport,
}

impl<'a> Campaign<'a> {
    fn new(
        sim: &'a Simulator,
        strategy: StrategyKind,
        capped_daily_cap: u32,
        mut sink: Option<&'a mut dyn EventSink>,
        remote: Option<Box<dyn RemoteGuard>>,
    ) -> Result<Self, SimError> {
        let scenario = &sim.scenario;
        let start = scenario.start.as_second();
        let history_from = start - i64::from(scenario.history_days) * DAY;
        let (dialer, registrations) = Dialer::new(
            strategy,
            &sim.population,
            capped_daily_cap,
            &sim.engine,
            history_from,
            remote,
        )?;
        if let Some(sink) = sink.as_deref_mut() {
            for event in &registrations {
                sink.record(event);
            }
        }
        let events = dialer.wants_events() || sink.is_some();
        let first = sim.population.numbers[0];
        Ok(Campaign {
            sim,
            world: World {
                population: &sim.population,
                clock: &sim.clock,
            },
            dice: Dice::new(scenario.seed),
            dialer,
            engines: Emulator::new(
                scenario.engines.clone(),
                sim.population.numbers.len(),
                history_from,
                scenario.seed,
            ),
            people: vec![Person::NEW; sim.population.contacts.len()],
            fresh: 0,
            queue: BinaryHeap::new(),
            later: BinaryHeap::new(),
            seq: 0,
            to_scrub: Vec::new(),
            paused_until: i64::MIN,
            center: TimeZone::get(&scenario.dialer.center_zone).expect("validated"),
            events,
            sink,
            scratch: Event::Call(Call {
                from: first,
                to: first,
                direction: Direction::Outbound,
                started_at: timestamp(start),
                answered_at: None,
                ended_at: timestamp(start),
                talk_seconds: 0,
                outcome: Outcome::NoAnswer,
                cause: Cause::Unspecified,
                source: Source::Simulator,
                source_id: String::with_capacity(24),
            }),
            denials: [0; DenyReason::ALL.len()],
            report: StrategyReport::new(strategy),
        })
    }

    fn run(mut self, progress: &dyn Fn(u32)) -> Result<StrategyReport, SimError> {
        let scenario = &self.sim.scenario;
        let start = scenario.start.as_second();
        let minutes = i64::from(scenario.days) * 1440;
        let monitor_minute = i64::from(scenario.monitor_hour_utc) * 60;
        let (open_hour, close_hour) = scenario.dialer.dial_hours;
        self.warm_up();
        if let Some(why) = self.dialer.failure() {
            return Err(SimError::Remote(why));
        }
        let mut credit = 0.0f64;
        let mut center_open = false;
        for minute in 0..minutes {
            let now = start + minute * 60;
            self.deliver_until(now);
            if minute % 60 == 0 {
                self.engines.tick(now);
                let hour = self.center.to_datetime(timestamp(now)).hour();
                center_open =
                    (i8::try_from(open_hour).unwrap_or(0)..i8::try_from(close_hour).unwrap_or(24)).contains(&hour);
            }
            if minute % 1440 == monitor_minute {
                self.monitor(now);
                self.scrub();
            }
            let mut busy = false;
            if center_open {
                credit += scenario.calls_per_minute;
                let slots = credit.floor() as i64;
                credit -= slots as f64;
                for k in 0..slots {
                    busy |= self.dial(now + k * 60 / slots.max(1));
                }
            }
            if self.dialer.wants_events() && (busy || minute % 15 == 14) {
                self.deliver_until(now + 60);
                let derived = self.dialer.tick(now + 60);
                self.record_derived(&derived);
            }
            if minute % 1440 == 1439 {
                if let Some(why) = self.dialer.failure() {
                    return Err(SimError::Remote(why));
                }
                progress((minute / 1440 + 1) as u32);
            }
        }
        let end = start + minutes * 60;
        self.deliver_until(end);
        self.dialer.flush(end);
        if let Some(why) = self.dialer.failure() {
            return Err(SimError::Remote(why));
        }
        self.engines.tick(end);
        Ok(self.finish(end))
    }

    fn record_derived(&mut self, derived: &[Event]) {
        for event in derived {
            if let Event::StateChanged(change) = event
                && change.state == NumberState::Quarantined
            {
                self.report.quarantines += 1;
            }
            if let Some(sink) = self.sink.as_deref_mut() {
                sink.record(event);
            }
        }
    }

    /// The next person due at `at`: someone waiting for a retry first, then
    /// someone never called.
    fn next_person(&mut self, at: i64) -> Option<u32> {
        if let Some(&Reverse((due, index))) = self.queue.peek()
            && due <= at
        {
            self.queue.pop();
            return Some(index);
        }
        if (self.fresh as usize) < self.people.len() {
            self.fresh += 1;
            return Some(self.fresh - 1);
        }
        None
    }

    /// One call slot at `at`; true when a call was placed.
    fn dial(&mut self, at: i64) -> bool {
        if at < self.paused_until {
            return false;
        }
        let mut exhausted = 0;
        // When the pool said it has no number for someone who does not know
        // the business: the same answer awaits the next such person.
        let mut unknown_exhausted: Option<i64> = None;
        for _ in 0..SKIPS_PER_SLOT {
            let Some(index) = self.next_person(at) else {
                return false;
            };
            if self.people[index as usize].done {
                continue;
            }
            let contact = self.sim.population.contacts[index as usize];
            if let Some(when) = unknown_exhausted.filter(|_| !contact.known) {
                // The pool just had no number for someone who does not know
                // the business: a dialer does not ask again for the next
                // such person in the same minute, only for known contacts
                // (whom a pool in rehabilitation may still serve).
                self.queue.push(Reverse((when, index)));
                continue;
            }
            match self.dialer.choose(&self.world, &contact, at) {
                Choice::Allow(number) => {
                    self.place(at, index, number);
                    return true;
                }
                Choice::Deny(reason, retry_at) => {
                    let slot = DenyReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
                    self.denials[slot] += 1;
                    match reason {
                        DenyReason::PoolExhausted => {
                            // No number for this person now; a known contact
                            // may still be served (a pool in rehabilitation
                            // calls them), so the slot goes on for them. The
                            // person waits at most an hour: the pool's state
                            // moves with every tick.
                            let when = retry_at.unwrap_or(at + 60).clamp(at + 60, at + 3_600);
                            self.queue.push(Reverse((when, index)));
                            exhausted += 1;
                            if !contact.known {
                                unknown_exhausted.get_or_insert(when);
                            }
                        }
                        DenyReason::OutsideCallingHours | DenyReason::DestinationFrequency => {
                            let when = retry_at.unwrap_or(at + 1_800).max(at + 60);
                            self.queue.push(Reverse((when, index)));
                        }
                        _ => self.people[index as usize].done = true,
                    }
                }
            }
        }
        if exhausted > 0 {
            // Nobody the pool could serve: the dialer waits a minute.
            self.paused_until = at + 60;
        }
        false
    }

    /// Places one call from number `number` to person `index` at `at`.
    fn place(&mut self, at: i64, index: u32, number: u32) {
        let scenario = &self.sim.scenario;
        let contact = self.sim.population.contacts[index as usize];
        let zones = self.sim.population.zones_of(&contact);
        let person = self.people[index as usize];

        let legal_hour = self.sim.clock.inside(zones, contact.legal_hours, at);
        let federal_hour = self.sim.clock.inside(zones, FEDERAL_HOURS, at);
        let last_day = person.calls_after(at - DAY);
        let opted_out = person.opted_out_at <= at;
        let too_often = contact.max_calls_per_24h > 0 && last_day >= u32::from(contact.max_calls_per_24h);
        let v = &mut self.report.violations;
        v.outside_hours += u64::from(!legal_hour);
        v.opted_out += u64::from(opted_out);
        v.frequency += u64::from(too_often);
        self.report.violating_calls += u64::from(!legal_hour || opted_out || too_often);

        let n = number as usize;
        let reaction = scenario.callees.react(
            &self.dice,
            index,
            &contact,
            Circumstances {
                attempt: u32::from(person.attempts),
                recent_calls: person.calls_after(at - WEEK),
                labeled: self.engines.is_labeled(n, contact.carrier),
                blocked: self.engines.is_blocked(n, contact.carrier),
                off_hours: !legal_hour,
            },
        );
        self.engines.observe_call(
            n,
            contact.carrier,
            at,
            SeenCall {
                outcome: reaction.outcome,
                cause: reaction.cause,
                talk: reaction.talk,
                off_hours: !federal_hour,
                repeat: last_day >= 2,
            },
        );
        let end = at + i64::from(reaction.ring) + i64::from(reaction.talk);

        let r = &mut self.report;
        r.calls += 1;
        let answered = reaction.outcome == Outcome::Answered;
        r.answered += u64::from(answered);
        let long = self.sim.engine.metrics.long_call_secs;
        r.conversations += u64::from(reaction.engaged && reaction.talk >= long);
        r.short_calls += u64::from(answered && reaction.talk <= self.sim.engine.metrics.short_call_secs);
        r.invalid_destinations += u64::from(reaction.outcome == Outcome::InvalidDestination);
        r.blocked_calls += u64::from(reaction.cause == Cause::BlockedCaller);
        r.complaints += u64::from(reaction.complaint);
        r.opt_outs += u64::from(reaction.opt_out);

        let person = &mut self.people[index as usize];
        person.remember(at);
        person.attempts = person.attempts.saturating_add(1);
        if reaction.opt_out {
            person.opted_out_at = person.opted_out_at.min(end);
        }
        let finished = reaction.engaged
            || reaction.outcome == Outcome::InvalidDestination
            || person.attempts >= scenario.dialer.max_attempts
            || (reaction.opt_out && self.dialer.drops_opt_outs_at_once());
        if finished {
            person.done = true;
        } else {
            let retry = end + (scenario.dialer.retry_after_hours * 3_600.0) as i64;
            self.queue.push(Reverse((retry, index)));
        }
        if reaction.opt_out {
            self.to_scrub.push(index);
        }

        if reaction.complaint {
            self.engines.complaint(n, contact.carrier, end);
        }
        if self.events {
            let what = Later::CallEnded {
                number,
                contact: index,
                started: at,
                ring: reaction.ring,
                talk: reaction.talk,
                outcome: reaction.outcome,
                cause: reaction.cause,
            };
            self.later_at(end, what);
            if reaction.opt_out {
                self.later_at(end, Later::OptOut { contact: index });
            }
            if reaction.complaint {
                let delay = i64::from(scenario.complaint_delay_hours) * 3_600;
                self.later_at(end + delay, Later::Complaint { number, contact: index });
            }
        }
    }

    fn later_at(&mut self, at: i64, what: Later) {
        self.seq += 1;
        self.later.push(Reverse(Due {
            at,
            seq: self.seq,
            what,
        }));
    }

    /// Hands the strategy (and the sink) everything due by `now`.
    fn deliver_until(&mut self, now: i64) {
        while let Some(Reverse(due)) = self.later.peek().copied() {
            if due.at > now {
                return;
            }
            self.later.pop();
            let population = &self.sim.population;
            match due.what {
                Later::CallEnded {
                    number,
                    contact,
                    started,
                    ring,
                    talk,
                    outcome,
                    cause,
                } => {
                    let to = population.contacts[contact as usize].number;
                    let from = population.numbers[number as usize];
                    self.fill_call(from, to, started, ring, talk, outcome, cause, due.at, due.seq);
                    self.dialer.observe(&self.scratch);
                    if let Some(sink) = self.sink.as_deref_mut() {
                        sink.record(&self.scratch);
                    }
                }
                Later::Complaint { number, contact } => {
                    let to = population.contacts[contact as usize].number;
                    let event = Event::Complaint(Complaint {
                        number: population.numbers[number as usize],
                        at: timestamp(due.at),
                        source: "carrier_feed".to_owned(),
                        source_id: format!("sim-{}", due.seq),
                        consumer_area_code: to.area_code(),
                        consumer_state: None,
                        subject: None,
                        robocall: Some(false),
                    });
                    self.deliver(&event);
                }
                Later::OptOut { contact } => {
                    let event = Event::OptOut(OptOut {
                        to: population.contacts[contact as usize].number,
                        at: timestamp(due.at),
                    });
                    self.deliver(&event);
                }
            }
        }
    }

    /// Writes a call into the reused call event.
    #[allow(clippy::too_many_arguments)]
    fn fill_call(
        &mut self,
        from: E164,
        to: E164,
        started: i64,
        ring: u32,
        talk: u32,
        outcome: Outcome,
        cause: Cause,
        ended: i64,
        seq: u64,
    ) {
        if let Event::Call(call) = &mut self.scratch {
            call.from = from;
            call.to = to;
            call.started_at = timestamp(started);
            call.answered_at = (outcome == Outcome::Answered).then(|| timestamp(started + i64::from(ring)));
            call.ended_at = timestamp(ended);
            call.talk_seconds = talk;
            call.outcome = outcome;
            call.cause = cause;
            call.source_id.clear();
            let _ = write!(call.source_id, "sim-{seq}");
        }
    }

    /// The numbers' earlier life: `history_days` of calls at a moderate
    /// pace to people outside the list, inside the center's hours and the
    /// callees' legal hours, seen by the engines as they happened.
    fn warm_up(&mut self) {
        let scenario = &self.sim.scenario;
        let (days, per_day) = (
            i64::from(scenario.history_days),
            i64::from(scenario.history_calls_per_day),
        );
        if days == 0 || per_day == 0 {
            return;
        }
        let population = &self.sim.population;
        let start = scenario.start.as_second();
        let (open, close) = scenario.dialer.dial_hours;
        let span = i64::from(close - open) * 3_600;
        let listed = population.contacts.len() as u64;
        let mut drawn = 0u64;
        for day in 0..days {
            let opens = start - (days - day) * DAY + i64::from(open) * 3_600;
            for call in 0..per_day {
                let at = opens + call * span / per_day;
                for n in 0..population.numbers.len() {
                    let at = at + n as i64;
                    drawn += 1;
                    // Someone else, in the same places as the list's people.
                    let mut contact = population.contacts[(drawn.wrapping_mul(0x9e37_79b9) % listed) as usize];
                    if !self
                        .sim
                        .clock
                        .inside(population.zones_of(&contact), contact.legal_hours, at)
                    {
                        continue;
                    }
                    contact.dead = false;
                    contact.known = false;
                    let reaction = scenario.callees.react(
                        &self.dice,
                        (listed + drawn) as u32,
                        &contact,
                        Circumstances {
                            attempt: 0,
                            recent_calls: 0,
                            labeled: self.engines.is_labeled(n, contact.carrier),
                            blocked: self.engines.is_blocked(n, contact.carrier),
                            off_hours: false,
                        },
                    );
                    let seen = SeenCall {
                        outcome: reaction.outcome,
                        cause: reaction.cause,
                        talk: reaction.talk,
                        off_hours: false,
                        repeat: false,
                    };
                    self.engines.observe_call(n, contact.carrier, at, seen);
                    let end = at + i64::from(reaction.ring) + i64::from(reaction.talk);
                    if reaction.complaint {
                        self.engines.complaint(n, contact.carrier, end);
                    }
                    if self.events {
                        let other = E164::from_digits_unchecked(contact.number.digits() ^ 1);
                        self.seq += 1;
                        let seq = self.seq;
                        let from = population.numbers[n];
                        self.fill_call(
                            from,
                            other,
                            at,
                            reaction.ring,
                            reaction.talk,
                            reaction.outcome,
                            reaction.cause,
                            end,
                            seq,
                        );
                        self.dialer.observe(&self.scratch);
                        if let Some(sink) = self.sink.as_deref_mut() {
                            sink.record(&self.scratch);
                        }
                    }
                }
                if call % 8 == 0 {
                    self.engines.tick(at);
                }
            }
            self.engines.tick(opens + span);
        }
        self.engines.tick(start);
        self.engines.restart_tally(start);
        let derived = self.dialer.tick(start);
        self.record_derived(&derived);
    }

    fn deliver(&mut self, event: &Event) {
        self.dialer.observe(event);
        if let Some(sink) = self.sink.as_deref_mut() {
            sink.record(event);
        }
    }

    /// The monitoring feed's daily test calls: what each carrier shows for
    /// each number; a label found is disputed.
    fn monitor(&mut self, now: i64) {
        if !self.dialer.monitors_labels() || !self.sim.scenario.monitoring {
            return;
        }
        for n in 0..self.sim.population.numbers.len() {
            for carrier in Carrier::ALL {
                let labeled = self.engines.is_labeled(n, carrier);
                if self.events {
                    let text = self.engines.config().model(carrier).label_text.clone();
                    let event = Event::Label(LabelObserved {
                        number: self.sim.population.numbers[n],
                        carrier,
                        label: labeled.then_some(text),
                        at: timestamp(now),
                        source: "test_call".to_owned(),
                        source_id: None,
                    });
                    self.deliver(&event);
                }
                if labeled {
                    self.engines.dispute(n, carrier, now);
                }
            }
        }
    }

    /// The nightly list scrub: opt-outs reach the dialer's own list.
    fn scrub(&mut self) {
        for index in self.to_scrub.drain(..) {
            self.people[index as usize].done = true;
        }
    }

    fn finish(mut self, end: i64) -> StrategyReport {
        let mut report = self.report;
        report.label_days = (self.engines.label_days(end) * 10.0).round() / 10.0;
        report.labels_raised = self.engines.labels_raised();
        report.numbers_ever_labeled = self.engines.numbers_ever_labeled();
        report.numbers_labeled_at_start = self.engines.numbers_labeled_at_start();
        for (reason, count) in DenyReason::ALL.iter().zip(self.denials) {
            report.denials.insert(reason.as_str().to_owned(), count);
        }
        let never_called = self.people.len() as u64 - u64::from(self.fresh);
        let waiting = self.people[..self.fresh as usize].iter().filter(|p| !p.done).count() as u64;
        report.contacts_left = never_called + waiting;
        self.people.clear();
        report
    }
}
