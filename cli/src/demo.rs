//! `idflow demo`: the seed's scenarios run for real against an emulator
//! started in-process (see [`live`]), each with what happened on the wire, the
//! decision, and what a Swift, Kotlin and Python app observes and should do;
//! then the scenarios that need a Windows sign-in or a browser page,
//! classified from the guide's sample answers. Exits 1 when a live scenario
//! did not end as the guide expects.

mod live;

use crate::terminal::inert;
use idflow::error::{Flow, LocalCode};
use idflow::idioms::{self, PythonView};
use idflow::scenarios::{self, ScenarioInput};
use idflow::{IdFlowError, TokenSource};
use live::Got;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::process::ExitCode;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn title(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn kind_text(&self, code: &str, s: &str) -> String {
        self.paint(code, s)
    }
    fn kind(&self, kind: &str) -> String {
        let color = match kind {
            "interaction_required" => "33",
            "service" => "31",
            "client" => "35",
            "network" => "36",
            "throttled" => "34",
            _ => "32",
        };
        self.paint(color, kind)
    }
}

/// The scenarios the live part cannot run (no Windows sign-in, no browser
/// page here): classified from the guide's sample responses instead.
fn simulated() -> Vec<scenarios::Scenario> {
    scenarios::all()
        .into_iter()
        .filter(|s| match &s.input {
            ScenarioInput::Local(code) => !matches!(code, LocalCode::NoTokensFound),
            ScenarioInput::Response { flow, .. } => {
                matches!(flow, Flow::Authorize | Flow::AuthorizePromptNone)
            }
            ScenarioInput::Network(_) => false,
        })
        .collect()
}

pub fn run(as_json: bool) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let started = std::time::Instant::now();
    let runs = runtime.block_on(live::run_all())?;
    let elapsed = started.elapsed();
    let simulated = simulated();
    let surprises = runs.iter().filter(|r| !r.as_expected()).count();
    if as_json {
        let mut items: Vec<Value> = runs.iter().map(run_json).collect();
        items.extend(simulated.iter().map(|s| {
            json!({
                "scenario": s.title,
                "live": false,
                "decision": s.decide().map(|e| idioms::report(&e)),
            })
        }));
        crate::emit(&serde_json::to_string_pretty(&items).map_err(|e| e.to_string())?);
        return Ok(exit_code(surprises));
    }
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}",
        style.title(&format!(
            "idflow demo: the MSAL error-handling guide's scenarios, {} run live against a local emulator",
            runs.len()
        ))
    );
    let _ = writeln!(
        o,
        "{}",
        style.dim(
            "Each: what happened on the wire, the core's one decision, what a Swift, Kotlin and\n\
             Python app sees, and what it should do. Waits run on a simulated clock.\n"
        )
    );
    for (i, r) in runs.iter().enumerate() {
        let mark = if r.as_expected() {
            String::new()
        } else {
            style.paint("31", "  (not what the guide expects)")
        };
        let _ = writeln!(
            o,
            "{} {}{mark}",
            style.title(&format!("{:>2}.", i + 1)),
            style.title(&r.title)
        );
        for line in &r.wire {
            let _ = writeln!(o, "    wire      {}", inert(line));
        }
        if !r.waits.is_empty() {
            let waits: Vec<String> = r
                .waits
                .iter()
                .map(|d| format!("{} s", d.as_secs()))
                .collect();
            let _ = writeln!(o, "    waited    {}", waits.join(", "));
        }
        match &r.got {
            Got::Token { source } => {
                let from = match source {
                    TokenSource::Cache => "from the cache, no request",
                    TokenSource::IdentityProvider => "from the identity provider",
                };
                let _ = writeln!(
                    o,
                    "    got       {} {from}",
                    style.kind_text("32", "a token")
                );
                let _ = writeln!(
                    o,
                    "    swift     the token; kotlin: the TokenResult; python: {{'access_token': ..., 'token_source': '{}'}}\n",
                    if matches!(source, TokenSource::Cache) { "cache" } else { "identity_provider" }
                );
            }
            Got::Error(e) => {
                describe(&mut o, &style, e);
                if let Some(f) = &r.follow_up {
                    let _ = writeln!(o, "    then      {}", inert(f));
                }
                o.push('\n');
            }
        }
    }
    let _ = writeln!(
        o,
        "{}",
        style.title(&format!(
            "Classified from the guide's sample answers (not run live: no Windows sign-in or browser page here), {}:",
            simulated.len()
        ))
    );
    o.push('\n');
    for (i, s) in simulated.iter().enumerate() {
        let Some(e) = s.decide() else { continue };
        let _ = writeln!(
            o,
            "{} {}",
            style.title(&format!("{:>2}.", runs.len() + i + 1)),
            style.title(&s.title)
        );
        describe(&mut o, &style, &e);
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "{}",
        style.dim(&format!(
            "{} live scenarios in {:.1} s{}",
            runs.len(),
            elapsed.as_secs_f64(),
            if surprises == 0 {
                ", each as the guide expects".to_owned()
            } else {
                format!(", {surprises} not as the guide expects")
            }
        ))
    );
    crate::emit_composed(o.trim_end());
    Ok(exit_code(surprises))
}

/// 0 when every live scenario ended as the guide expects, else 1.
fn exit_code(surprises: usize) -> ExitCode {
    if surprises == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::REFUSED)
    }
}

fn run_json(r: &live::Run) -> Value {
    let got = match &r.got {
        Got::Token { source } => json!({
            "token": true,
            "token_source": match source { TokenSource::Cache => "cache", TokenSource::IdentityProvider => "identity_provider" },
        }),
        Got::Error(e) => json!({ "token": false, "decision": idioms::report(e) }),
    };
    json!({
        "scenario": r.title,
        "live": true,
        "wire": r.wire,
        "waits_secs": r.waits.iter().map(|d| d.as_secs_f64()).collect::<Vec<_>>(),
        "got": got,
        "expected_kind": r.expected.map(|k| k.as_str()),
        "as_expected": r.as_expected(),
        "follow_up": r.follow_up,
    })
}

/// The decision and each language's view of one failure.
fn describe(o: &mut String, style: &Style, e: &IdFlowError) {
    let class = e
        .classification
        .map(|c| format!(" ({})", c.as_str()))
        .unwrap_or_default();
    let wait = e
        .retry_after
        .map(|d| format!(", retry after {} s", d.as_secs()))
        .unwrap_or_default();
    let aadsts = if e.aadsts().is_empty() {
        String::new()
    } else {
        format!(
            " AADSTS{}",
            e.aadsts()
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let _ = writeln!(
        o,
        "    decision  {}{class} · code {}{aadsts} · action {}{wait}",
        style.kind(e.kind.as_str()),
        inert(&e.code),
        e.action.as_str()
    );
    if let Some(claims) = e.claims() {
        let _ = writeln!(o, "    claims    {}", inert(&truncate(claims, 80)));
    }
    let sw = idioms::swift(e);
    let internal = sw
        .internal_code
        .map(|c| format!(", IdFlowInternalErrorCodeKey {c}"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "    swift     NSError {} {}{internal}",
        sw.domain, sw.code
    );
    let k = idioms::kotlin(e);
    let reason = e
        .classification
        .filter(|_| k.class == idioms::KotlinClass::InteractionRequiredException)
        .map(|c| format!(" reason={}", idioms::kotlin_reason(c)))
        .unwrap_or_default();
    let cause = k
        .cause
        .map(|c| format!(" cause={}", c.as_str()))
        .unwrap_or_default();
    let _ = writeln!(o, "    kotlin    {}{reason}{cause}", k.class.as_str());
    let py = match idioms::python(e) {
        PythonView::Dict(d) => {
            let keys = ["error", "suberror", "classification", "retry_after"];
            let shown: Vec<String> = keys
                .iter()
                .filter_map(|k| d.get(*k).map(|v| format!("'{k}': {}", py_repr(v))))
                .collect();
            format!("{{{}, ...}}", shown.join(", "))
        }
        PythonView::NoneResult => "None (acquire_token_silent found nothing to use)".to_owned(),
        PythonView::Raise { exception, .. } => format!("raises {}", exception.as_str()),
    };
    let _ = writeln!(o, "    python    {}", inert(&py));
    let _ = writeln!(
        o,
        "    {}",
        style.dim(&wrap(e.mitigation, 90, "              "))
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::from("what to do ");
    let mut line_len = out.len();
    for word in text.split_whitespace() {
        if line_len + word.len() + 1 > width {
            out.push('\n');
            out.push_str(indent);
            line_len = indent.len();
        } else if line_len > 0 && !out.ends_with(' ') {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}

/// A JSON value as Python would print it (strings in single quotes).
fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) if !s.contains('\'') => format!("'{s}'"),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}
