//! `idflow explain`.

use idflow::error::aadsts::{self, AadstsRow, FixedBy};
use idflow::error::{Action, ErrorKind, Flow, HttpResponse};
use idflow::idioms;
use serde_json::{json, Value};
use std::io::Read;
use std::process::ExitCode;

/// Inputs larger than this are refused before parsing (a body is capped by the core anyway).
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

pub fn run(
    query: Option<String>,
    response: Option<String>,
    compact: bool,
) -> Result<ExitCode, String> {
    let out = match (query, response) {
        (_, Some(file)) => explain_response(&read_input(&file)?)?,
        (Some(q), None) => match idflow::explain::explain(&q) {
            Ok(e) => idioms::report(&e),
            Err(e) => return Err(e.message),
        },
        (None, None) => {
            return Err("give an AADSTS number or code, or --response FILE (see --help)".into())
        }
    };
    let is_error = out.get("outcome").and_then(Value::as_str) != Some("success");
    let text = if compact {
        out.to_string()
    } else {
        serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
    };
    crate::emit(&text);
    Ok(if is_error {
        ExitCode::from(crate::exit::REFUSED)
    } else {
        ExitCode::from(crate::exit::OK)
    })
}

/// `explain --list` filters; each must be one of its type's values.
pub struct Filter {
    pub action: Option<String>,
    pub kind: Option<String>,
    pub fixed_by: Option<String>,
}

fn check<'a>(
    what: &str,
    value: Option<&'a str>,
    known: &[&str],
) -> Result<Option<&'a str>, String> {
    match value {
        Some(v) if !known.contains(&v) => {
            Err(format!("unknown {what} {v:?}; one of {}", known.join(", ")))
        }
        v => Ok(v),
    }
}

/// `idflow explain --list`: the AADSTS table, as text or JSON.
pub fn list(filter: &Filter, as_json: bool) -> Result<ExitCode, String> {
    let actions: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    let who: Vec<&str> = FixedBy::ALL.iter().map(|f| f.as_str()).collect();
    let action = check("action", filter.action.as_deref(), &actions)?;
    let kind = check("kind", filter.kind.as_deref(), &kinds)?;
    let fixed_by = check("fixed_by", filter.fixed_by.as_deref(), &who)?;
    let rows: Vec<&AadstsRow> = aadsts::AADSTS
        .iter()
        .filter(|r| action.is_none_or(|a| r.action.as_str() == a))
        .filter(|r| kind.is_none_or(|k| r.kind.as_str() == k))
        .filter(|r| fixed_by.is_none_or(|f| r.fixed_by.as_str() == f))
        .collect();
    let source = &aadsts::table().source;
    if as_json {
        let out = json!({
            "source": source,
            "count": rows.len(),
            "codes": rows,
        });
        crate::emit(&serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
        return Ok(ExitCode::from(crate::exit::OK));
    }
    let mut text = format!(
        "{} of {} AADSTS numbers (from {} {} @ {:.8}, dated {}):\n",
        rows.len(),
        aadsts::AADSTS.len(),
        source.repo,
        source.path,
        source.commit,
        source.date
    );
    for r in rows {
        let class = r
            .classification
            .map(|c| format!(" ({})", c.as_str()))
            .unwrap_or_default();
        let sub = r.suberror.map(|s| format!(" + {s}")).unwrap_or_default();
        let label = if r.name_published {
            ""
        } else {
            " [name not published]"
        };
        text.push_str(&format!(
            "\nAADSTS{} {}{label}\n  usually {}{sub} · {}{class} · {} · fixed by {}\n  {}\n",
            r.number,
            r.name,
            r.error,
            r.kind.as_str(),
            r.action.as_str(),
            r.fixed_by.as_str(),
            r.mitigation
        ));
    }
    crate::emit(text.trim_end());
    Ok(ExitCode::from(crate::exit::OK))
}

fn read_input(file: &str) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let read = if file == "-" {
        std::io::stdin().take(MAX_INPUT_BYTES).read_to_end(&mut buf)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_INPUT_BYTES).read_to_end(&mut buf))
    };
    read.map_err(|e| format!("cannot read {file}: {e}"))?;
    Ok(buf)
}

/// `{"status": 400, "headers": {...} | [[name, value], ...], "body": "..." | {...}, "flow": "token"}`
fn explain_response(input: &[u8]) -> Result<Value, String> {
    let v: Value =
        serde_json::from_slice(input).map_err(|e| format!("the response file is not JSON: {e}"))?;
    let status = v
        .get("status")
        .and_then(Value::as_u64)
        .filter(|s| (100..=999).contains(s))
        .ok_or("\"status\" must be an HTTP status number")? as u16;
    let headers = match v.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .flat_map(|(k, v)| match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| (k.clone(), text(i)))
                    .collect::<Vec<_>>(),
                other => vec![(k.clone(), text(other))],
            })
            .collect(),
        Some(Value::Array(pairs)) => pairs
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([n, v]) => Ok((text(n), text(v))),
                _ => Err("each header must be [name, value]".to_owned()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("\"headers\" must be an object or a list of [name, value]".into()),
    };
    let body = match v.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.clone().into_bytes(),
        // A body given as JSON is taken as its serialisation.
        Some(other) => other.to_string().into_bytes(),
    };
    let flow = match v.get("flow").and_then(Value::as_str) {
        None => Flow::Token,
        Some(f) => Flow::parse(f).ok_or_else(|| {
            let known: Vec<&str> = Flow::ALL
                .iter()
                .map(|f| f.as_str())
                .chain(Flow::GRANT_ALIASES)
                .collect();
            format!("unknown flow {f:?}; one of {}", known.join(", "))
        })?,
    };
    let c = idflow::classify(&HttpResponse::new(status, headers, body), flow);
    let mut out = match &c.error {
        Some(e) => idioms::report(e),
        None => json!({ "kind": null, "code": null }),
    };
    if let Value::Object(m) = &mut out {
        m.insert(
            "outcome".into(),
            serde_json::to_value(c.outcome).unwrap_or(Value::Null),
        );
        m.insert(
            "polling".into(),
            serde_json::to_value(c.polling).unwrap_or(Value::Null),
        );
    }
    Ok(out)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
