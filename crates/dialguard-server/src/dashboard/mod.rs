//! The dashboard: plain HTML pages with server-drawn SVG charts.
//!
//! No script, no build step, no assets: each page is one response a
//! browser, `curl` or a screen reader can read. `/` is the wallboard: the
//! numbers most in need of attention first (each with its state, health,
//! calls in the last 24 hours against its cap and why, top factor), and
//! panels for labels by carrier, numbers stopped or in a plan, dispute
//! steps due or overdue, and calls against caps per pool; 30 days of each
//! pool's answer rate and short share and of labels per carrier; as of now it
//! reloads itself (a meta refresh), and below 640 px each row is a card.
//! `/numbers/{number}` is one number: its last 30 days as
//! charts (calls a day against the cap; answer, short-call and invalid
//! shares; each profile's score against its quarantine limit), the factors
//! of its scores in plain words, its figures per window, what each
//! carrier's handsets showed, its remediation plans and its history.
//!
//! Both pages take `?at=` (RFC 3339) and show the tenant as of that
//! instant, by the rule of the API's `?at=` and every command's `--at`.

pub mod actions;
mod svg;

use std::fmt::Write;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse, Response};
use dialguard_core::engine::{Engine, NumberSummary, NumberView};
use dialguard_core::lifecycle::PlanOutcome;
use dialguard_core::metrics::{Window, WindowMetrics};
use dialguard_core::risk::{self, Health};
use dialguard_core::{Carrier, E164, NumberState};
use jiff::{SignedDuration, Timestamp};

use crate::app::{AppState, Viewer};
use crate::body::parse_number;
use svg::{Chart, Kind, Rule, Series};

/// Days the number page charts.
const CHART_DAYS: i64 = 30;

/// Escapes text for HTML and SVG.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1d;background:#f6f7f9}\
header{background:#1f2a44;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;font-weight:600}\
main{padding:16px 24px;max-width:1100px}h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:22px 0 8px}\
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:8px}th,td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}\
th{background:#eef1f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}\
.healthy{background:#2a9d55}.watch{background:#d49a00}.at_risk{background:#e06c00}.labeled{background:#c0392b}\
.state{background:#5b6478}.state.quarantined,.state.retired{background:#c0392b}.state.resting,.state.rehab_limited,.state.rehab_moderate{background:#8e5bb5}.state.aging{background:#3a7bd5}\
.meter{display:inline-block;width:90px;height:8px;background:#e5e7eb;border-radius:4px;vertical-align:middle;margin-right:6px}\
.meter i{display:block;height:8px;border-radius:4px;background:#4a7bd0}.meter.full i{background:#c0392b}\
.chart{background:#fff;border:1px solid #e5e7eb;margin:6px 0;width:100%;max-width:720px;height:auto}\
.trends{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:8px}.trends .chart{max-width:none}\
.muted{color:#6b7280}.summary span{margin-right:18px}\
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px;margin:12px 0}\
.panel{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:10px 12px;min-width:0}\
.panel h2,.panel h3{margin:0 0 6px;font-size:15px}form.panel label{display:block;margin:4px 0;font-size:13px}\
form.panel input,form.panel select{display:block;width:100%;box-sizing:border-box;padding:4px;margin-top:2px;font:inherit}\
form.panel button{margin-top:6px;padding:5px 12px;font:inherit;font-weight:600;background:#1f2a44;color:#fff;border:0;border-radius:4px}\
.panel ul{margin:0;padding-left:18px}.panel li{margin:2px 0;overflow-wrap:anywhere}\
.big{font-size:26px;font-weight:700}.late{color:#c0392b;font-weight:600}li.overdue{color:#c0392b}\
td.why{font-size:12px;color:#374151;max-width:380px}\
@media (max-width:640px){main{padding:10px;overflow-wrap:anywhere}header{padding:10px}\
table:not(.pool){display:block;overflow-x:auto;max-width:100%}\
table.pool thead{display:none}table.pool,table.pool tbody,table.pool tr,table.pool td{display:block;width:auto}\
table.pool tr{border-bottom:2px solid #d1d5db;padding:4px 0}table.pool td{border:0;padding:3px 8px;text-align:left;overflow-wrap:anywhere}\
table.pool td::before{content:attr(data-label);display:inline-block;min-width:92px;color:#6b7280;font-size:12px}\
td.why{max-width:none}}";

fn page(title: &str, body: &str) -> Html<String> {
    page_refreshing(title, body, None)
}

/// A page the browser reloads every `refresh` seconds (a wallboard left
/// open: no script, the browser's own refresh).
fn page_refreshing(title: &str, body: &str, refresh: Option<u32>) -> Html<String> {
    let refresh = refresh
        .map(|secs| format!("<meta http-equiv=\"refresh\" content=\"{secs}\">"))
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">{refresh}\
         <title>{} · dialguard</title><style>{STYLE}</style></head><body><header><a href=\"/\">dialguard</a></header><main>{body}</main></body></html>",
        esc(title)
    ))
}

fn health_badge(health: Health) -> String {
    format!(r#"<span class="badge health {0}">{0}</span>"#, health.as_str())
}

fn state_badge(state: NumberState) -> String {
    format!(r#"<span class="badge state {0}">{0}</span>"#, state.as_str())
}

/// A link to the number's page; on a page as of an instant (`as_of`), to
/// its page as of the same instant.
fn number_link(number: E164, as_of: Option<Timestamp>) -> String {
    let at = as_of.map(|t| format!("?at={t}")).unwrap_or_default();
    format!(r#"<a class="number" href="/numbers/{number}{at}">{number}</a>"#)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn instant(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A page that says what went wrong, with its status.
fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p>{} <a href=\"/\">The pool as of now</a>.</p>",
        esc(title),
        esc(message)
    );
    (status, page(title, &body)).into_response()
}

/// The page's `?at=`, or the page that says what is wrong with it.
fn page_at(raw: Option<&str>) -> Result<Option<Timestamp>, Box<Response>> {
    crate::api::numbers::query_at(raw)
        .map_err(|e| Box::new(problem(StatusCode::BAD_REQUEST, "Not an instant", &e.to_string())))
}

/// The tenant's engine as of `at` (replayed from the log), or the page that
/// says it could not be read.
async fn engine_at(state: &AppState, tenant: &crate::tenant::Tenant, at: Timestamp) -> Result<Engine, Box<Response>> {
    crate::api::numbers::engine_as_of(state, tenant, at)
        .await
        .map_err(|e| Box::new(problem(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", &e.to_string())))
}

/// `GET /`: every number of the tenant, by pool.
pub async fn pool(State(state): State<AppState>, Viewer(tenant): Viewer, RawQuery(raw): RawQuery) -> Response {
    let at = match page_at(raw.as_deref()) {
        Ok(at) => at,
        Err(page) => return *page,
    };
    let (board, now) = match at {
        Some(at) => match engine_at(&state, &tenant, at).await {
            Ok(engine) => (Board::of(&engine, at), at),
            Err(page) => return *page,
        },
        None => {
            let now = tenant.clock.now();
            (Board::of(&tenant.engine.lock(), now), now)
        }
    };
    // A board as of now is left open on a wall: it reloads itself. One as
    // of an earlier instant never changes.
    let refresh = at.is_none().then_some(REFRESH_SECS);
    let mut body = pool_body(&board, now, at);
    if at.is_none() {
        body.push_str(&format!(
            "<div class=\"panels\">{}{}</div>",
            panel_deliveries(&tenant.deliveries.lock()),
            actions::register_form(&state, &tenant.name)
        ));
    }
    page_refreshing("Wallboard", &body, refresh).into_response()
}

/// The latest alert deliveries, newest first: what was sent where, and what
/// failed with when it is tried again. Shown on the live board only: it is
/// what this server did, by the machine's clock, not the tenant's history.
fn panel_deliveries(deliveries: &crate::alerts::Deliveries) -> String {
    let mut out = String::from("<section class=\"panel\" id=\"deliveries\"><h2>Alerts sent</h2><ul>");
    let mut any = false;
    for attempt in deliveries.latest().take(10) {
        any = true;
        let tried = attempt.tried.strftime("%m-%d %H:%M:%S UTC");
        let kind = serde_json::to_value(attempt.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let (class, result) = match &attempt.failed {
            None => ("", "delivered".to_owned()),
            Some(why) => (" class=\"overdue\"", format!("not delivered: {why}")),
        };
        let about = match (attempt.number, &attempt.pool) {
            (Some(number), _) => number_link(number, None),
            (None, Some(pool)) => format!("pool {}", esc(pool)),
            (None, None) => String::new(),
        };
        let _ = write!(
            out,
            "<li{class}>{tried} {} to {}: {about} ({}), {}</li>",
            esc(&kind),
            esc(&attempt.endpoint),
            esc(&attempt.text),
            esc(&result)
        );
    }
    if !any {
        out.push_str("<li>none yet (alerts go to the <code>[[alerts]]</code> endpoints of the configuration)</li>");
    }
    out.push_str("</ul></section>");
    out
}

/// How often the wallboard reloads itself.
const REFRESH_SECS: u32 = 30;

/// What the wallboard shows, read from the engine as of one instant.
struct Board {
    /// Most in need of attention first.
    numbers: Vec<NumberSummary>,
    /// Per carrier: the numbers it shows labeled, with the label.
    labeled: Vec<(Carrier, Vec<(E164, String)>)>,
    /// Numbers stopped or in a plan: state and since when.
    recovering: Vec<(E164, NumberState, Timestamp)>,
    /// Dispute steps due (or overdue) today: number, step, what to do, days late.
    due: Vec<(E164, &'static str, &'static str, i32)>,
    /// The last 30 days, pool by pool and carrier by carrier.
    trends: Vec<Chart>,
}

impl Board {
    fn of(engine: &Engine, now: Timestamp) -> Board {
        let mut numbers = engine.numbers(now);
        numbers.sort_by_key(|n| (attention(n), std::cmp::Reverse(n.risk), n.number));
        let mut labeled: Vec<(Carrier, Vec<(E164, String)>)> = Carrier::ALL.iter().map(|c| (*c, Vec::new())).collect();
        let mut recovering = Vec::new();
        for n in &numbers {
            for label in engine.labels().current(n.number, now) {
                if let Some(text) = label.label {
                    labeled[label.carrier as usize].1.push((n.number, text));
                }
            }
            if matches!(
                n.state,
                NumberState::Quarantined
                    | NumberState::Resting
                    | NumberState::RehabLimited
                    | NumberState::RehabModerate
            ) && let Some(record) = engine.lifecycle().record(n.number)
            {
                recovering.push((n.number, n.state, record.since));
            }
        }
        let today = engine.today(now);
        let due = engine
            .disputes(now)
            .into_iter()
            .filter_map(|row| {
                let (_, late) = row.overdue(today)?;
                Some((row.number, row.step.as_str(), row.action?, late))
            })
            .collect();
        let trends = trends(engine, &numbers, now);
        Board {
            numbers,
            labeled,
            recovering,
            due,
            trends,
        }
    }
}

/// The wallboard's charts of the last [`CHART_DAYS`] days: each pool's
/// answer rate and short-call share (24-hour windows ending each day at
/// this hour), and how many numbers each carrier showed labeled.
fn trends(engine: &Engine, numbers: &[NumberSummary], now: Timestamp) -> Vec<Chart> {
    let mut pools: Vec<&str> = numbers.iter().map(|n| n.pool.as_str()).collect();
    pools.sort_unstable();
    pools.dedup();
    let mut days = Vec::new();
    // Per pool: answered/attempts and short/answered each day.
    let mut answer: Vec<Vec<Option<f64>>> = vec![Vec::new(); pools.len()];
    let mut short: Vec<Vec<Option<f64>>> = vec![Vec::new(); pools.len()];
    let mut labeled: Vec<Vec<Option<f64>>> = vec![Vec::new(); Carrier::ALL.len()];
    for back in (0..CHART_DAYS).rev() {
        let at = now - SignedDuration::from_hours(24 * back);
        days.push(at.strftime("%m-%d").to_string());
        let mut sums = vec![(0u64, 0u64, 0u64); pools.len()];
        let mut shown = [0u32; 3];
        for n in numbers {
            let c = engine.ledger().window_counts(n.number, at, Window::Day);
            if let Ok(i) = pools.binary_search(&n.pool.as_str()) {
                sums[i].0 += u64::from(c.attempts);
                sums[i].1 += u64::from(c.answered);
                sums[i].2 += u64::from(c.short_calls);
            }
            for label in engine.labels().current(n.number, at) {
                if label.label.is_some() {
                    shown[label.carrier as usize] += 1;
                }
            }
        }
        for (i, (attempts, answered, shorts)) in sums.into_iter().enumerate() {
            answer[i].push((attempts > 0).then(|| answered as f64 / attempts as f64));
            short[i].push((answered > 0).then(|| shorts as f64 / answered as f64));
        }
        for (carrier, count) in shown.iter().enumerate() {
            labeled[carrier].push(Some(f64::from(*count)));
        }
    }
    let per_pool = |values: Vec<Vec<Option<f64>>>| -> Vec<Series> {
        pools
            .iter()
            .zip(values)
            .enumerate()
            .map(|(i, (pool, values))| Series {
                name: (*pool).to_owned(),
                color: PALETTE[i % PALETTE.len()],
                values,
                kind: Kind::Line,
            })
            .collect()
    };
    vec![
        Chart {
            id: "trend-answer".into(),
            title: "Answer rate per pool".into(),
            days: days.clone(),
            series: per_pool(answer),
            rules: Vec::new(),
            y_max: Some(1.0),
            percent: true,
        },
        Chart {
            id: "trend-short".into(),
            title: "Short-call share of answered calls per pool".into(),
            days: days.clone(),
            series: per_pool(short),
            rules: Vec::new(),
            y_max: Some(1.0),
            percent: true,
        },
        Chart {
            id: "trend-labels".into(),
            title: "Numbers shown labeled, per carrier".into(),
            days,
            series: Carrier::ALL
                .iter()
                .zip(labeled)
                .enumerate()
                .map(|(i, (carrier, values))| Series {
                    name: format!("{} ({})", carrier.as_str(), carrier.engine()),
                    color: PALETTE[(i + 2) % PALETTE.len()],
                    values,
                    kind: Kind::Line,
                })
                .collect(),
            rules: Vec::new(),
            y_max: None,
            percent: false,
        },
    ]
}

/// The order of the wallboard's table: labeled, stopped, at risk, then the
/// rest.
fn attention(n: &NumberSummary) -> u8 {
    match (n.health, n.state) {
        (Health::Labeled, _) => 0,
        (_, NumberState::Quarantined) => 1,
        (Health::AtRisk, _) => 2,
        (_, NumberState::Resting | NumberState::RehabLimited | NumberState::RehabModerate) => 3,
        (Health::Watch, _) => 4,
        _ => 5,
    }
}

fn pool_body(board: &Board, now: Timestamp, as_of: Option<Timestamp>) -> String {
    let numbers = &board.numbers;
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>Wallboard</h1><p class=\"muted\">As of {}{}.</p>",
        instant(now),
        if as_of.is_none() {
            format!("; reloads every {REFRESH_SECS} s")
        } else {
            String::new()
        }
    );
    if numbers.is_empty() {
        out.push_str(
            "<p>No numbers yet. Register one with <code>PUT /v1/numbers/+14155550100</code> and a body \
             <code>{\"pool\": \"sales\"}</code>, or <code>dialguard numbers add</code>.</p>",
        );
        return out;
    }
    let count = |h: Health| numbers.iter().filter(|n| n.health == h).count();
    let _ = write!(
        out,
        "<p class=\"summary\"><span>{} numbers</span><span>{} healthy</span><span>{} watch</span><span>{} at risk</span><span>{} labeled</span></p>",
        numbers.len(),
        count(Health::Healthy),
        count(Health::Watch),
        count(Health::AtRisk),
        count(Health::Labeled)
    );
    out.push_str("<div class=\"panels\">");
    panel_labeled(&mut out, board, as_of);
    panel_recovering(&mut out, board, as_of);
    panel_due(&mut out, board, as_of);
    panel_pools(&mut out, numbers);
    out.push_str("</div>");

    let _ = write!(out, "<h2>The last {CHART_DAYS} days</h2><div class=\"trends\">");
    for chart in &board.trends {
        out.push_str(&chart.render());
    }
    out.push_str("</div>");

    let _ = write!(
        out,
        "<h2>Numbers, most in need of attention first</h2><table class=\"pool\"><thead><tr><th>Number</th><th>Pool</th><th>State</th><th>Health</th>\
         <th>Risk</th><th>Calls today / cap</th><th>Why this cap</th><th>Top factor</th></tr></thead><tbody>"
    );
    for n in numbers {
        let full = n.cap_today > 0 && n.calls_today >= n.cap_today;
        let share = if n.cap_today == 0 {
            0.0
        } else {
            (f64::from(n.calls_today) / f64::from(n.cap_today)).min(1.0)
        };
        let factor = n.top_factor.as_ref().map_or_else(
            || "<span class=\"muted\">none</span>".to_owned(),
            |f| format!("{}: {}", esc(&f.profile), esc(&f.text())),
        );
        let why = n
            .cap_reason
            .as_deref()
            .map_or_else(|| "<span class=\"muted\">–</span>".to_owned(), esc);
        let _ = write!(
            out,
            "<tr><td data-label=\"Number\">{}</td><td data-label=\"Pool\">{}</td><td data-label=\"State\">{}</td><td data-label=\"Health\">{}</td>\
             <td class=\"num\" data-label=\"Risk\">{}</td>\
             <td data-label=\"Calls / cap\"><span class=\"meter{}\"><i style=\"width:{:.0}%\"></i></span>{} / {}</td>\
             <td class=\"why\" data-label=\"Why\">{}</td><td data-label=\"Top factor\">{}</td></tr>",
            number_link(n.number, as_of),
            esc(&n.pool),
            state_badge(n.state),
            health_badge(n.health),
            n.risk,
            if full { " full" } else { "" },
            share * 100.0,
            n.calls_today,
            n.cap_today,
            why,
            factor
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn panel_labeled(out: &mut String, board: &Board, as_of: Option<Timestamp>) {
    let total: usize = board.labeled.iter().map(|(_, list)| list.len()).sum();
    let _ = write!(
        out,
        "<section class=\"panel\" id=\"labeled\"><h2>Labeled now</h2><div class=\"big\">{total}</div><ul>"
    );
    for (carrier, list) in &board.labeled {
        let _ = write!(
            out,
            "<li>{} ({}): {}",
            carrier.as_str(),
            carrier.engine(),
            if list.is_empty() { "none" } else { "" }
        );
        let shown: Vec<String> = list
            .iter()
            .map(|(number, text)| format!("{} “{}”", number_link(*number, as_of), esc(text)))
            .collect();
        out.push_str(&shown.join(", "));
        out.push_str("</li>");
    }
    out.push_str("</ul></section>");
}

fn panel_recovering(out: &mut String, board: &Board, as_of: Option<Timestamp>) {
    let _ = write!(
        out,
        "<section class=\"panel\" id=\"recovering\"><h2>Stopped and recovering</h2><div class=\"big\">{}</div><ul>",
        board.recovering.len()
    );
    for (number, state, since) in &board.recovering {
        let _ = write!(
            out,
            "<li>{} {} since {}</li>",
            number_link(*number, as_of),
            state_badge(*state),
            since.strftime("%Y-%m-%d")
        );
    }
    out.push_str("</ul></section>");
}

/// How late a dispute step is, in words: `due today`, `1 day late`, `3 days late`.
pub(crate) fn lateness(days: i32) -> String {
    match days {
        i32::MIN..=0 => "due today".to_owned(),
        1 => "1 day late".to_owned(),
        n => format!("{n} days late"),
    }
}

fn panel_due(out: &mut String, board: &Board, as_of: Option<Timestamp>) {
    let overdue = board.due.iter().filter(|d| d.3 > 0).count();
    let _ = write!(
        out,
        "<section class=\"panel\" id=\"disputes\"><h2>Disputes due</h2><div class=\"big\">{}{}</div><ul>",
        board.due.len(),
        if overdue > 0 {
            format!(" <span class=\"late\">({overdue} overdue)</span>")
        } else {
            String::new()
        }
    );
    for (number, step, action, late) in &board.due {
        let class = if *late > 0 { " class=\"overdue\"" } else { "" };
        let when = lateness(*late);
        let _ = write!(
            out,
            "<li{class}>{} {step}: {action}, {when}</li>",
            number_link(*number, as_of)
        );
    }
    out.push_str("</ul></section>");
}

fn panel_pools(out: &mut String, numbers: &[NumberSummary]) {
    out.push_str("<section class=\"panel\" id=\"pools\"><h2>Calls today against caps</h2><ul>");
    for crate::alerts::PoolUse {
        name: pool,
        calls,
        caps,
    } in crate::alerts::pool_use(numbers)
    {
        let share = if caps == 0 {
            1.0
        } else {
            (calls as f64 / caps as f64).min(1.0)
        };
        let _ = write!(
            out,
            "<li>{}: <span class=\"meter{}\"><i style=\"width:{:.0}%\"></i></span>{calls} / {caps}</li>",
            esc(&pool),
            if share >= 1.0 { " full" } else { "" },
            share * 100.0
        );
    }
    out.push_str("</ul></section>");
}

/// One number's last days, day by day.
struct Daily {
    days: Vec<String>,
    attempts: Vec<Option<f64>>,
    answer_rate: Vec<Option<f64>>,
    short_ratio: Vec<Option<f64>>,
    invalid_ratio: Vec<Option<f64>>,
    /// Per profile: its name, its score each day, its quarantine limit.
    scores: Vec<(String, Vec<Option<f64>>, f64)>,
}

fn daily(engine: &Engine, number: E164, now: Timestamp) -> Daily {
    let mut d = Daily {
        days: Vec::new(),
        attempts: Vec::new(),
        answer_rate: Vec::new(),
        short_ratio: Vec::new(),
        invalid_ratio: Vec::new(),
        scores: Vec::new(),
    };
    let config = &engine.config().risk;
    for back in (0..CHART_DAYS).rev() {
        let at = now - SignedDuration::from_hours(24 * back);
        let m: WindowMetrics = engine.ledger().window_metrics(number, at, Window::Day);
        d.days.push(at.strftime("%m-%d").to_string());
        d.attempts.push(Some(f64::from(m.attempts)));
        d.answer_rate.push(m.answer_rate);
        d.short_ratio.push(m.short_call_ratio);
        d.invalid_ratio.push(m.invalid_ratio);
        let assessment = risk::assess(engine.ledger(), engine.labels(), config, number, at);
        for score in assessment.scores {
            match d.scores.iter_mut().find(|(name, _, _)| *name == score.profile) {
                Some((_, values, _)) => values.push(Some(score.value)),
                None => {
                    let mut values = vec![None; d.days.len() - 1];
                    values.push(Some(score.value));
                    d.scores.push((score.profile.clone(), values, score.quarantine_above));
                }
            }
        }
    }
    d
}

const PALETTE: [&str; 6] = ["#4a7bd0", "#2a9d55", "#e06c00", "#8e5bb5", "#c0392b", "#5b6478"];

fn charts(d: &Daily, cap: Option<u32>) -> Vec<Chart> {
    let activity = Chart {
        id: "chart-calls".into(),
        title: "Outbound calls per 24 hours".into(),
        days: d.days.clone(),
        series: vec![Series {
            name: "calls".into(),
            color: PALETTE[0],
            values: d.attempts.clone(),
            kind: Kind::Bars,
        }],
        rules: cap
            .map(|c| Rule {
                name: "cap today".into(),
                value: f64::from(c),
                color: "#c0392b",
            })
            .into_iter()
            .collect(),
        y_max: None,
        percent: false,
    };
    let quality = Chart {
        id: "chart-quality".into(),
        title: "Answered, short and invalid shares (24-hour windows)".into(),
        days: d.days.clone(),
        series: vec![
            Series {
                name: "answer rate".into(),
                color: PALETTE[1],
                values: d.answer_rate.clone(),
                kind: Kind::Line,
            },
            Series {
                name: "short calls".into(),
                color: PALETTE[2],
                values: d.short_ratio.clone(),
                kind: Kind::Line,
            },
            Series {
                name: "invalid destinations".into(),
                color: PALETTE[4],
                values: d.invalid_ratio.clone(),
                kind: Kind::Line,
            },
        ],
        rules: Vec::new(),
        y_max: Some(1.0),
        percent: true,
    };
    let mut limits: Vec<f64> = d.scores.iter().map(|(_, _, q)| *q).collect();
    limits.sort_by(f64::total_cmp);
    limits.dedup();
    let risk = Chart {
        id: "chart-risk".into(),
        title: "Risk score per engine profile".into(),
        days: d.days.clone(),
        series: d
            .scores
            .iter()
            .enumerate()
            .map(|(i, (name, values, _))| Series {
                name: name.clone(),
                color: PALETTE[i % PALETTE.len()],
                values: values.clone(),
                kind: Kind::Line,
            })
            .collect(),
        rules: limits
            .into_iter()
            .map(|q| Rule {
                name: format!("quarantine above {q:.0}"),
                value: q,
                color: "#c0392b",
            })
            .collect(),
        y_max: Some(100.0),
        percent: false,
    };
    vec![activity, quality, risk]
}

fn not_found_page(number: &str) -> Response {
    let body = format!(
        "<h1>Not found</h1><p>{} is not a registered number of this tenant. <a href=\"/\">Back to the pool</a>.</p>",
        esc(number)
    );
    (StatusCode::NOT_FOUND, page("Not found", &body)).into_response()
}

/// `GET /numbers/{number}`.
pub async fn number(
    State(state): State<AppState>,
    Viewer(tenant): Viewer,
    Path(text): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(number) = parse_number(&text) else {
        return not_found_page(&text);
    };
    let at = match page_at(raw.as_deref()) {
        Ok(at) => at,
        Err(page) => return *page,
    };
    let read = |engine: &Engine, now: Timestamp| {
        let view = engine.number(number, now)?;
        Some((view, daily(engine, number, now)))
    };
    let found = match at {
        Some(at) => match engine_at(&state, &tenant, at).await {
            Ok(engine) => read(&engine, at),
            Err(page) => return *page,
        },
        None => read(&tenant.engine.lock(), tenant.clock.now()),
    };
    let Some((view, history)) = found else {
        return not_found_page(&text);
    };
    let mut body = number_body(&view, &history);
    // What happened at an earlier instant cannot be acted on.
    if at.is_none() {
        body.push_str(&actions::number_forms(&state, &tenant.name, number));
    }
    page(&number.to_string(), &body).into_response()
}

/// `GET /numbers/{number}/chart.svg`: the calls chart alone, to embed.
pub async fn chart(Viewer(tenant): Viewer, Path(text): Path<String>) -> Response {
    let Ok(number) = parse_number(&text) else {
        return not_found_page(&text);
    };
    let now = tenant.clock.now();
    let engine = tenant.engine.lock();
    let Some(view) = engine.number(number, now) else {
        drop(engine);
        return not_found_page(&text);
    };
    let history = daily(&engine, number, now);
    drop(engine);
    let svg = charts(&history, cap_today(&view)).remove(0).render();
    ([(CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}

fn number_body(view: &NumberView, history: &Daily) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<h1>{}</h1><p>Pool <b>{}</b> · {} since {} · {} · risk {}</p>",
        view.number,
        esc(&view.pool),
        state_badge(view.state),
        instant(view.state_since),
        health_badge(view.health),
        view.risk.scores.iter().map(|s| s.value).fold(0.0, f64::max).round()
    );
    match &view.usage {
        Some(u) if view.state.may_call() => {
            let _ = write!(
                out,
                "<p>Calls in the last 24 hours: <b>{}</b> of {} · last hour: {} of {}{}{}</p>",
                u.calls_last_24h,
                u.daily_cap,
                u.calls_last_hour,
                u.hourly_cap,
                if u.known_contacts_only {
                    " · known contacts only"
                } else {
                    ""
                },
                u.next_free
                    .map(|t| format!(" · next free {}", instant(t)))
                    .unwrap_or_default()
            );
        }
        Some(u) => {
            let _ = write!(
                out,
                "<p>Calls in the last 24 hours: <b>{}</b> · no calls while {}</p>",
                u.calls_last_24h,
                view.state.as_str()
            );
        }
        None => {}
    }
    let _ = write!(out, "<h2>Last {CHART_DAYS} days</h2>");
    for chart in charts(history, cap_today(view)) {
        out.push_str(&chart.render());
    }
    factors_section(&mut out, view);
    windows_section(&mut out, view);
    labels_section(&mut out, view);
    plans_section(&mut out, view);
    disputes_section(&mut out, view);
    history_section(&mut out, view);
    out
}

/// The number's cap now: none while its state allows no calls.
fn cap_today(view: &NumberView) -> Option<u32> {
    let cap = view.usage.as_ref().map(|u| u.daily_cap);
    if view.state.may_call() { cap } else { Some(0) }
}

fn factors_section(out: &mut String, view: &NumberView) {
    out.push_str("<h2>Why: the factors of each score</h2>");
    for score in &view.risk.scores {
        let _ = write!(
            out,
            "<table class=\"factors\"><thead><tr><th colspan=\"3\">{} · score {:.0} ({}) · quarantine above {:.0}</th></tr>\
             <tr><th>Factor</th><th>Points</th><th>In plain words</th></tr></thead><tbody>",
            esc(&score.profile),
            score.value,
            score.level.as_str(),
            score.quarantine_above
        );
        let mut factors: Vec<_> = score.factors.iter().collect();
        factors.sort_by(|a, b| b.points.total_cmp(&a.points));
        for f in factors {
            let _ = write!(
                out,
                "<tr class=\"factor\"><td>{}</td><td class=\"num\">{:.1} / {:.0}</td><td>{}</td></tr>",
                f.name.as_str(),
                f.points,
                f.weight,
                esc(&f.to_string())
            );
        }
        out.push_str("</tbody></table>");
    }
    if !view.risk.triggers.is_empty() {
        out.push_str("<p><b>Quarantine rules that fired:</b></p><ul>");
        for t in &view.risk.triggers {
            let _ = write!(
                out,
                "<li>{}</li>",
                esc(&t.state_change(view.number, view.risk.at).reason)
            );
        }
        out.push_str("</ul>");
    }
}

fn windows_section(out: &mut String, view: &NumberView) {
    out.push_str(
        "<h2>Figures per window</h2><table class=\"windows\"><thead><tr><th>Window</th><th>Calls</th><th>Answered</th>\
         <th>Short</th><th>Avg talk</th><th>Invalid</th><th>Complaints</th><th>Destinations</th><th>Peak / hour</th><th>Inbound</th></tr></thead><tbody>",
    );
    for m in &view.metrics.windows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&m.window),
            m.attempts,
            pct(m.answer_rate),
            pct(m.short_call_ratio),
            m.avg_talk_seconds
                .map_or_else(|| "–".to_owned(), |s| format!("{s:.0} s")),
            pct(m.invalid_ratio),
            m.complaints,
            m.distinct_destinations,
            m.peak_calls_per_hour,
            m.inbound_calls
        );
    }
    out.push_str("</tbody></table>");
}

fn labels_section(out: &mut String, view: &NumberView) {
    out.push_str(
        "<h2>Labels by carrier</h2><table class=\"labels\"><thead><tr><th>Carrier</th><th>Engine</th><th>Shows</th>\
         <th>Since</th><th>Last checked</th><th>Source</th></tr></thead><tbody>",
    );
    for carrier in Carrier::ALL {
        match view.labels.iter().find(|l| l.carrier == carrier) {
            Some(l) => {
                let shows = match &l.label {
                    Some(text) => format!("<span class=\"badge labeled\">{}</span>", esc(text)),
                    None => "<span class=\"badge healthy\">clean</span>".to_owned(),
                };
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    carrier.as_str(),
                    esc(&l.engine),
                    shows,
                    instant(l.since),
                    instant(l.observed_at),
                    esc(&l.source)
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td colspan=\"4\" class=\"muted\">never checked</td></tr>",
                    carrier.as_str(),
                    carrier.engine()
                );
            }
        }
    }
    out.push_str("</tbody></table>");
}

fn plans_section(out: &mut String, view: &NumberView) {
    out.push_str("<h2>Remediation plan</h2>");
    if view.plans.is_empty() {
        out.push_str("<p class=\"muted\">No plan: this number has never been stopped.</p>");
    }
    for plan_view in view.plans.iter().rev() {
        let plan = &plan_view.plan;
        let mut status = match (&plan.outcome, plan.ended_at) {
            (None, _) => format!(
                "in progress{} · phase {}",
                plan_view.day.map(|d| format!(", day {d}")).unwrap_or_default(),
                plan.phase().as_str()
            ),
            (Some(outcome), Some(ended)) => format!("{} on {}", outcome_text(outcome), instant(ended)),
            (Some(outcome), None) => outcome_text(outcome),
        };
        if let Some(next) = &plan_view.next {
            let _ = write!(status, " · next: {:?} on {}", next.step, instant(next.at));
        }
        if plan_view.retirement_recommended {
            status.push_str(" · retiring the number is recommended");
        }
        let _ = write!(
            out,
            "<table class=\"plan\"><thead><tr><th colspan=\"6\">Plan #{} · started {} · {}</th></tr>\
             <tr><td colspan=\"6\">{}</td></tr><tr><th>Phase</th><th>From</th><th>To</th><th>Calls (max a day)</th>\
             <th>Conversations</th><th>Goal</th></tr></thead><tbody>",
            plan.ordinal,
            instant(plan.started_at),
            esc(&status),
            esc(&plan.reason)
        );
        for phase in &plan_view.phases {
            let goal = if phase.met {
                "<span class=\"badge healthy\">met</span>".to_owned()
            } else {
                format!(
                    "<span class=\"badge at_risk\">missed</span> {}",
                    esc(&phase.missed.join("; "))
                )
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{} ({})</td><td class=\"num\">{}</td><td>{}</td></tr>",
                phase.phase.as_str(),
                instant(phase.from),
                phase.to.map_or_else(|| "now".to_owned(), instant),
                phase.calls,
                phase.max_calls_in_a_day,
                pct(phase.long_call_share),
                goal
            );
        }
        for setback in &plan.setbacks {
            let _ = write!(
                out,
                "<tr><td>setback</td><td>{}</td><td colspan=\"4\">{}</td></tr>",
                instant(setback.at),
                esc(&setback.reason)
            );
        }
        out.push_str("</tbody></table>");
    }
}

fn outcome_text(outcome: &PlanOutcome) -> String {
    match outcome {
        PlanOutcome::Completed => "completed".to_owned(),
        PlanOutcome::Ended { state } => format!("ended ({})", state.as_str()),
    }
}

fn disputes_section(out: &mut String, view: &NumberView) {
    out.push_str("<h2>Disputes</h2>");
    let Some(calendar) = view.disputes.last() else {
        out.push_str("<p class=\"muted\">No dispute calendar: no carrier has shown a label.</p>");
        return;
    };
    let _ = write!(
        out,
        "<p>Opened {} by {}.</p><table class=\"disputes\"><thead><tr><th>Step</th><th>Status</th><th>Due</th>\
         <th>Follow up</th><th>Notes</th></tr></thead><tbody>",
        instant(calendar.opened_at),
        esc(&calendar.opened_by)
    );
    for step in &calendar.steps {
        let notes: Vec<&str> = step.notes().collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            step.step.as_str(),
            step.status.as_str(),
            step.due,
            step.follow_up.map(|d| d.to_string()).unwrap_or_default(),
            esc(&notes.join("; "))
        );
    }
    out.push_str("</tbody></table>");
}

fn history_section(out: &mut String, view: &NumberView) {
    out.push_str("<h2>History</h2>");
    if view.history.is_empty() {
        out.push_str("<p class=\"muted\">No state changes since registration.</p>");
        return;
    }
    out.push_str("<table class=\"history\"><thead><tr><th>When</th><th>State</th><th>Why</th></tr></thead><tbody>");
    for change in view.history.iter().rev() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            instant(change.at),
            state_badge(change.state),
            esc(&change.reason)
        );
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_html_could_read_as_markup() {
        assert_eq!(
            esc(r#"<b>"Spam" & 'Scam'</b>"#),
            "&lt;b&gt;&quot;Spam&quot; &amp; &#39;Scam&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn an_empty_pool_says_how_to_add_a_number() {
        let empty = Board {
            numbers: Vec::new(),
            labeled: Vec::new(),
            recovering: Vec::new(),
            due: Vec::new(),
            trends: Vec::new(),
        };
        let body = pool_body(&empty, "2026-03-02T09:00:00Z".parse().unwrap(), None);
        assert!(body.contains("No numbers yet"), "{body}");
        assert!(body.contains("PUT /v1/numbers/+14155550100"));
    }
}
