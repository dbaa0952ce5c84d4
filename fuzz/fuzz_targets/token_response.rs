//! A token endpoint's 200 answer, any bytes: the classifier and the token
//! response reader must decide (success or a classified error) without
//! panicking, and a success must hold a non-empty access token.
#![no_main]

use idflow::error::{Flow, HttpResponse};
use idflow::parsers::lifetime_end;
use idflow::MAX_TOKEN_LIFETIME;
use idflow::{ClientInfo, TokenResponse};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

fuzz_target!(|data: &[u8]| {
    let response = HttpResponse::new(200, Vec::new(), data.to_vec());
    for flow in [Flow::Token, Flow::Silent, Flow::DeviceCode] {
        let c = idflow::classify_at(&response, flow, SystemTime::UNIX_EPOCH);
        match (&c.result, &c.error) {
            (Some(map), None) => {
                if let Ok(token) = TokenResponse::from_map(map.clone()) {
                    assert!(!token.access_token.expose().is_empty());
                    let _ = token.scopes();
                    // Every lifetime ends within the cap, from any start.
                    for start in [
                        SystemTime::UNIX_EPOCH,
                        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
                    ] {
                        for secs in [token.expires_in, token.ext_expires_in, token.refresh_in]
                            .into_iter()
                            .flatten()
                        {
                            let end = lifetime_end(start, secs);
                            assert!(end >= start && end <= start + MAX_TOKEN_LIFETIME);
                        }
                    }
                    if let Some(ci) = &token.client_info {
                        let _ = ClientInfo::decode(ci);
                    }
                    // Debug never shows the token (unless the input repeats
                    // its text in a field Debug does show, such as the scope).
                    let shown = format!("{token:?}");
                    let secret = token.access_token.expose().as_bytes();
                    let repeated = data
                        .windows(secret.len().max(1))
                        .filter(|w| *w == secret)
                        .count()
                        > 1;
                    assert!(
                        secret.len() < 12
                            || repeated
                            || !shown.contains(token.access_token.expose())
                    );
                }
            }
            (None, Some(e)) => assert!(!e.code.is_empty()),
            other => panic!("neither a result nor an error: {other:?}"),
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ClientInfo::decode(text);
    }
});
