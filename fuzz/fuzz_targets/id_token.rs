//! An id token from a provider, any string: decoding, claim extraction and
//! validation against fixed expectations, and signature checks against a
//! fixed key set, must all end in a verdict without panicking.
#![no_main]

use idflow::parsers::{check_claims, verify_with, Expected, IdTokenClaims};
use idflow::jwt::{self, Jwk};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

fn keys() -> &'static Vec<Jwk> {
    static KEYS: OnceLock<Vec<Jwk>> = OnceLock::new();
    KEYS.get_or_init(|| {
        serde_json::from_str(
            r#"[
              {"kty":"RSA","kid":"k1","use":"sig","e":"AQAB",
               "n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"},
              {"kty":"EC","kid":"k2","crv":"P-256",
               "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
              {"kty":"RSA","kid":"bad","n":"AA","e":""}
            ]"#,
        )
        .unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(decoded) = jwt::decode(raw) else {
        return;
    };
    let _ = decoded.alg();
    let _ = decoded.kid();
    let _ = verify_with(&decoded, keys());
    for key in keys() {
        let _ = jwt::verify(&decoded, key);
    }
    let claims = IdTokenClaims::from_map(decoded.claims.clone());
    let _ = claims.username();
    let _ = format!("{claims:?}");
    for nonce in [None, Some("n-0123456789")] {
        let expected = Expected {
            issuer: "https://login.example/{tenantid}/v2.0",
            client_id: "client-1",
            nonce,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        };
        if let Err((code, why)) = check_claims(&claims, &expected) {
            assert!(!code.as_str().is_empty() && !why.is_empty());
        }
    }
});
