//! The server's settings: where to listen, who may call, how to check
//! webhooks, and the engine's own settings.
//!
//! The file is TOML; every key is optional and unknown keys are refused, so a
//! misspelt setting cannot silently fall back to its default:
//!
//! ```toml
//! tokens = [{ token = "s3cret-token-for-acme", tenant = "acme" }]
//! body_limit_bytes = 33554432        # 32 MiB: a batch of ~100,000 calls
//! profiles_dir = "profiles"          # engine profiles (*.toml); the shipped ones otherwise
//!
//! [[twilio]]                         # one per Twilio account
//! auth_token = "…"                   # checks X-Twilio-Signature
//! account_sid = "AC…"                # optional: pick the account by AccountSid
//! tenant = "acme"
//! webhook_url = "https://dialguard.example.com/v1/webhooks/twilio"  # as Twilio calls it, behind a proxy
//!
//! [telnyx]
//! public_key = "base64 ed25519 key from the Telnyx portal"
//! tenant = "acme"
//!
//! [guard]                            # dialguard_core::guard::GuardConfig
//! daily_cap = 120
//!
//! [lifecycle]                        # dialguard_core::lifecycle::LifecycleConfig
//! aging_days = 21
//!
//! [tick]                             # dialguard_core::engine::TickConfig
//! reassess_secs = 60
//!
//! [control]                          # dialguard_core::control::ControlConfig
//! margin = 0.15
//!
//! [[alerts]]                         # one per endpoint (see `alerts`)
//! name = "ops-slack"
//! url = "https://hooks.slack.com/services/…"
//! format = "slack"                   # or "json" (the default)
//! secret = "…"                       # optional: signs each alert
//! on = ["label", "quarantine"]       # default: every kind
//! ```
//!
//! The one rule that is not a default: with no tokens the API is open to
//! whoever can reach it, so the server then listens on loopback only
//! ([`ServerConfig::check_listen`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use dialguard_core::control::ControlConfig;
use dialguard_core::engine::{EngineConfig, TickConfig};
use dialguard_core::guard::GuardConfig;
use dialguard_core::lifecycle::LifecycleConfig;
use dialguard_core::metrics::MetricsConfig;
use dialguard_core::risk::RiskConfig;
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;

use crate::alerts::AlertEndpoint;

/// The tenant of a server without tokens, and of the command line.
pub const DEFAULT_TENANT: &str = "default";

/// The default body limit: a batch of about 100,000 calls.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// How the server tells the time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// Decisions use the machine's clock; events carry their own instants.
    #[default]
    Wall,
    /// "Now" is the latest instant any request carried, per tenant: a
    /// harness drives days of traffic in seconds.
    Event,
}

impl std::str::FromStr for ClockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wall" => Ok(ClockMode::Wall),
            "event" => Ok(ClockMode::Event),
            _ => Err(format!("clock {s:?} is neither wall nor event")),
        }
    }
}

/// One API token and the tenant whose data it sees.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub token: String,
    pub tenant: String,
}

/// A Twilio account whose status callbacks are accepted.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioAccount {
    /// Signs `X-Twilio-Signature`.
    pub auth_token: String,
    /// When set, callbacks whose `AccountSid` differs go to another entry.
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// The URL Twilio requests, when a proxy in front of the server changes
    /// the scheme, host or path the server sees.
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// Telnyx webhooks: the account's public key and the tenant they feed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelnyxSection {
    /// The base64 ed25519 public key from the Telnyx portal.
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default = "default_tenant")]
    pub tenant: String,
}

fn default_tenant() -> String {
    DEFAULT_TENANT.to_owned()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// The file as written.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigFile {
    tokens: Vec<TokenEntry>,
    body_limit_bytes: Option<usize>,
    profiles_dir: Option<PathBuf>,
    twilio: Option<OneOrMany<TwilioAccount>>,
    telnyx: Option<TelnyxSection>,
    guard: GuardConfig,
    lifecycle: LifecycleConfig,
    tick: TickConfig,
    control: ControlConfig,
    metrics: Option<MetricsConfig>,
    alerts: Vec<AlertEndpoint>,
}

/// A configuration that cannot be used, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Everything the server runs with.
#[derive(Clone)]
pub struct ServerConfig {
    /// Token → tenant. Empty: no authentication, loopback only.
    pub tokens: HashMap<String, String>,
    pub body_limit: usize,
    pub twilio: Vec<TwilioAccount>,
    pub telnyx: Option<TelnyxConfig>,
    pub engine: EngineConfig,
    /// Where alerts go (`[[alerts]]`).
    pub alerts: Vec<AlertEndpoint>,
}

/// The Telnyx settings, the key decoded.
#[derive(Clone, Debug)]
pub struct TelnyxConfig {
    pub public_key: Option<VerifyingKey>,
    pub tenant: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tokens: HashMap::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            twilio: Vec::new(),
            telnyx: None,
            engine: EngineConfig::default(),
            alerts: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// Reads the file at `path` (and the profiles directory it names,
    /// relative to the file).
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        ServerConfig::from_toml(&text, &shown, base)
    }

    /// Parses a config file's text; `shown` names it in errors and
    /// `base` is where relative paths start.
    pub fn from_toml(text: &str, shown: &str, base: &Path) -> Result<ServerConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.to_owned(),
            message,
        };
        let file: ConfigFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut tokens = HashMap::new();
        for (i, entry) in file.tokens.iter().enumerate() {
            if entry.token.trim().is_empty() {
                return Err(invalid(format!("tokens[{i}].token is empty")));
            }
            if entry.tenant.trim().is_empty() {
                return Err(invalid(format!(
                    "tokens[{i}].tenant is empty: name the tenant the token sees"
                )));
            }
            if tokens.insert(entry.token.clone(), entry.tenant.clone()).is_some() {
                return Err(invalid(format!(
                    "tokens[{i}].token is listed twice: each token belongs to one tenant"
                )));
            }
        }
        let twilio = match file.twilio {
            None => Vec::new(),
            Some(OneOrMany::One(account)) => vec![account],
            Some(OneOrMany::Many(accounts)) => accounts,
        };
        for (i, account) in twilio.iter().enumerate() {
            if account.auth_token.trim().is_empty() {
                return Err(invalid(format!(
                    "twilio[{i}].auth_token is empty: copy the account's auth token from the Twilio console"
                )));
            }
        }
        let telnyx = file
            .telnyx
            .map(|section| {
                let public_key = section
                    .public_key
                    .as_deref()
                    .map(parse_public_key)
                    .transpose()
                    .map_err(|why| invalid(format!("telnyx.public_key {why}")))?;
                Ok::<_, ConfigError>(TelnyxConfig {
                    public_key,
                    tenant: section.tenant,
                })
            })
            .transpose()?;
        let body_limit = file.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT);
        if body_limit < 1024 {
            return Err(invalid(format!(
                "body_limit_bytes {body_limit} is too small for one call; use at least 1024"
            )));
        }
        let risk = match &file.profiles_dir {
            Some(dir) => load_profiles(&base.join(dir)).map_err(invalid)?,
            None => RiskConfig::defaults(),
        };
        let engine = EngineConfig {
            metrics: file.metrics.unwrap_or_default(),
            guard: file.guard,
            risk,
            lifecycle: file.lifecycle,
            tick: file.tick,
            control: file.control,
        };
        let config = ServerConfig {
            tokens,
            body_limit,
            twilio,
            telnyx,
            engine,
            alerts: file.alerts,
        };
        let served = config.tenants();
        let mut names = std::collections::HashSet::new();
        for (i, endpoint) in config.alerts.iter().enumerate() {
            endpoint.check(i).map_err(invalid)?;
            if !served.contains(&endpoint.tenant) {
                return Err(invalid(format!(
                    "alerts[{i}].tenant {:?} is not a tenant this configuration serves ({}): name one of them, or add a token for it",
                    endpoint.tenant,
                    served.join(", ")
                )));
            }
            if !names.insert((endpoint.tenant.as_str(), endpoint.name.as_str())) {
                return Err(invalid(format!(
                    "alerts[{i}].name {:?} is used twice for tenant {}: each endpoint keeps its own place in the log",
                    endpoint.name, endpoint.tenant
                )));
            }
        }
        Ok(config)
    }

    /// Every tenant the server serves: the tokens' and the webhooks', or
    /// [`DEFAULT_TENANT`] when there are no tokens.
    pub fn tenants(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tokens.values().cloned().collect();
        names.extend(self.twilio.iter().map(|a| a.tenant.clone()));
        names.extend(self.telnyx.iter().map(|t| t.tenant.clone()));
        if self.tokens.is_empty() {
            names.push(DEFAULT_TENANT.to_owned());
        }
        names.sort();
        names.dedup();
        names
    }

    /// Without tokens anyone who reaches the port can read and write every
    /// number, so the server refuses any address but loopback.
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), String> {
        if self.tokens.is_empty() && !addr.ip().is_loopback() {
            return Err(format!(
                "refusing to listen on {addr} without API tokens: anyone reaching it could read and change every number. \
                 Add tokens = [{{ token = \"…\", tenant = \"…\" }}] to the --config file, or listen on 127.0.0.1"
            ));
        }
        Ok(())
    }
}

/// A Telnyx public key: base64 of the 32 raw key bytes.
fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("is not base64 ({e})"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("is {} bytes long; an ed25519 public key is 32", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("is not an ed25519 public key ({e})"))
}

/// The `*.toml` engine profiles of a directory.
fn load_profiles(dir: &Path) -> Result<RiskConfig, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("profiles_dir {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("profiles_dir {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    RiskConfig::from_toml_strs(&borrowed).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServerConfig, String> {
        ServerConfig::from_toml(text, "server.toml", Path::new(".")).map_err(|e| e.to_string())
    }

    #[test]
    fn an_empty_file_is_the_defaults_with_one_tenant() {
        let config = parse("").unwrap();
        assert!(config.tokens.is_empty());
        assert_eq!(config.body_limit, DEFAULT_BODY_LIMIT);
        assert_eq!(config.tenants(), vec!["default".to_owned()]);
    }

    #[test]
    fn tokens_bind_tenants_and_webhooks_add_theirs() {
        let config = parse(
            r#"
            tokens = [{ token = "a", tenant = "acme" }, { token = "b", tenant = "globex" }]
            [twilio]
            auth_token = "12345"
            tenant = "acme"
            [telnyx]
            tenant = "initech"
            "#,
        )
        .unwrap();
        assert_eq!(config.tokens["b"], "globex");
        assert_eq!(config.twilio.len(), 1);
        assert_eq!(config.tenants(), vec!["acme", "globex", "initech"]);
    }

    #[test]
    fn mistakes_name_the_file_and_key() {
        let cases = [
            (
                "tokens = [{ token = \"\", tenant = \"a\" }]",
                "server.toml: tokens[0].token is empty",
            ),
            (
                "tokens = [{ token = \"t\", tenant = \"a\" }, { token = \"t\", tenant = \"b\" }]",
                "server.toml: tokens[1].token is listed twice: each token belongs to one tenant",
            ),
            (
                "[telnyx]\npublic_key = \"AAAA\"",
                "server.toml: telnyx.public_key is 3 bytes long; an ed25519 public key is 32",
            ),
            (
                "body_limit_bytes = 10",
                "server.toml: body_limit_bytes 10 is too small for one call; use at least 1024",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text).err().as_deref(), Some(message), "{text}");
        }
        let misspelt = parse("[guard]\ndaily_capp = 3").err().unwrap();
        assert!(misspelt.contains("daily_capp"), "{misspelt}");
        let unknown = parse("tokenz = []").err().unwrap();
        assert!(unknown.contains("tokenz"), "{unknown}");
    }

    #[test]
    fn without_tokens_only_loopback_is_allowed() {
        let open = parse("").unwrap();
        assert!(open.check_listen("127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(open.check_listen("[::1]:8080".parse().unwrap()).is_ok());
        let refused = open.check_listen("0.0.0.0:8080".parse().unwrap()).unwrap_err();
        assert!(refused.starts_with("refusing to listen on 0.0.0.0:8080 without API tokens"));
        let closed = parse("tokens = [{ token = \"t\", tenant = \"a\" }]").unwrap();
        assert!(closed.check_listen("0.0.0.0:8080".parse().unwrap()).is_ok());
    }
}
