//! No panic crosses the boundary from an async export or a foreign callback,
//! and the foreign logger receives idflow's events without secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow_ffi::*;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Collect(Mutex<Vec<(LogLevel, String, bool)>>);

impl Logger for Collect {
    fn log(&self, level: LogLevel, message: String, contains_pii: bool) {
        self.0.lock().unwrap().push((level, message, contains_pii));
    }
}

/// A logger that fails on every line, as a foreign one might.
struct Exploding;

impl Logger for Exploding {
    fn log(&self, _: LogLevel, _: String, _: bool) {
        panic!("the logger is broken");
    }
}

fn unreachable_app() -> Arc<ConfidentialClientApplication> {
    // Port 1 on loopback refuses at once; no server is needed.
    ConfidentialClientApplication::new(
        AppConfig {
            client_id: "c".into(),
            authority: "http://127.0.0.1:1/contoso.example".into(),
            oidc_authority: false,
            extra_root_certificates_pem: vec![],
            timeout_ms: Some(2000),
            connect_timeout_ms: Some(1000),
            proxies: Default::default(),
            proxies_from_environment: true,
            http_client: None,
            http_cache: None,
            validate_authority: false,
            client_sku: None,
            token_cache: None,
            client_capabilities: vec![],
            retry_enabled: true,
            retry_delay_ms: None,
            azure_region: None,
            app_name: None,
            app_version: None,
            exclude_scopes: vec![],
            client_claims_json: None,
        },
        ClientCredential::Secret {
            secret: "LOGGED-SECRET-1".into(),
        },
    )
    .expect("app")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_panic_becomes_a_classified_internal_error() {
    let err = self_test_panic_async()
        .await
        .expect_err("reported as an error");
    let info = err.info();
    assert_eq!(info.code, "internal_error");
    assert_eq!(info.swift.internal_code, Some(-42008));
    assert!(matches!(err, AuthError::Client { .. }));
}

// One test owns the process-wide logger, so the steps run in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_foreign_logger_gets_events_and_a_failing_one_is_contained() {
    let sink = Arc::new(Collect::default());
    set_pii_logging_enabled(false);
    set_logger(Some(sink.clone()), LogLevel::Debug).expect("installed");
    let err = unreachable_app()
        .acquire_token_for_client(vec!["api://x/.default".into()], None)
        .await
        .expect_err("nothing listens on port 1");
    assert_eq!(err.info().kind, ErrorKind::Network);
    let lines = sink.0.lock().unwrap().clone();
    let text = format!("{lines:?}");
    assert!(
        lines
            .iter()
            .any(|(l, m, _)| *l == LogLevel::Warning && m.starts_with("no answer")),
        "{text}"
    );
    assert!(
        lines.iter().any(|(l, m, _)| *l == LogLevel::Debug
            && m.starts_with("request sent")
            && m.contains("correlation_id=")),
        "{text}"
    );
    // Without PII the tenant in the path is masked.
    assert!(!text.contains("contoso.example"), "{text}");
    assert!(lines.iter().all(|(_, _, pii)| !pii), "{text}");
    assert!(!text.contains("LOGGED-SECRET-1"), "{text}");

    // Trace is more verbose than debug; error-only drops the warnings.
    set_logger(Some(sink.clone()), LogLevel::Error).expect("level changed");
    sink.0.lock().unwrap().clear();
    let _ = unreachable_app()
        .acquire_token_for_client(vec!["api://x/.default".into()], None)
        .await;
    assert!(sink.0.lock().unwrap().is_empty());

    // PII on: the tenant shows, flagged; the secret still does not.
    set_pii_logging_enabled(true);
    assert!(pii_logging_enabled());
    set_logger(Some(sink.clone()), LogLevel::Trace).expect("level changed");
    let _ = unreachable_app()
        .acquire_token_for_client(vec!["api://x/.default".into()], None)
        .await;
    let lines = sink.0.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|(_, m, pii)| *pii && m.contains("contoso.example")),
        "{lines:?}"
    );
    assert!(!format!("{lines:?}").contains("LOGGED-SECRET-1"));
    set_pii_logging_enabled(false);

    // A logger that panics on every line: the flow still ends classified.
    set_logger(Some(Arc::new(Exploding)), LogLevel::Trace).expect("installed");
    let err = unreachable_app()
        .acquire_token_for_client(vec!["api://x/.default".into()], None)
        .await
        .expect_err("still a network error");
    assert_eq!(err.info().kind, ErrorKind::Network);
    set_logger(None, LogLevel::Trace).expect("removed");
}

/// Cache storage whose every call panics, as a broken foreign one might.
struct PanickingStorage;

impl CacheStorage for PanickingStorage {
    fn load(&self) -> Result<Option<Vec<u8>>, AuthError> {
        panic!("storage is broken");
    }
    fn save(&self, _: Vec<u8>) -> Result<(), AuthError> {
        panic!("storage is broken");
    }
    fn version(&self) -> Result<Option<String>, AuthError> {
        panic!("storage is broken");
    }
}

#[test]
fn a_panicking_cache_storage_is_a_storage_failure() {
    let cache = TokenCache::new();
    let err = cache
        .attach_storage(Arc::new(PanickingStorage))
        .expect_err("the storage cannot load");
    assert_eq!(err.info().code, "cache_storage_failed", "{err:?}");
    // The cache itself still works.
    assert!(cache.deserialize(String::new()).is_ok());
}
