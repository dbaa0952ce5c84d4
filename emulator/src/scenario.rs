//! Scenario files: the emulator's starting state in one JSON or TOML file —
//! settings, extra clients, users and APIs, queued sign-in outcomes, and a
//! sequence of faults (presets or hand-written rules) — so that a CI job
//! starts it in a known state with one command
//! (`idflow emulator --scenario FILE`).
//!
//! Everything is checked before the emulator starts; a bad file gets an
//! error naming the line (from the parser) or the entry (`faults[2]`).
//! Fields are the admin API's own (`emulator/README.md`), and unknown fields
//! are refused, so a typo fails loudly instead of arming nothing.

use crate::admin::{Admin, AdminError, PresetArm};
use crate::faults::presets;
use crate::faults::rules::{Effect, FaultSpec, Matcher};
use crate::model::directory::{ClientSpec, ResourceSpec, UserSpec};
use crate::model::state::{AuthorizeScript, Settings};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read the scenario file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The text does not parse, or a field is unknown or of the wrong type;
    /// the message names the field (`users[0].password`) and the line and
    /// column, never the value (it may be a secret).
    #[error("scenario file {origin}: {message}")]
    Syntax { origin: String, message: String },
    /// An entry parses but cannot be armed (e.g. `faults[1]`: no such preset).
    #[error("scenario file {origin}: {entry}: {message}")]
    Entry {
        origin: String,
        entry: String,
        message: String,
    },
}

/// A parsed, checked scenario.
#[derive(Clone, Default, PartialEq)]
pub struct Scenario {
    /// Replaces the default settings (absent members keep their defaults).
    pub settings: Option<Settings>,
    /// Registered at start; a reset keeps them.
    pub clients: Vec<ClientSpec>,
    /// Registered at start; a reset keeps them.
    pub users: Vec<UserSpec>,
    /// Registered at start (a reset forgets them).
    pub resources: Vec<ResourceSpec>,
    /// Queued `/authorize` outcomes, in order.
    pub authorize: Vec<AuthorizeScript>,
    /// Faults armed at start, in order (the first that matches answers).
    pub faults: Vec<ScenarioFault>,
}

// Users hold passwords and clients secrets: list only how many.
impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("settings", &self.settings.is_some())
            .field("clients", &self.clients.len())
            .field("users", &self.users.len())
            .field("resources", &self.resources.len())
            .field("authorize", &self.authorize.len())
            .field("faults", &self.faults)
            .finish()
    }
}

/// One fault of a scenario: a named preset (with optional overrides) or a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum ScenarioFault {
    Preset {
        name: String,
        matcher: Option<Matcher>,
        /// `None`: the preset's own count; `Some(None)`: every matching request.
        count: Option<Option<u32>>,
    },
    Rule(FaultSpec),
}

/// The file's shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Free text for the reader of the file.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    settings: Option<Settings>,
    #[serde(default)]
    clients: Vec<ClientSpec>,
    #[serde(default)]
    users: Vec<UserSpec>,
    #[serde(default)]
    resources: Vec<ResourceSpec>,
    #[serde(default)]
    authorize: Vec<AuthorizeScript>,
    #[serde(default)]
    faults: Vec<FaultEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultEntry {
    #[serde(default)]
    preset: Option<String>,
    #[serde(default, rename = "match")]
    matcher: Option<Matcher>,
    /// A number, `null` (JSON) or `"every"` (TOML has no null).
    #[serde(default, deserialize_with = "present")]
    count: Option<Value>,
    #[serde(default)]
    effect: Option<Effect>,
    #[serde(default)]
    label: Option<String>,
}

/// Keeps an explicit `null` apart from an absent member.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Scenario {
    /// Reads a file: TOML when its name ends in `.toml`, JSON otherwise.
    pub fn from_path(path: &Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: origin.clone(),
            source,
        })?;
        let toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if toml {
            Scenario::from_toml(&text, &origin)
        } else {
            Scenario::from_json(&text, &origin)
        }
    }

    /// Parses JSON; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let json_error = |path: String, e: serde_json::Error| {
            let at = (e.line(), e.column());
            // serde_json's text ends with the position, which is said again below.
            let full = e.to_string();
            let message = full
                .strip_suffix(&format!(" at line {} column {}", at.0, at.1))
                .unwrap_or(&full);
            syntax(origin, &path, message, (at.0 > 0).then_some(at))
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let file: File = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| json_error(e.path().to_string(), e.into_inner()))?;
        de.end().map_err(|e| json_error(".".into(), e))?;
        Scenario::check(file, origin)
    }

    /// Parses TOML; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        // Not the error's `Display`: it quotes the whole offending line.
        let toml_error = |path: String, e: toml::de::Error| {
            let at = e.span().map(|span| line_and_column(text, span.start));
            syntax(origin, &path, e.message(), at)
        };
        let de = toml::Deserializer::parse(text).map_err(|e| toml_error(".".into(), e))?;
        let file: File = serde_path_to_error::deserialize(de)
            .map_err(|e| toml_error(e.path().to_string(), e.into_inner()))?;
        Scenario::check(file, origin)
    }

    fn check(file: File, origin: &str) -> Result<Scenario, ScenarioError> {
        let entry_error = |entry: String, message: String| ScenarioError::Entry {
            origin: origin.to_owned(),
            entry,
            message,
        };
        let mut faults = Vec::with_capacity(file.faults.len());
        for (i, f) in file.faults.into_iter().enumerate() {
            let at = format!("faults[{i}]");
            let count = match f.count {
                None => None,
                Some(v) => Some(count(&v).map_err(|m| entry_error(format!("{at}.count"), m))?),
            };
            let fault = match (f.preset, f.effect) {
                (Some(name), None) => {
                    if f.label.is_some() {
                        return Err(entry_error(at, "a preset has its own label".into()));
                    }
                    if presets::find(&name).is_none() {
                        return Err(entry_error(
                            format!("{at}.preset"),
                            format!("no preset {name:?} (GET /_admin/presets lists them)"),
                        ));
                    }
                    ScenarioFault::Preset {
                        name,
                        matcher: f.matcher,
                        count,
                    }
                }
                (None, Some(effect)) => {
                    let spec = FaultSpec {
                        matcher: f.matcher.unwrap_or_default(),
                        count: count.unwrap_or(Some(1)),
                        effect,
                        label: f.label,
                    };
                    spec.validate().map_err(|m| entry_error(at, m))?;
                    ScenarioFault::Rule(spec)
                }
                (Some(_), Some(_)) => {
                    return Err(entry_error(
                        at,
                        "give either preset or effect, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(entry_error(
                        at,
                        "needs preset (a name) or effect (a rule)".into(),
                    ))
                }
            };
            faults.push(fault);
        }
        for (i, c) in file.clients.iter().enumerate() {
            if c.client_id.trim().is_empty() {
                return Err(entry_error(
                    format!("clients[{i}].client_id"),
                    "is required".into(),
                ));
            }
        }
        for (i, u) in file.users.iter().enumerate() {
            if u.username.trim().is_empty() {
                return Err(entry_error(
                    format!("users[{i}].username"),
                    "is required".into(),
                ));
            }
        }
        Ok(Scenario {
            settings: file.settings,
            clients: file.clients,
            users: file.users,
            resources: file.resources,
            authorize: file.authorize,
            faults,
        })
    }

    /// Arms what a reset does not keep (resources, sign-in scripts, faults)
    /// on a started emulator; the builder has already taken settings,
    /// clients and users. Returns the fault rules' ids.
    pub(crate) fn arm(&self, admin: &Admin) -> Result<Vec<u64>, String> {
        let named = |what: String| move |e: AdminError| format!("scenario: {what}: {e}");
        for (i, r) in self.resources.iter().enumerate() {
            admin
                .register_resource(r.clone())
                .map_err(named(format!("resources[{i}]")))?;
        }
        for (i, s) in self.authorize.iter().enumerate() {
            admin
                .script_authorize(s.clone())
                .map_err(named(format!("authorize[{i}]")))?;
        }
        let mut ids = Vec::with_capacity(self.faults.len());
        for (i, f) in self.faults.iter().enumerate() {
            let id = match f {
                ScenarioFault::Preset {
                    name,
                    matcher,
                    count,
                } => admin.arm_preset(
                    name,
                    PresetArm {
                        matcher: matcher.clone(),
                        count: count.map(|c| c.map_or(Value::Null, Value::from)),
                    },
                ),
                ScenarioFault::Rule(spec) => admin.add_fault(spec.clone()),
            }
            .map_err(named(format!("faults[{i}]")))?;
            ids.push(id);
        }
        Ok(ids)
    }
}

/// A parser's error as the scenario's: the field's path (`users[0].password`;
/// `.` for the file itself), the message without the value it may quote
/// (a password of the wrong type would otherwise be printed), the position.
fn syntax(origin: &str, path: &str, message: &str, at: Option<(usize, usize)>) -> ScenarioError {
    let mut message = without_value(message.trim_end());
    if path != "." {
        message = format!("{path}: {message}");
    }
    if let Some((line, column)) = at {
        message = format!("{message} (line {line}, column {column})");
    }
    ScenarioError::Syntax {
        origin: origin.to_owned(),
        message,
    }
}

/// serde's type and value errors quote what they found ("invalid type:
/// string \"...\", expected u64"); keeps only its kind ("string").
fn without_value(message: &str) -> String {
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(lead) {
            let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            let kind = found.split(['`', '"']).next().unwrap_or_default().trim();
            return match expected {
                "" => format!("{lead}{kind}"),
                _ => format!("{lead}{kind}, expected {expected}"),
            };
        }
    }
    message.to_owned()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// A count: a positive number of requests, or every one (`null`, `"every"`).
fn count(v: &Value) -> Result<Option<u32>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s == "every" => Ok(None),
        _ => v
            .as_u64()
            .filter(|n| *n > 0)
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("must be a positive integer, null or \"every\", not {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_err(text: &str) -> String {
        Scenario::from_json(text, "s.json").unwrap_err().to_string()
    }

    #[test]
    fn json_and_toml_say_the_same() {
        let json = r#"{
          "settings": {"device_code_interval_secs": 0},
          "users": [{"username": "grace@contoso.example", "password": "pw", "tenant": "contoso.example"}],
          "faults": [
            {"preset": "throttled_429", "count": 2},
            {"match": {"endpoint": "token"}, "count": null,
             "effect": {"kind": "status", "status": 503}}
          ]
        }"#;
        let toml = r#"
          [settings]
          device_code_interval_secs = 0

          [[users]]
          username = "grace@contoso.example"
          password = "pw"
          tenant = "contoso.example"

          [[faults]]
          preset = "throttled_429"
          count = 2

          [[faults]]
          match = { endpoint = "token" }
          count = "every"
          effect = { kind = "status", status = 503 }
        "#;
        let a = Scenario::from_json(json, "a.json").unwrap();
        let b = Scenario::from_toml(toml, "b.toml").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.faults.len(), 2);
        assert!(matches!(
            &a.faults[1],
            ScenarioFault::Rule(FaultSpec { count: None, .. })
        ));
        assert!(!format!("{a:?}").contains("pw"));
    }

    #[test]
    fn errors_name_the_line_or_the_entry() {
        let e = json_err("{\n  \"faults\": [\n    {\"preset\": \"x\", \"cuont\": 1}\n  ]\n}");
        assert!(
            e.contains("unknown field `cuont`") && e.contains("line 3"),
            "{e}"
        );

        let e = json_err(r#"{"faults": [{"preset": "throttled_429"}, {"preset": "nope"}]}"#);
        assert!(e.contains("faults[1].preset") && e.contains("nope"), "{e}");

        let e = json_err(r#"{"faults": [{"count": 0, "preset": "throttled_429"}]}"#);
        assert!(e.contains("faults[0].count"), "{e}");

        let e = json_err(r#"{"faults": [{"match": {"endpoint": "token"}}]}"#);
        assert!(e.contains("faults[0]") && e.contains("preset"), "{e}");

        let e = json_err(r#"{"faults": [{"effect": {"kind": "delay", "ms": 99999999}}]}"#);
        assert!(e.contains("faults[0]"), "{e}");

        let e = json_err(r#"{"users": [{"password": "pw"}]}"#);
        assert!(e.contains("users[0].username"), "{e}");
        assert!(!e.contains("pw\""), "{e}");

        let e = Scenario::from_toml("[settings]\nbogus = 1\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("bogus"), "{e}");
    }

    fn toml_err(text: &str) -> String {
        Scenario::from_toml(text, "s.toml").unwrap_err().to_string()
    }

    /// A secret of the wrong type (or on the same line as another mistake)
    /// is named by its field and position, never quoted: the error is
    /// printed to a CI log.
    #[test]
    fn errors_never_quote_a_value() {
        let e = json_err(
            "{\"users\": [\n  {\"username\": \"a@b.example\",\n   \"password\": 31415926535}\n]}",
        );
        assert!(e.contains("users[0].password"), "{e}");
        assert!(e.contains("line 3") && e.contains("integer"), "{e}");
        assert!(!e.contains("31415926535"), "{e}");

        let e = json_err(r#"{"clients": [{"client_id": "c", "secret": true}]}"#);
        assert!(
            e.contains("clients[0].secret") && e.contains("line 1"),
            "{e}"
        );
        assert!(!e.contains("true"), "{e}");

        let e = json_err(
            r#"{"clients": [{"client_id": "c", "refresh_in": "s3cr3t-in-the-wrong-place"}]}"#,
        );
        assert!(e.contains("clients[0].refresh_in"), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");

        let e = toml_err("[[users]]\nusername = \"a@b.example\"\npassword = 31415926535\n");
        assert!(e.contains("users[0].password"), "{e}");
        assert!(e.contains("line 3") && e.contains("column 12"), "{e}");
        assert!(!e.contains("31415926535"), "{e}");

        // TOML's own message shows the offending line: a correct password
        // beside the mistake would be printed with it.
        let e = toml_err(
            "users = [{ username = \"a@b.example\", password = \"hunter2-SECRET\", bogus = 1 }]\n",
        );
        assert!(e.contains("bogus") && e.contains("line 1"), "{e}");
        assert!(!e.contains("hunter2-SECRET"), "{e}");

        // An unterminated string: the parser's message names no value either.
        let e = toml_err("[[clients]]\nclient_id = \"c\"\nsecret = \"s3cr3t\nx\n");
        assert!(e.contains("(line "), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");
    }
}
