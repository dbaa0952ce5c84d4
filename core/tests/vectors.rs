//! Runs every case of testdata/vectors.json through the core: the decision,
//! and each language's view as the core decides it. The language suites run
//! the same file through their bindings and check what their code observes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use base64::Engine;
use idflow::error::{Flow, HttpResponse, IdFlowError, NetworkKind};
use idflow::idioms::{self, PythonView};
use idflow::Outcome;
use serde_json::{json, Map, Value};
use std::time::SystemTime;

fn vectors() -> Vec<Value> {
    load("vectors.json")["cases"]
        .as_array()
        .expect("cases")
        .clone()
}

fn load(file: &str) -> Value {
    let path = format!("{}/../testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// testdata/corpus.json: responses from the MSAL libraries' own test suites.
/// Every case cites its source and the library's decision; where idflow
/// decides otherwise the case says why, and the per-library summary counts
/// the cases and the differences.
fn check_corpus(corpus: &Value) -> Result<(), String> {
    let cases = corpus["cases"].as_array().ok_or("no cases")?;
    if cases.len() < 150 {
        return Err(format!("only {} corpus cases", cases.len()));
    }
    let mut counts: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for c in cases {
        let name = c["name"].as_str().unwrap_or("unnamed");
        let src = &c["source"];
        for key in ["library", "repo", "path", "fixture", "origin"] {
            if src[key].as_str().is_none_or(str::is_empty) {
                return Err(format!("{name}: source.{key} missing"));
            }
        }
        if c["library_decision"].as_str().is_none_or(str::is_empty) {
            return Err(format!("{name}: no library_decision"));
        }
        let x = &c["expect"];
        let idflow = if x["outcome"] == "pending" {
            "pending"
        } else {
            x["kind"].as_str().unwrap_or("")
        };
        let differs = match c["library_kind"].as_str() {
            Some(k) => k != idflow,
            None => false,
        };
        if c["idflow_differs"] != json!(differs) {
            return Err(format!(
                "{name}: idflow_differs does not match the decisions"
            ));
        }
        if differs != c["difference"].as_str().is_some_and(|w| !w.is_empty()) {
            return Err(format!(
                "{name}: a difference needs its reason, and only a difference has one"
            ));
        }
        let e = counts
            .entry(src["library"].as_str().unwrap_or("").to_owned())
            .or_default();
        e.0 += 1;
        e.1 += u64::from(differs);
    }
    for s in corpus["summary"].as_array().ok_or("no summary")? {
        let lib = s["library"].as_str().unwrap_or("");
        let got = counts.remove(lib).unwrap_or_default();
        if (json!(got.0), json!(got.1)) != (s["cases"].clone(), s["differences"].clone()) {
            return Err(format!("summary for {lib} says {s}, the cases say {got:?}"));
        }
    }
    if !counts.is_empty() {
        return Err(format!("libraries missing from the summary: {counts:?}"));
    }
    Ok(())
}

fn body_of(input: &Value) -> Vec<u8> {
    if let Some(s) = input.get("body").and_then(Value::as_str) {
        s.as_bytes().to_vec()
    } else if let Some(b) = input.get("body_base64").and_then(Value::as_str) {
        base64::engine::general_purpose::STANDARD
            .decode(b)
            .expect("base64")
    } else if let Some(r) = input.get("body_repeat") {
        let chunk = r["chunk"].as_str().expect("chunk");
        chunk
            .repeat(r["times"].as_u64().expect("times") as usize)
            .into_bytes()
    } else {
        Vec::new()
    }
}

fn response_of(input: &Value) -> (HttpResponse, Flow) {
    let headers = input["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_owned(),
                h[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let flow = Flow::parse(input["flow"].as_str().expect("flow")).expect("known flow");
    let status = input["status"].as_u64().expect("status") as u16;
    (HttpResponse::new(status, headers, body_of(input)), flow)
}

fn check_subset(
    case: &str,
    what: &str,
    actual: &Map<String, Value>,
    expected: &Value,
    failures: &mut Vec<String>,
) {
    for (k, v) in expected.as_object().into_iter().flatten() {
        if actual.get(k) != Some(v) {
            failures.push(format!(
                "{case}: {what}[{k}] = {:?}, expected {v}",
                actual.get(k)
            ));
        }
    }
}

fn check_absent(
    case: &str,
    what: &str,
    actual: &Map<String, Value>,
    absent: Option<&Value>,
    failures: &mut Vec<String>,
) {
    for k in absent.and_then(Value::as_array).into_iter().flatten() {
        let k = k.as_str().unwrap();
        if actual.contains_key(k) {
            failures.push(format!("{case}: {what} has {k}, expected it absent"));
        }
    }
}

fn check_error(case: &str, e: &IdFlowError, x: &Value, f: &mut Vec<String>) {
    let eq = |f: &mut Vec<String>, what: &str, actual: Value| {
        if let Some(expected) = x.get(what) {
            if &actual != expected {
                f.push(format!("{case}: {what} = {actual}, expected {expected}"));
            }
        }
    };
    eq(f, "kind", json!(e.kind.as_str()));
    eq(f, "code", json!(e.code));
    eq(
        f,
        "classification",
        json!(e.classification.map(|c| c.as_str())),
    );
    eq(f, "retryable", json!(e.retryable));
    eq(
        f,
        "retry_after_secs",
        json!(e.retry_after.map(|d| d.as_secs())),
    );
    eq(f, "action", json!(e.action.as_str()));
    eq(f, "aadsts", json!(e.aadsts()));
    if e.message.is_empty() || e.mitigation.is_empty() {
        f.push(format!("{case}: empty message or mitigation"));
    }

    let s = idioms::swift(e);
    let xs = &x["swift"];
    if json!(s.domain) != xs["domain"]
        || json!(s.code) != xs["code"]
        || json!(s.internal_code) != xs["internal_code"]
    {
        f.push(format!(
            "{case}: swift ({}, {}, {:?}), expected ({}, {}, {})",
            s.domain, s.code, s.internal_code, xs["domain"], xs["code"], xs["internal_code"]
        ));
    }
    let ui: Map<String, Value> = s
        .user_info
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_json()))
        .collect();
    check_subset(case, "swift.user_info", &ui, &xs["user_info"], f);
    check_absent(case, "swift.user_info", &ui, xs.get("user_info_absent"), f);

    let k = idioms::kotlin(e);
    let xk = &x["kotlin"];
    let reason = e
        .classification
        .filter(|_| k.class == idioms::KotlinClass::InteractionRequiredException)
        .map(idioms::kotlin_reason);
    if json!(k.class.as_str()) != xk["class"]
        || json!(reason) != xk["reason"]
        || json!(k.cause.map(idioms::JavaCause::as_str)) != xk["cause"]
    {
        f.push(format!(
            "{case}: kotlin ({}, {reason:?}, {:?}), expected {xk}",
            k.class.as_str(),
            k.cause
        ));
    }
    if let Some(status) = xk.get("status_code") {
        if json!(e.http_status()) != *status {
            f.push(format!(
                "{case}: kotlin status {:?}, expected {status}",
                e.http_status()
            ));
        }
    }
    if let Some(headers) = xk.get("headers") {
        let map = e
            .service
            .as_ref()
            .map(|s| s.header_map())
            .unwrap_or_default();
        check_subset(
            case,
            "kotlin.headers",
            &serde_json::to_value(&map)
                .unwrap()
                .as_object()
                .unwrap()
                .clone(),
            headers,
            f,
        );
    }

    check_python(case, idioms::python(e), &x["python"], f);
}

fn check_python(case: &str, view: PythonView, xp: &Value, f: &mut Vec<String>) {
    let (form, dict) = match view {
        PythonView::Dict(d) => ("dict", Some(d)),
        PythonView::NoneResult => ("None", None),
        PythonView::Raise { exception, .. } => (exception.as_str(), None),
    };
    if json!(form) != xp["form"] {
        f.push(format!(
            "{case}: python form {form}, expected {}",
            xp["form"]
        ));
    }
    if let Some(d) = dict {
        check_subset(case, "python.dict", &d, &xp["dict"], f);
        check_absent(case, "python.dict", &d, xp.get("absent"), f);
    }
}

/// One test per case, so the runner reports every case it ran.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let cases = vectors();
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(
            names.insert(c["name"].as_str().expect("name").to_owned()),
            "duplicate case name {}",
            c["name"]
        );
    }
    let mut trials = vec![libtest_mimic::Trial::test("at_least_60_cases", {
        let n = cases.len();
        move || {
            if n >= 60 {
                Ok(())
            } else {
                Err(format!("only {n} cases").into())
            }
        }
    })];
    let corpus = load("corpus.json");
    trials.push(libtest_mimic::Trial::test("corpus_sources_and_summary", {
        let corpus = corpus.clone();
        move || check_corpus(&corpus).map_err(Into::into)
    }));
    let corpus_cases = corpus["cases"].as_array().cloned().unwrap_or_default();
    for c in &corpus_cases {
        assert!(
            names.insert(c["name"].as_str().expect("name").to_owned()),
            "duplicate case name {}",
            c["name"]
        );
    }
    trials.extend(cases.into_iter().chain(corpus_cases).map(|c| {
        let name = c["name"].as_str().unwrap_or("unnamed").to_owned();
        libtest_mimic::Trial::test(name, move || {
            let failures = run_case(&c);
            if failures.is_empty() {
                Ok(())
            } else {
                Err(failures.join("\n").into())
            }
        })
    }));
    libtest_mimic::run(&args, trials).exit();
}

fn run_case(c: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    let name = c["name"].as_str().unwrap_or("unnamed");
    let input = &c["input"];
    let x = &c["expect"];
    match input["type"].as_str().unwrap_or("") {
        "response" => {
            let (resp, flow) = response_of(input);
            let decided = idflow::classify_at(&resp, flow, SystemTime::UNIX_EPOCH);
            let outcome = match decided.outcome {
                Outcome::Success => "success",
                Outcome::Pending => "pending",
                Outcome::Error => "error",
            };
            if json!(outcome) != x["outcome"] {
                failures.push(format!(
                    "{name}: outcome {outcome}, expected {}",
                    x["outcome"]
                ));
            }
            let polling = serde_json::to_value(decided.polling).unwrap_or_default();
            if polling != x["polling"] {
                failures.push(format!(
                    "{name}: polling {polling}, expected {}",
                    x["polling"]
                ));
            }
            match (&decided.error, &decided.result) {
                (Some(e), _) => check_error(name, e, x, &mut failures),
                (None, Some(r)) => check_python(
                    name,
                    PythonView::Dict(idioms::python_success(r)),
                    &x["python"],
                    &mut failures,
                ),
                (None, None) => failures.push(format!("{name}: neither error nor result")),
            }
        }
        "transport" => match NetworkKind::parse(input["network"].as_str().unwrap_or("")) {
            Some(kind) => {
                let e = IdFlowError::network(kind, input["detail"].as_str().unwrap_or(""));
                check_error(name, &e, x, &mut failures);
            }
            None => failures.push(format!("{name}: unknown network kind")),
        },
        "explain" => match idflow::explain::explain(input["query"].as_str().unwrap_or("")) {
            Ok(e) => check_error(name, &e, x, &mut failures),
            Err(e) => failures.push(format!("{name}: explain failed: {e}")),
        },
        other => failures.push(format!("{name}: unknown input type {other}")),
    }
    failures
}
