use super::*;
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/www_authenticate.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn headers(case: &Value) -> Vec<(String, String)> {
    case["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_owned(),
                h[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn shared_vectors() {
    let cases = vectors();
    assert!(cases.len() >= 12, "{}", cases.len());
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let h = headers(case);
        let parsed = parse_www_authenticate_headers(&h);
        if let Some(code) = case["error"].as_str() {
            let e = parsed.expect_err(name);
            assert_eq!(e.code, code, "{name}");
            assert_eq!(e.kind, crate::ErrorKind::Client, "{name}");
        } else {
            let parsed = parsed.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let got = serde_json::to_value(&parsed).unwrap();
            assert_eq!(got, case["challenges"], "{name}");
            let first = parsed.first();
            assert_eq!(
                first.and_then(AuthChallenge::claims).as_deref(),
                case["claims"].as_str(),
                "{name}"
            );
            assert_eq!(
                first.and_then(AuthChallenge::authority).as_deref(),
                case["authority"].as_str(),
                "{name}"
            );
        }
        assert_eq!(
            claims_challenge(&h).as_deref(),
            case["claims_challenge"].as_str(),
            "{name}"
        );
    }
}

#[test]
fn get_is_case_insensitive() {
    let c = parse_www_authenticate(r#"Bearer Realm="r", ERROR="e""#).unwrap();
    assert_eq!(c[0].get("REALM"), Some("r"));
    assert_eq!(c[0].error(), Some("e"));
    assert!(!c[0].is_claims_challenge());
}

#[test]
fn never_panics_on_junk() {
    let junk = [
        "",
        ",",
        "=",
        "==",
        "\"",
        "Bearer =",
        "Bearer a=\"\\",
        "Bearer a=b=c",
        "Bearer ,,, x",
        "Bearer a=\"x\" b=\"y\"",
        "\u{0}\u{ffff}",
        "Basic ====",
        "a= ",
        "Bearer realm=",
    ];
    for j in junk {
        let _ = parse_www_authenticate(j);
    }
    assert_eq!(parse_www_authenticate("").unwrap(), vec![]);
    let c = parse_www_authenticate(r#"Bearer a="x" b="y""#).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].get("b"), Some("y"));
}

#[test]
fn decode_claims_only_when_it_is_a_json_object() {
    use base64::engine::general_purpose::STANDARD;
    assert_eq!(
        decode_claims(&STANDARD.encode("[1]")),
        STANDARD.encode("[1]")
    );
    assert_eq!(decode_claims(&STANDARD.encode("{\"a\":1}")), "{\"a\":1}");
    assert_eq!(decode_claims("{\"a\":1}"), "{\"a\":1}");
    assert_eq!(decode_claims("abcd"), "abcd");
}
