//! Unit-test fixtures: a signing key, id tokens, and an app wired to a
//! scripted HTTP client and manual time, with discovery already scripted.

use crate::app::{AppOptions, ConfidentialClientApplication, PublicClientApplication};
use crate::flows::ClientCredential;
use crate::net::clock::ManualTime;
use crate::net::http::Method;
use crate::net::scripted::ScriptedHttp;
use crate::protocol::authority::Authority;
use crate::protocol::jwt::{self, RsaAlg};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::RsaKeyPair;
use serde_json::{json, Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const MS_AUTHORITY: &str = "https://login.microsoftonline.com/common";
pub const MS_TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
pub const MS_DEVICE: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode";
pub const MS_JWKS: &str = "https://login.microsoftonline.com/common/discovery/v2.0/keys";
pub const MS_ISSUER_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
pub const KID: &str = "test-key-1";

/// One RSA key for the whole test run (generation costs ~100 ms in debug).
pub fn key() -> Arc<RsaKeyPair> {
    static KEY: OnceLock<Arc<RsaKeyPair>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()))
        .clone()
}

/// The PKCS#8 DER of an RSA key.
pub fn pkcs8_of(key: &RsaKeyPair) -> Vec<u8> {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    AsDer::<Pkcs8V1Der>::as_der(key).unwrap().as_ref().to_vec()
}

/// A self-signed certificate (DER) for `key`, made with rcgen.
pub fn certificate_der(key: &RsaKeyPair, name: &str) -> Vec<u8> {
    let der = pkcs8_of(key);
    let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls::pki_types::PrivatePkcs8KeyDer::from(der.as_slice()),
        &rcgen::PKCS_RSA_SHA256,
    )
    .unwrap();
    let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.self_signed(&pair).unwrap().der().to_vec()
}

/// A second key, for "wrong key" and rollover cases.
pub fn other_key() -> Arc<RsaKeyPair> {
    static KEY: OnceLock<Arc<RsaKeyPair>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()))
        .clone()
}

pub fn jwks(keys: &[(&RsaKeyPair, &str)]) -> Value {
    json!({ "keys": keys.iter().map(|(k, kid)| jwt::rsa_public_jwk(k, Some(kid))).collect::<Vec<_>>() })
}

pub fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

pub fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims of a valid Microsoft id token at `now`, to be tweaked by the test.
pub fn ms_claims(now: SystemTime) -> Map<String, Value> {
    let v = json!({
        "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "aud": CLIENT_ID,
        "sub": "subject-1",
        "oid": "object-1",
        "tid": TENANT,
        "preferred_username": "user@contoso.com",
        "iat": secs(now),
        "nbf": secs(now),
        "exp": secs(now) + 3600,
    });
    v.as_object().cloned().unwrap()
}

/// An RS256 id token signed by `key` under `kid`.
pub fn sign(key: &RsaKeyPair, kid: &str, claims: &Map<String, Value>) -> String {
    let mut header = Map::new();
    header.insert("kid".into(), kid.into());
    jwt::sign(key, RsaAlg::Rs256, header, claims).unwrap()
}

/// base64url `{"uid":"uid-1","utid":TENANT}`.
pub fn client_info() -> String {
    jwt::b64url(
        json!({"uid": "uid-1", "utid": TENANT})
            .to_string()
            .as_bytes(),
    )
}

/// The Microsoft discovery document for `/common`.
pub fn ms_discovery() -> Value {
    json!({
        "issuer": MS_ISSUER_TEMPLATE,
        "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "token_endpoint": MS_TOKEN,
        "device_authorization_endpoint": MS_DEVICE,
        "jwks_uri": MS_JWKS,
    })
}

/// A scripted HTTP client that already answers discovery and JWKS.
pub fn ms_http() -> ScriptedHttp {
    let http = ScriptedHttp::new();
    http.json(
        Method::Get,
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        200,
        ms_discovery(),
    );
    http.json(Method::Get, MS_JWKS, 200, jwks(&[(&key(), KID)]));
    http
}

pub fn options(http: &ScriptedHttp, time: &ManualTime) -> AppOptions {
    AppOptions::default()
        .with_http_client(Arc::new(http.clone()))
        .with_manual_time(time.clone())
}

pub fn public_app(http: &ScriptedHttp, time: &ManualTime) -> PublicClientApplication {
    let authority = Authority::parse(MS_AUTHORITY).unwrap();
    PublicClientApplication::new(CLIENT_ID, authority, options(http, time)).unwrap()
}

pub fn confidential_app(
    http: &ScriptedHttp,
    time: &ManualTime,
    credential: ClientCredential,
) -> ConfidentialClientApplication {
    let authority = Authority::parse(MS_AUTHORITY).unwrap();
    ConfidentialClientApplication::new(CLIENT_ID, authority, credential, options(http, time))
        .unwrap()
}

/// A successful token response with an id token signed by the test key.
pub fn token_body(now: SystemTime, extra_claims: &[(&str, Value)]) -> Value {
    let mut claims = ms_claims(now);
    for (k, v) in extra_claims {
        claims.insert((*k).to_owned(), v.clone());
    }
    json!({
        "token_type": "Bearer",
        "access_token": "AT-SECRET-VALUE",
        "refresh_token": "RT-SECRET-VALUE",
        "id_token": sign(&key(), KID, &claims),
        "client_info": client_info(),
        "expires_in": "3599",
        "ext_expires_in": 3599,
        "scope": "User.Read openid profile offline_access",
    })
}
