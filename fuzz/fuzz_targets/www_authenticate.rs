//! A resource's WWW-Authenticate header, any text: the challenge parser and
//! the claims-challenge helpers must end in challenges or a classified error,
//! and merging a challenge's claims with capabilities must not panic.
#![no_main]

use idflow::claims_challenge;
use idflow::parsers::{decode_claims, merge_claims, parse_www_authenticate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    match parse_www_authenticate(value) {
        Ok(challenges) => {
            for c in &challenges {
                assert!(!c.scheme.is_empty());
                let _ = c.error();
                let _ = c.authority();
                let _ = c.is_claims_challenge();
                if let Some(claims) = c.claims() {
                    let _ = merge_claims(Some(&claims), &["cp1".to_owned()]);
                }
            }
        }
        Err(e) => assert_eq!(e.code, "unable_to_parse_authentication_header"),
    }
    let _ = decode_claims(value);
    let headers = vec![
        ("WWW-Authenticate".to_owned(), value.to_owned()),
        ("www-authenticate".to_owned(), "Bearer realm=\"\"".to_owned()),
    ];
    let _ = claims_challenge(&headers);
    let _ = merge_claims(Some(value), &[]);
});
