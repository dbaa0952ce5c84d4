//! A token endpoint's 200 answer, any bytes, through the whole client
//! credentials flow: classification, the token response, the result's
//! expiries, the cache save, a second request served from the cache, the
//! cache serialized and read back, and a request after the longest lifetime.
//! Nothing may panic; an accepted token's expiries stay within
//! `MAX_TOKEN_LIFETIME` of the answer and it is not reused past them.
#![no_main]

use idflow::error::HttpResponse;
use idflow::secret::ClientSecret;
use idflow::{
    AccessTokenQuery, AppOptions, Authority, BoxFuture, ClientCredential,
    ConfidentialClientApplication, HttpClient, HttpRequest, ManualTime, TokenCache, TokenSource,
    TransportError, MAX_TOKEN_LIFETIME,
};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "https://graph.microsoft.com/.default";

/// Answers discovery with a fixed document, the keys with an empty set, and
/// the token endpoint with the fuzzer's bytes.
#[derive(Debug)]
struct Endpoint {
    token_body: Vec<u8>,
}

impl HttpClient for Endpoint {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        let json = vec![("content-type".to_owned(), "application/json".to_owned())];
        let path = request.url.path().to_owned();
        let response = if path.ends_with("/.well-known/openid-configuration") {
            let base = format!("https://login.microsoftonline.com/{TENANT}");
            let doc = serde_json::json!({
                "issuer": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
                "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
                "token_endpoint": format!("{base}/oauth2/v2.0/token"),
                "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
                "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            });
            HttpResponse::new(200, json, doc.to_string())
        } else if path.ends_with("/keys") {
            HttpResponse::new(200, json, r#"{"keys":[]}"#)
        } else {
            HttpResponse::new(200, json, self.token_body.clone())
        };
        Box::pin(async move { Ok(response) })
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let time = ManualTime::new(start);
    let options = AppOptions::default()
        .with_http_client(Arc::new(Endpoint {
            token_body: data.to_vec(),
        }))
        .with_manual_time(time.clone());
    let authority = Authority::parse(&format!("https://login.microsoftonline.com/{TENANT}"))
        .expect("authority");
    let credential = ClientCredential::Secret(ClientSecret::new("fuzz-secret"));
    let app = ConfidentialClientApplication::new(CLIENT, authority, credential, options)
        .expect("the app");
    runtime().block_on(async {
        let Ok(first) = app.acquire_token_for_client(&[SCOPE], None).await else {
            return;
        };
        let cap = start + MAX_TOKEN_LIFETIME;
        assert!(!first.access_token.expose().is_empty());
        assert!(first.expires_on >= start && first.expires_on <= cap);
        for t in [first.ext_expires_on, first.refresh_on]
            .into_iter()
            .flatten()
        {
            assert!(t >= start && t <= cap, "an expiry beyond the cap");
        }
        assert!(first.expires_in(start) <= MAX_TOKEN_LIFETIME.as_secs());

        // Served from the cache (or refreshed early): never a panic.
        if let Ok(second) = app.acquire_token_for_client(&[SCOPE], None).await {
            if second.token_source == TokenSource::Cache {
                assert_eq!(second.access_token.expose(), first.access_token.expose());
            }
        }

        // The cache file round-trips and its lookups do not overflow.
        let text = app.token_cache().serialize();
        let copy = TokenCache::new();
        copy.deserialize(&text)
            .expect("what idflow writes, it reads");
        assert_eq!(copy.serialize(), text);
        let scopes = vec![SCOPE.to_owned()];
        let query = AccessTokenQuery {
            client_id: CLIENT,
            environment: "login.microsoftonline.com",
            realm: TENANT,
            home_account_id: None,
            scopes: &scopes,
        };
        if let Some(found) = copy.access_token(&query, start) {
            assert!(found.expires_on <= cap + Duration::from_secs(1));
        }

        // Past the longest lifetime the token is never served from the cache.
        time.advance(MAX_TOKEN_LIFETIME + Duration::from_secs(1));
        if let Ok(later) = app.acquire_token_for_client(&[SCOPE], None).await {
            assert_eq!(later.token_source, TokenSource::IdentityProvider);
        }
    });
});
