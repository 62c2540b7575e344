//! The dashboard in a real browser: headless Chromium loads the pool page,
//! follows a number's link, and the number page must show its charts, the
//! factors of its scores, its labels and its plan. Screenshots of both pages
//! are kept under `target/dashboard/` for people to look at.
//!
//! Needs Debian's `chromium` on the PATH (the test installs nothing). Set
//! `DIALGUARD_SKIP_BROWSER=1` to skip it on a machine without one.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TestServer, json};
use serde_json::{Value, json};

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

// The network flags keep Chromium from reaching for Google's hosts, which a
// closed CI network refuses many times over at every start.
const FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

fn dump_dom(browser: &Path, url: &str) -> String {
    let out = Command::new(browser)
        .args(FLAGS)
        .args(["--dump-dom", url])
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A screenshot of `url` in a `width` by `height` window, checked to be a PNG.
fn screenshot_at(browser: &Path, url: &str, file: &Path, width: u32, height: u32) {
    let out = Command::new(browser)
        .args(FLAGS)
        .arg(format!("--screenshot={}", file.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(file).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "{} is not a PNG", file.display());
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A pool with history: one number that talks, one hung up on at once,
/// one a carrier labeled.
fn populated() -> TestServer {
    let server = TestServer::start();
    for number in ["+14155550101", "+14155550102", "+14155550103"] {
        let (status, _) = json(server.put(
            &format!("/v1/numbers/{number}"),
            &json!({"pool": "sales", "acquired_at": "2026-01-05T00:00:00Z"}),
        ));
        assert_eq!(status, 200);
    }
    let mut calls = Vec::new();
    for day in 0..12i64 {
        for i in 0..30i64 {
            let start = jiff::Timestamp::from_second(1_772_463_600 + day * 86_400 + i * 300).unwrap();
            let (from, talk) = if i % 2 == 0 {
                ("+14155550101", 140)
            } else {
                ("+14155550102", 2)
            };
            let answered = start + jiff::SignedDuration::from_secs(6);
            calls.push(json!({
                "id": format!("{day}-{i}"), "from": from, "to": format!("+1212{}{:04}", 300 + day, 1000 + i),
                "started_at": start.to_string(), "answered_at": answered.to_string(),
                "ended_at": (answered + jiff::SignedDuration::from_secs(talk)).to_string(), "outcome": "answered"
            }));
        }
    }
    let (_, ingested) = json(server.post("/v1/calls", &json!({ "calls": calls })));
    assert_eq!(ingested["accepted"], 360, "{ingested}");
    let label = json!({"number": "+14155550103", "carrier": "tmobile", "label": "Scam Likely",
                       "at": "2026-03-10T12:00:00Z", "source": "test_call"});
    assert_eq!(json(server.post("/v1/labels", &label)).0, 200);
    server
}

#[test]
fn the_pool_page_leads_to_a_number_page_with_charts_and_factors() {
    let Some(browser) = chromium() else {
        if std::env::var_os("DIALGUARD_SKIP_BROWSER").is_some() {
            eprintln!("skipped: no chromium and DIALGUARD_SKIP_BROWSER is set");
            return;
        }
        panic!("headless Chromium is needed: apt-get install -y chromium (or set DIALGUARD_SKIP_BROWSER=1)");
    };
    let server = populated();
    let pool = dump_dom(&browser, &server.url("/"));
    assert!(pool.contains("<h1>Wallboard</h1>"), "{pool}");
    for number in ["+14155550101", "+14155550102", "+14155550103"] {
        assert!(
            pool.contains(&format!("href=\"/numbers/{number}\"")),
            "no link to {number}: {pool}"
        );
    }
    assert!(
        pool.contains("class=\"badge health labeled\""),
        "the labeled number shows as labeled: {pool}"
    );
    screenshot_at(&browser, &server.url("/"), &artifacts().join("pool.png"), 1200, 700);

    // Follow the link of the number that was hung up on, as a person would.
    let href = pool
        .split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|h| h.ends_with("0102"))
        .expect("a link to the number");
    let page = dump_dom(&browser, &server.url(href));
    assert!(page.contains("<h1>+14155550102</h1>"), "{page}");
    for chart in ["chart-calls", "chart-quality", "chart-risk"] {
        assert!(
            page.contains(&format!("<svg class=\"chart\" id=\"{chart}\"")),
            "no {chart}"
        );
    }
    assert!(page.matches("class=\"bar\"").count() >= 10, "a bar per day with calls");
    assert!(page.contains("class=\"line\""), "score and share lines are drawn");
    let factors = page.matches("<tr class=\"factor\">").count();
    assert!(factors >= 12, "every factor of every profile is listed ({factors})");
    assert!(
        page.contains("answered calls lasted under"),
        "the factors read in plain words"
    );
    assert!(page.contains("Labels by carrier") && page.contains("Remediation plan") && page.contains("Disputes"));
    screenshot_at(&browser, &server.url(href), &artifacts().join("number.png"), 1200, 2600);

    let labeled = dump_dom(&browser, &server.url("/numbers/+14155550103"));
    assert!(labeled.contains("Scam Likely"), "the label observed is shown");
    assert!(labeled.contains("Plan #1"), "the plan the label started is shown");

    let missing = reqwest::blocking::get(server.url("/numbers/+14155550199")).unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn with_tokens_the_dashboard_asks_the_browser_for_one() {
    let cfg = common::config(r#"tokens = [{ token = "acme-token", tenant = "acme" }]"#);
    let server = TestServer::with(cfg, dialguard_server::ClockMode::Wall);
    let client = reqwest::blocking::Client::new();
    let anonymous = client.get(server.url("/")).send().unwrap();
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    let page = client
        .get(server.url("/"))
        .basic_auth("ops", Some("acme-token"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("No numbers yet"));
    let wrong: Value = json(
        client
            .get(server.url("/"))
            .basic_auth("ops", Some("nope"))
            .send()
            .unwrap(),
    )
    .1;
    assert!(wrong["error"].as_str().unwrap().starts_with("unknown token"));
}

#[test]
fn every_dashboard_page_forbids_framing_sniffing_and_outside_loads() {
    let server = populated();
    let client = reqwest::blocking::Client::new();
    for path in [
        "/",
        "/numbers/+14155550101",
        "/numbers/+14155550101/chart.svg",
        "/numbers/+14155550199",
    ] {
        let page = client.get(server.url(path)).send().unwrap();
        let header = |name: &str| {
            page.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{path}: no {name}"))
        };
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
}

#[test]
fn a_page_as_of_an_earlier_instant_shows_the_tenant_as_it_was_then() {
    let server = populated();
    let client = reqwest::blocking::Client::new();
    let text = |path: &str| {
        let page = client.get(server.url(path)).send().unwrap();
        (page.status().as_u16(), page.text().unwrap())
    };
    // The T-Mobile label came on 2026-03-10 at noon and started a plan.
    let (status, before) = text("/numbers/+14155550103?at=2026-03-09T12:00:00Z");
    assert_eq!(status, 200, "{before}");
    assert!(
        !before.contains("Plan #1") && !before.contains("Scam Likely"),
        "{before}"
    );
    let (status, after) = text("/numbers/+14155550103?at=2026-03-11T12:00:00Z");
    assert_eq!(status, 200, "{after}");
    assert!(after.contains("Plan #1") && after.contains("Scam Likely"), "{after}");
    let (status, pool) = text("/?at=2026-03-09T12:00:00Z");
    assert_eq!(status, 200, "{pool}");
    assert!(pool.contains("As of 2026-03-09 12:00 UTC"), "{pool}");
    assert!(pool.contains("0 labeled"), "{pool}");
    assert!(
        pool.contains("href=\"/numbers/+14155550103?at=2026-03-09T12:00:00Z\""),
        "a number's link keeps the instant: {pool}"
    );
    let (_, now) = text("/");
    assert!(now.contains("href=\"/numbers/+14155550103\""), "{now}");
    let (status, refused) = text("/?at=last%20tuesday");
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("RFC 3339"), "{refused}");
}

/// The page's HTML in a frame `width` px wide (Chromium's headless window
/// is never narrower than 500 px), as a file Chromium can open; a line of
/// script writes how wide the page laid out into the title once it loaded.
fn framed(html: &str, width: u32, dir: &Path) -> String {
    let escaped = html.replace('&', "&amp;").replace('"', "&quot;");
    let wrapper = format!(
        "<!doctype html><html><head><title>probe</title></head><body style=\"margin:0\">\
         <iframe id=\"f\" style=\"width:{width}px;height:2400px;border:0\" srcdoc=\"{escaped}\"></iframe>\
         <script>document.getElementById('f').onload=function(){{document.title='width='+this.contentDocument.documentElement.scrollWidth}}</script>\
         </body></html>"
    );
    let file = dir.join(format!("framed-{width}.html"));
    std::fs::write(&file, wrapper).unwrap();
    format!("file://{}", file.display())
}

/// How wide the page lays out in a frame `width` px wide.
fn laid_out_width(browser: &Path, html: &str, width: u32) -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let url = framed(html, width, dir.path());
    let out = Command::new(browser)
        .args(FLAGS)
        .args([
            "--window-size=1500,900",
            "--virtual-time-budget=5000",
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8(out.stdout).unwrap();
    let title = dom
        .split("<title>width=")
        .nth(1)
        .unwrap_or_else(|| panic!("the probe did not run: {dom}"));
    title.split('<').next().unwrap().parse().unwrap()
}

#[test]
fn the_wallboard_puts_the_labeled_number_first_and_an_overdue_dispute_in_red_at_any_width() {
    let Some(browser) = chromium() else {
        if std::env::var_os("DIALGUARD_SKIP_BROWSER").is_some() {
            eprintln!("skipped: no chromium and DIALGUARD_SKIP_BROWSER is set");
            return;
        }
        panic!("headless Chromium is needed: apt-get install -y chromium (or set DIALGUARD_SKIP_BROWSER=1)");
    };
    let server = populated();
    // Three weeks after the label, the first dispute steps are past due.
    let url = server.url("/?at=2026-03-31T15:00:00Z");
    let board = dump_dom(&browser, &url);
    let rows: Vec<&str> = board.split("<tr>").skip(2).collect();
    assert!(
        rows[0].contains("+14155550103") && rows[0].contains("health labeled"),
        "the labeled number heads the table: {}",
        rows[0]
    );
    let labeled = common::part(&board, "labeled", "</section>");
    assert!(
        labeled.contains("tmobile (first-orion): <a") && labeled.contains("Scam Likely"),
        "{labeled}"
    );
    let disputes = common::part(&board, "disputes", "</section>");
    assert!(
        disputes.contains("<li class=\"overdue\">") && disputes.contains("days late"),
        "an overdue step is in the disputes panel, in red: {disputes}"
    );
    let recovering = common::part(&board, "recovering", "</section>");
    assert!(recovering.contains("+14155550103"), "{recovering}");
    assert!(board.contains("Why this cap"), "each number's cap says why");
    for chart in ["trend-answer", "trend-short", "trend-labels"] {
        assert!(
            board.contains(&format!("<svg class=\"chart\" id=\"{chart}\"")),
            "no {chart} on the board"
        );
    }
    let answer = common::part(&board, "trend-answer", "</svg>");
    assert!(
        answer.contains("class=\"line\"") && answer.contains("sales"),
        "the pool's answer rate is drawn: {answer}"
    );
    assert!(
        !board.contains("http-equiv=\"refresh\""),
        "a board of the past does not reload"
    );
    let live = reqwest::blocking::get(server.url("/")).unwrap().text().unwrap();
    assert!(
        live.contains("http-equiv=\"refresh\""),
        "the board of now reloads itself"
    );

    let html = reqwest::blocking::get(&url).unwrap().text().unwrap();
    for width in [1400, 400] {
        let laid_out = laid_out_width(&browser, &html, width);
        assert!(
            laid_out <= width,
            "at {width} px the page lays out {laid_out} px wide: it would scroll sideways"
        );
    }
    for page in ["/numbers/+14155550103", "/numbers/+14155550102"] {
        let html = reqwest::blocking::get(server.url(page)).unwrap().text().unwrap();
        let laid_out = laid_out_width(&browser, &html, 400);
        assert!(laid_out <= 400, "{page} lays out {laid_out} px wide at 400 px");
    }
    let shots = artifacts();
    screenshot_at(&browser, &url, &shots.join("wallboard-1400.png"), 1400, 1100);
    let dir = tempfile::tempdir().unwrap();
    screenshot_at(
        &browser,
        &framed(&html, 400, dir.path()),
        &shots.join("wallboard-400.png"),
        500,
        2400,
    );
}

/// The form token on a dashboard page.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page has a form")
        .to_owned()
}

#[test]
fn an_action_taken_in_the_ui_is_the_apis_own_and_lands_in_the_history() {
    let server = populated();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(server.url("/numbers/+14155550101"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Act on this number"), "{page}");
    let csrf = csrf_of(&page);
    let origin = server.url("");
    let send = |path: &str, fields: &[(&str, &str)], origin: &str| {
        client
            .post(server.url(path))
            .header("origin", origin)
            .form(fields)
            .send()
            .unwrap()
    };

    let rest = [
        ("csrf", csrf.as_str()),
        ("action", "state"),
        ("state", "resting"),
        ("why", "complaints from the Tuesday list"),
        ("who", "Dana"),
    ];
    // Refused: from another site, without the page's token, without a name.
    assert_eq!(
        send("/numbers/+14155550101/actions", &rest, "https://evil.example").status(),
        403
    );
    let mut forged = rest;
    forged[0] = ("csrf", "0123");
    assert_eq!(send("/numbers/+14155550101/actions", &forged, &origin).status(), 403);
    let mut anonymous = rest;
    anonymous[4] = ("who", " ");
    let nameless = send("/numbers/+14155550101/actions", &anonymous, &origin);
    assert_eq!(nameless.status(), 400);
    assert!(nameless.text().unwrap().contains("who: is empty"));
    let (_, view) = json(server.get("/v1/numbers/+14155550101"));
    assert_eq!(view["state"], "active", "nothing refused changed anything");

    let done = send("/numbers/+14155550101/actions", &rest, &origin);
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/numbers/+14155550101");
    let (_, view) = json(server.get("/v1/numbers/+14155550101"));
    assert_eq!(view["state"], "resting");
    let last = view["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["reason"],
        "operator: complaints from the Tuesday list (Dana, from the dashboard)"
    );

    let label = [
        ("csrf", csrf.as_str()),
        ("action", "label"),
        ("carrier", "verizon"),
        ("label", "Spam Likely"),
        ("who", "Dana"),
    ];
    assert_eq!(send("/numbers/+14155550102/actions", &label, &origin).status(), 303);
    let (_, view) = json(server.get("/v1/numbers/+14155550102"));
    let verizon = view["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["carrier"] == "verizon")
        .unwrap()
        .clone();
    assert_eq!(verizon["label"], "Spam Likely");
    assert_eq!(verizon["source"], "dashboard (Dana)");

    let board = client.get(server.url("/")).send().unwrap().text().unwrap();
    let register = [
        ("csrf", csrf_of(&board)),
        ("action", "register".to_owned()),
        ("number", "+1 (415) 555-0177".to_owned()),
        ("pool", "sales".to_owned()),
        ("who", "Dana".to_owned()),
    ];
    let registered = client
        .post(server.url("/numbers"))
        .header("origin", &origin)
        .form(&register)
        .send()
        .unwrap();
    assert_eq!(registered.status(), 303);
    assert_eq!(registered.headers()["location"], "/numbers/+14155550177");
    assert_eq!(json(server.get("/v1/numbers/+14155550177")).0, 200);

    let past = client
        .get(server.url("/numbers/+14155550101?at=2026-03-05T00:00:00Z"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!past.contains("<form"), "the past cannot be acted on");

    if let Some(browser) = chromium() {
        let page = dump_dom(&browser, &server.url("/numbers/+14155550101"));
        assert!(
            page.contains("complaints from the Tuesday list (Dana, from the dashboard)"),
            "{page}"
        );
    }
}
