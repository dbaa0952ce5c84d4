//! The error classifier over arbitrary statuses, headers (Retry-After, Date,
//! content type, correlation id) and bodies, for every flow: it must always
//! decide, and its decision must be self-consistent.
#![no_main]

use arbitrary::Arbitrary;
use idflow::error::{parse_error_body, parse_retry_after, read_body, Flow, HttpResponse};
use idflow::{ErrorKind, Outcome};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

#[derive(Arbitrary, Debug)]
struct Input {
    status: u16,
    flow: u8,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    received_secs: u32,
}

fuzz_target!(|input: Input| {
    let flow = Flow::ALL[usize::from(input.flow) % Flow::ALL.len()];
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(input.received_secs));
    let response = HttpResponse::new(input.status, input.headers.clone(), input.body.clone());
    let c = idflow::classify_at(&response, flow, at);
    match c.outcome {
        Outcome::Success => {
            assert!(c.error.is_none() && c.result.is_some());
        }
        Outcome::Pending | Outcome::Error => {
            let e = c.error.as_ref().expect("a failure carries its error");
            assert!(!e.code.is_empty());
            assert_eq!(e.flow, flow);
            if e.kind == ErrorKind::InteractionRequired {
                assert!(e.classification.is_some());
            }
            // Display and serialization never fail or panic.
            let _ = e.to_string();
            let _ = format!("{e:?}");
        }
    }
    let _ = format!("{c:?}");
    for (name, value) in &input.headers {
        if name.eq_ignore_ascii_case("retry-after") {
            let _ = parse_retry_after(value, at);
        }
    }
    let _ = read_body(&input.body, true);
    let _ = read_body(&input.body, false);
    let _ = parse_error_body(&input.body);
});
