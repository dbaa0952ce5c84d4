//! `idflow demo`: the seed's scenarios, each with the decision and what a
//! Swift, Kotlin and Python app observes and should do.

use idflow::idioms::{self, PythonView};
use idflow::scenarios;
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

pub fn run(as_json: bool) -> Result<ExitCode, String> {
    let all = scenarios::all();
    if as_json {
        let items: Vec<Value> = all
            .iter()
            .map(|s| match s.decide() {
                Some(e) => json!({ "scenario": s.title, "decision": idioms::report(&e) }),
                None => json!({ "scenario": s.title, "decision": null }),
            })
            .collect();
        crate::emit(&serde_json::to_string_pretty(&items).map_err(|e| e.to_string())?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = String::new();
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let _ = writeln!(
        o,
        "{}",
        style.title(&format!(
            "idflow demo: {} scenarios from the MSAL error-handling guide",
            all.len()
        ))
    );
    let _ = writeln!(
        o,
        "{}",
        style
            .dim("Each shows the core's one decision and what an app in each language observes.\n")
    );
    for (i, s) in all.iter().enumerate() {
        let Some(e) = s.decide() else { continue };
        let _ = writeln!(
            o,
            "{} {}",
            style.title(&format!("{:>2}.", i + 1)),
            style.title(&s.title)
        );
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
            e.code,
            e.action.as_str()
        );
        let sw = idioms::swift(&e);
        let internal = sw
            .internal_code
            .map(|c| format!(", IdFlowInternalErrorCodeKey {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "    swift     NSError {} {}{internal}",
            sw.domain, sw.code
        );
        let k = idioms::kotlin(&e);
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
        let py = match idioms::python(&e) {
            PythonView::Dict(d) => {
                let keys = [
                    "error",
                    "suberror",
                    "classification",
                    "retry_after",
                    "claims",
                ];
                let shown: Vec<String> = keys
                    .iter()
                    .filter_map(|k| d.get(*k).map(|v| format!("'{k}': {}", py_repr(v))))
                    .collect();
                format!("{{{}, ...}}", shown.join(", "))
            }
            PythonView::NoneResult => "None (acquire_token_silent found nothing to use)".to_owned(),
            PythonView::Raise { exception, .. } => format!("raises {}", exception.as_str()),
        };
        let _ = writeln!(o, "    python    {py}");
        let _ = writeln!(
            o,
            "    {}\n",
            style.dim(&wrap(e.mitigation, 90, "              "))
        );
    }
    crate::emit(o.trim_end());
    Ok(ExitCode::SUCCESS)
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
