//! Hostile bodies never panic and always yield a classified outcome.
//! Deterministic: a fixed-seed generator mutates real error bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::error::{Flow, HttpResponse};
use idflow::{classify_at, Outcome};
use std::time::SystemTime;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: [&str; 4] = [
    r#"{"error":"invalid_grant","error_description":"AADSTS70008: expired","error_codes":[70008],"suberror":"bad_token","claims":"{\"a\":1}"}"#,
    r#"{"error":"authorization_pending","error_codes":["70016"]}"#,
    "error=login_required&error_description=AADSTS50058%3A+x&state=s",
    r#"{"access_token":"t","token_type":"Bearer","expires_in":3600}"#,
];

#[test]
fn mutated_bodies_are_always_classified() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let interesting: &[u8] = b"{}[]\",:\\%&=+0123456789 \xff\xfe\x00abcdefgAADSTS";
    for round in 0..20_000 {
        let mut body = SEEDS[round % SEEDS.len()].as_bytes().to_vec();
        for _ in 0..rng.below(8) + 1 {
            let at = rng.below(body.len() + 1);
            match rng.below(3) {
                0 if !body.is_empty() => {
                    body.remove(at.min(body.len() - 1));
                }
                1 => body.insert(at, interesting[rng.below(interesting.len())]),
                _ => body.truncate(at),
            }
        }
        let status = [200u16, 302, 400, 401, 404, 429, 500, 503][rng.below(8)];
        let flow = Flow::ALL[rng.below(Flow::ALL.len())];
        let headers = vec![(
            "Retry-After".to_owned(),
            String::from_utf8_lossy(&body[..body.len().min(12)]).into_owned(),
        )];
        let c = classify_at(
            &HttpResponse::new(status, headers, body),
            flow,
            SystemTime::UNIX_EPOCH,
        );
        match (&c.outcome, &c.error) {
            (Outcome::Success, None) => assert!(c.result.is_some()),
            (_, Some(e)) => {
                assert!(!e.code.is_empty());
                assert!(!e.mitigation.is_empty());
            }
            other => panic!("unclassified outcome {other:?}"),
        }
    }
}

#[test]
fn secrets_in_bodies_never_reach_messages() {
    let body = br#"{"error":"invalid_grant","refresh_token":"SECRET-RT","access_token":"SECRET-AT","id_token":"SECRET-ID"}"#;
    let c = classify_at(
        &HttpResponse::new(400, vec![], body.to_vec()),
        Flow::Silent,
        SystemTime::UNIX_EPOCH,
    );
    let e = c.error.expect("an error");
    let everything = format!(
        "{e:?} {e} {}",
        serde_json::Value::Object(idflow::idioms::python_dict(&e))
    );
    assert!(!everything.contains("SECRET"), "{everything}");
    let ok = classify_at(
        &HttpResponse::new(200, vec![], br#"{"access_token":"SECRET-AT"}"#.to_vec()),
        Flow::Token,
        SystemTime::UNIX_EPOCH,
    );
    assert!(!format!("{ok:?}").contains("SECRET"));
}
