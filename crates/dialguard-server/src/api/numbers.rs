//! `/v1/numbers`: register owned numbers, list them, read one in full, and
//! move one by hand.
//!
//! `PUT` is idempotent: the same body twice writes one event. A `PUT` may
//! register a number as `aging` or `active`, move it to another pool, or
//! switch it between those two; it cannot restart a number the lifecycle
//! stopped (quarantined, resting, in rehabilitation, retired): that is a 409
//! naming the state, because the plan decides when it calls again. An
//! operator who must override the plan says so with
//! `POST /v1/numbers/{number}/state` and a reason that goes in the history.

use axum::Json;
use axum::extract::{Path, State};
use dialguard_core::engine::{Engine, NumberSummary, NumberView};
use dialguard_core::event::DisputeUpdated;
use dialguard_core::lifecycle::{DisputeError, DisputeStatus, DisputeStep, MoveError};
use dialguard_core::{E164, Event, NumberRegistered, NumberState};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::app::{AppState, Authed, JsonBody};
use crate::body::{self, Fields, parse_number};
use crate::error::ApiError;
use crate::tenant::Tenant;

/// `PUT /v1/numbers/{number}` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisterBody {
    #[schema(example = "sales")]
    pub pool: String,
    /// `aging` (new number, ramped up) or `active`; default `active`.
    pub state: Option<String>,
    /// When the number was acquired (RFC 3339); default now. With `--clock event`, "now" before
    /// any request has carried an instant is the machine's time: a harness registering first
    /// should send it, or an `aging` number ages from that date.
    pub acquired_at: Option<String>,
    /// The caller name registered for it.
    pub cnam: Option<String>,
}

/// `POST /v1/numbers/{number}/state` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StateBody {
    /// aging, active, watch, quarantined, resting, rehab_limited, rehab_moderate or retired.
    #[schema(example = "retired")]
    pub state: String,
    /// Who asked and why: it goes in the number's history.
    pub reason: String,
    /// When (RFC 3339); default now.
    pub at: Option<String>,
}

/// One line of `GET /v1/numbers`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NumberSummaryBody {
    #[schema(example = "+14155550100")]
    pub number: String,
    pub pool: String,
    pub state: String,
    /// healthy, watch, at_risk or labeled.
    pub health: String,
    /// The highest score over the engine profiles, 0-100.
    pub risk: u8,
    /// Outbound calls in the last 24 hours.
    pub calls_today: u32,
    /// The most it may place in any 24 hours now.
    pub cap_today: u32,
    /// The factor that gave the most points: {profile, factor, points, text}.
    #[schema(value_type = Option<Object>)]
    pub top_factor: Option<Value>,
    /// Why `cap_today` is what it is, in plain words (the closed loop's
    /// reason, or the state that allows no calls).
    pub cap_reason: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NumbersBody {
    pub numbers: Vec<NumberSummaryBody>,
    /// When `limit` cut the list: the `cursor` that continues it.
    pub next_cursor: Option<String>,
}

/// `GET /v1/numbers/{number}`: state, health, risk per profile with its
/// factors, metrics per window, labels by carrier, usage, plans, history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NumberViewBody {
    pub number: String,
    pub pool: String,
    pub state: String,
    pub state_since: String,
    pub health: String,
    /// {health, scores: [{profile, value, level, factors: [...]}], labels, top_factor, triggers}
    #[schema(value_type = Object)]
    pub risk: Value,
    /// {windows: [{window: "1h"|"24h"|"7d"|"30d", attempts, answer_rate, short_call_ratio, ...}]}
    #[schema(value_type = Object)]
    pub metrics: Value,
    #[schema(value_type = Vec<Object>)]
    pub labels: Vec<Value>,
    /// {number, pool, state, risk, calls_last_hour, calls_last_24h, hourly_cap, daily_cap, known_contacts_only, next_free}.
    #[schema(value_type = Option<Object>)]
    pub usage: Option<Value>,
    /// With the closed loop on: {daily, hourly, carrier, metric, line, stopped, why}.
    #[schema(value_type = Option<Object>)]
    pub steer: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub plan: Option<Value>,
    #[schema(value_type = Vec<Object>)]
    pub plans: Vec<Value>,
    /// Every dispute calendar, the latest last: {number, opened_at, opened_by, steps: [{step, status, due, follow_up, updates}]}.
    #[schema(value_type = Vec<Object>)]
    pub disputes: Vec<Value>,
    /// Why the number should be replaced rather than used, when it arrived
    /// labeled or named in complaints.
    pub burned_on_arrival: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Value>,
}

/// The number in a path, or a 400 naming it.
pub fn path_number(text: &str) -> Result<E164, ApiError> {
    parse_number(text).map_err(|why| ApiError::field("number", format!("number {why}")))
}

fn unknown(number: E164) -> ApiError {
    ApiError::not_found(
        "number",
        format!("{number} is not a registered number; PUT /v1/numbers/{number} with its pool registers it"),
    )
}

fn view(tenant: &Tenant, number: E164) -> Result<Json<NumberView>, ApiError> {
    let now = tenant.clock.now();
    let engine = tenant.engine.lock();
    engine.number(number, now).map(Json).ok_or_else(|| unknown(number))
}

/// `?at=` on a read, parsed.
pub(crate) fn query_at(raw: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "at")
        .map(|(_, text)| crate::body::parse_instant(&text).map_err(|why| ApiError::field("at", format!("at {why}"))))
        .transpose()
}

/// The tenant as of `at`, by the rule every command's `--at` follows: an
/// engine rebuilt from the log's events of that instant or before, moved
/// to it (what it decides on the way is not recorded: a read changes
/// nothing). A replay of the tenant's log, so dearer than a live read.
pub(crate) async fn engine_as_of(state: &AppState, tenant: &Tenant, at: Timestamp) -> Result<Engine, ApiError> {
    let location = state.log.clone();
    let config = state.config.engine.clone();
    let name = tenant.name.clone();
    tokio::task::spawn_blocking(move || -> Result<Engine, String> {
        let log = location.open().map_err(|e| e.to_string())?;
        let mut engine = Engine::new(config).map_err(|e| e.to_string())?;
        log.replay(&name, 0, &mut |_, event| {
            if event.at() <= at {
                engine.apply(&event);
            }
        })
        .map_err(|e| e.to_string())?;
        engine.tick(at);
        Ok(engine)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map_err(|why| {
        ApiError::unavailable(format!(
            "reading the log as of {at}: {why}; retry, or read without ?at="
        ))
    })
}

/// `{"numbers": [...], "next_cursor"?}`.
#[derive(Serialize)]
pub struct NumberList {
    pub numbers: Vec<NumberSummary>,
    /// When `limit` cut the list: the `cursor` that continues it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<E164>,
}

/// `GET /v1/numbers` filters, each optional; every value is read as text
/// so a wrong one is a named 400.
#[derive(Default)]
struct ListQuery {
    pool: Option<String>,
    state: Option<String>,
    health: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl ListQuery {
    fn parse(raw: Option<&str>) -> ListQuery {
        let mut query = ListQuery::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let slot = match key.as_ref() {
                "pool" => &mut query.pool,
                "state" => &mut query.state,
                "health" => &mut query.health,
                "limit" => &mut query.limit,
                "cursor" => &mut query.cursor,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        query
    }
}

/// The most numbers one page holds.
const MAX_LIMIT: usize = 10_000;

#[utoipa::path(get, path = "/v1/numbers", tag = "numbers",
    params(
        ("pool" = Option<String>, Query, description = "Only this pool's numbers"),
        ("state" = Option<String>, Query, description = "Only numbers in this state (active, resting, …)"),
        ("health" = Option<String>, Query, description = "Only numbers of this health (healthy, watch, at_risk, labeled)"),
        ("limit" = Option<u32>, Query, description = "At most this many (1-10000); `next_cursor` continues"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before: numbers after it"),
        ("at" = Option<String>, Query, description = "RFC 3339: the list as of this instant, from the events of that \
            instant or before (the rule of every command's `--at`); default the clock's now")),
    responses(
        (status = 200, description = "The tenant's registered numbers, in number order", body = NumbersBody),
        (status = 400, description = "A filter that is not one", body = crate::error::ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    Authed(tenant): Authed,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Json<NumberList>, ApiError> {
    let query = ListQuery::parse(raw.as_deref());
    let at = query_at(raw.as_deref())?;
    let state = match query.state.as_deref() {
        None => None,
        Some(name) => Some(NumberState::from_name(name).ok_or_else(|| {
            let all: Vec<&str> = NumberState::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::field(
                "state",
                format!("state {name:?} is not a state: use one of {}", all.join(", ")),
            )
        })?),
    };
    let health = query.health.as_deref().map(str::trim);
    if let Some(h) = health
        && !["healthy", "watch", "at_risk", "labeled"].contains(&h)
    {
        return Err(ApiError::field(
            "health",
            format!("health {h:?} is not a health: use healthy, watch, at_risk or labeled"),
        ));
    }
    let limit = match query.limit.as_deref() {
        None => MAX_LIMIT,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!("limit {text:?} must be a whole number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_number(c).map_err(|why| ApiError::field("cursor", format!("cursor {why}"))))
        .transpose()?;
    let mut numbers = match at {
        Some(at) => engine_as_of(&app, &tenant, at).await?.numbers(at),
        None => tenant.engine.lock().numbers(tenant.clock.now()),
    };
    numbers.sort_by_key(|n| n.number);
    let mut page: Vec<NumberSummary> = numbers
        .into_iter()
        .filter(|n| after.is_none_or(|a| n.number > a))
        .filter(|n| query.pool.as_deref().is_none_or(|p| n.pool == p.trim()))
        .filter(|n| state.is_none_or(|s| n.state == s))
        .filter(|n| health.is_none_or(|h| n.health.as_str() == h))
        .take(limit + 1)
        .collect();
    let next_cursor = (page.len() > limit).then(|| {
        page.truncate(limit);
        page[limit - 1].number
    });
    Ok(Json(NumberList {
        numbers: page,
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/v1/numbers/{number}", tag = "numbers",
    params(("number" = String, Path, description = "E.164, e.g. +14155550100"),
        ("at" = Option<String>, Query, description = "RFC 3339: the number as of this instant, from the events of \
            that instant or before (the rule of every command's `--at`); default the clock's now")),
    responses(
        (status = 200, description = "Everything known about the number", body = NumberViewBody),
        (status = 400, description = "Not a valid number", body = crate::error::ErrorBody),
        (status = 404, description = "Not registered", body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    Path(number): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Json<NumberView>, ApiError> {
    let number = path_number(&number)?;
    match query_at(raw.as_deref())? {
        Some(at) => engine_as_of(&state, &tenant, at)
            .await?
            .number(number, at)
            .map(Json)
            .ok_or_else(|| unknown(number)),
        None => view(&tenant, number),
    }
}

#[utoipa::path(put, path = "/v1/numbers/{number}", tag = "numbers", request_body = RegisterBody,
    params(("number" = String, Path, description = "E.164, e.g. +14155550100")),
    responses(
        (status = 200, description = "The number as registered", body = NumberViewBody),
        (status = 400, description = "Malformed body or number", body = crate::error::ErrorBody),
        (status = 409, description = "The lifecycle stopped this number; a PUT cannot restart it", body = crate::error::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    Path(number): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<NumberView>, ApiError> {
    let number = path_number(&number)?;
    let value = body::parse(&bytes)?;
    let f = Fields::of_body(&value)?;
    let pool = f.required_text("pool")?.trim().to_owned();
    let requested = match f.optional_str("state")? {
        None => None,
        Some(name) => match NumberState::from_name(name) {
            Some(s @ (NumberState::Aging | NumberState::Active)) => Some(s),
            _ => {
                return Err(f.invalid(
                    "state",
                    format!(
                        "{name:?} cannot be set by registering: use aging or active \
                         (other states are reached through the lifecycle, or POST /v1/numbers/{number}/state)"
                    ),
                ));
            }
        },
    };
    let acquired_at = f.optional_instant("acquired_at")?;
    let cnam = f
        .optional_str("cnam")?
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    f.refuse_misspelled()?;
    let now = tenant.clock.observe_opt(acquired_at);

    let existing = {
        let engine = tenant.engine.lock();
        engine.lifecycle().record(number).map(|r| (r.pool.clone(), r.state))
    };
    let event = match existing {
        None => NumberRegistered {
            number,
            pool,
            at: acquired_at.unwrap_or(now),
            state: requested.unwrap_or(NumberState::Active),
            cnam,
        },
        Some((current_pool, current)) => {
            let state = requested.unwrap_or(current);
            if state != current && !matches!(current, NumberState::Aging | NumberState::Active | NumberState::Watch) {
                return Err(ApiError::conflict(
                    "state",
                    format!(
                        "{number} is {}: its remediation decides when it calls again, not a registration. \
                         To override, POST /v1/numbers/{number}/state with the state and a reason",
                        current.as_str()
                    ),
                ));
            }
            if state == current && pool == current_pool && cnam.is_none() {
                return view(&tenant, number);
            }
            NumberRegistered {
                number,
                pool,
                at: tenant.clock.now(),
                state,
                cnam,
            }
        }
    };
    state
        .writer
        .append(tenant.clone(), vec![Event::NumberRegistered(event)])
        .await?;
    view(&tenant, number)
}

#[utoipa::path(post, path = "/v1/numbers/{number}/state", tag = "numbers", request_body = StateBody,
    params(("number" = String, Path, description = "E.164, e.g. +14155550100")),
    responses(
        (status = 200, description = "The number after the move", body = NumberViewBody),
        (status = 400, description = "Malformed body", body = crate::error::ErrorBody),
        (status = 404, description = "Not registered", body = crate::error::ErrorBody),
        (status = 409, description = "Already in that state, or the instant is before its last change", body = crate::error::ErrorBody)))]
pub async fn change_state(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    Path(number): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<NumberView>, ApiError> {
    let number = path_number(&number)?;
    let value = body::parse(&bytes)?;
    let f = Fields::of_body(&value)?;
    let name = f.required_str("state")?;
    let to = NumberState::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = NumberState::ALL.iter().map(|s| s.as_str()).collect();
        f.invalid(
            "state",
            format!("{name:?} is not a state: use one of {}", all.join(", ")),
        )
    })?;
    let reason = f.required_str("reason")?;
    let at = f.optional_instant("at")?;
    f.refuse_misspelled()?;
    let now = tenant.clock.observe_opt(at);
    let change = {
        let engine = tenant.engine.lock();
        engine.lifecycle().operator_move(number, to, at.unwrap_or(now), reason)
    };
    let change = change.map_err(|e| match e {
        MoveError::Unregistered(n) => unknown(n),
        MoveError::NoReason => f.invalid(
            "reason",
            "is empty: say who asked and why; it goes in the number's history",
        ),
        MoveError::AlreadyThere { .. } | MoveError::Illegal { .. } => ApiError::conflict("state", e.to_string()),
        MoveError::BeforeLastChange { .. } => ApiError::conflict("at", e.to_string()),
    })?;
    state
        .writer
        .append(tenant.clone(), vec![Event::StateChanged(change)])
        .await?;
    view(&tenant, number)
}

/// `POST /v1/numbers/{number}/disputes` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DisputeBody {
    /// hiya, tns, first_orion, free_caller_registry, att, verizon, tmobile or fcc.
    #[schema(example = "hiya")]
    pub step: String,
    /// planned, submitted, answered, resolved or rejected.
    #[schema(example = "submitted")]
    pub status: String,
    /// When (RFC 3339); default now.
    pub at: Option<String>,
    /// What was sent or said: a ticket number, the answer's gist.
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/v1/numbers/{number}/disputes", tag = "numbers", request_body = DisputeBody,
    params(("number" = String, Path, description = "E.164, e.g. +14155550100")),
    responses(
        (status = 200, description = "The number after the update", body = NumberViewBody),
        (status = 400, description = "Malformed body", body = crate::error::ErrorBody),
        (status = 404, description = "Not registered", body = crate::error::ErrorBody),
        (status = 409, description = "No calendar, a move the step's status cannot make, or an instant before its last update", body = crate::error::ErrorBody)))]
pub async fn update_dispute(
    State(state): State<AppState>,
    Authed(tenant): Authed,
    Path(number): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<NumberView>, ApiError> {
    let number = path_number(&number)?;
    let value = body::parse(&bytes)?;
    let f = Fields::of_body(&value)?;
    let step_name = f.required_str("step")?;
    let step = DisputeStep::from_name(step_name).ok_or_else(|| {
        let all: Vec<&str> = DisputeStep::ALL.iter().map(|s| s.as_str()).collect();
        f.invalid(
            "step",
            format!("{step_name:?} is not a dispute step: use one of {}", all.join(", ")),
        )
    })?;
    let status_name = f.required_str("status")?;
    let status = DisputeStatus::from_name(status_name).ok_or_else(|| {
        let all: Vec<&str> = DisputeStatus::ALL.iter().map(|s| s.as_str()).collect();
        f.invalid(
            "status",
            format!("{status_name:?} is not a dispute status: use one of {}", all.join(", ")),
        )
    })?;
    let at = f.optional_instant("at")?;
    let note = f
        .optional_str("note")?
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    f.refuse_misspelled()?;
    let now = tenant.clock.observe_opt(at);
    let checked = {
        let engine = tenant.engine.lock();
        if !engine.is_registered(number) {
            return Err(unknown(number));
        }
        engine.lifecycle().dispute_update(DisputeUpdated {
            number,
            step,
            status,
            at: at.unwrap_or(now),
            note,
        })
    };
    let update = checked.map_err(|e| {
        let field = match e {
            DisputeError::NoCalendar(_) => "number",
            DisputeError::Illegal { .. } => "status",
            DisputeError::BeforeLastUpdate { .. } | DisputeError::BeforeCalendar { .. } => "at",
        };
        ApiError::conflict(field, e.to_string())
    })?;
    state
        .writer
        .append(tenant.clone(), vec![Event::DisputeUpdated(update)])
        .await?;
    view(&tenant, number)
}
