//! The records that cross the boundary holding a secret (a proxy password,
//! a managed identity's header secret, a Basic `Authorization` value, a
//! form value, a token) print without it: their `Debug` is also what each
//! language shows (`#[uniffi::export(Debug, Display)]`: Kotlin `toString`,
//! Swift `description`, Python `repr`/`str`), while the fields still hold
//! the values for the code that uses them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow_ffi::*;
use std::collections::HashMap;

const SECRETS: [&str; 6] = [
    "pw-SECRET-proxy",
    "ih-SECRET-header",
    "ms-SECRET-msi",
    "Basic Y2xpZW50OmNzLVNFQ1JFVA==",
    "fv-SECRET-form",
    "at-SECRET-access",
];

fn assert_no_secret(shown: &str) {
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

fn config() -> AppConfig {
    AppConfig {
        client_id: "client-visible".into(),
        authority: "https://login.microsoftonline.com/common".into(),
        oidc_authority: false,
        extra_root_certificates_pem: vec![],
        timeout_ms: None,
        connect_timeout_ms: None,
        proxies: HashMap::from([
            (
                "https".to_owned(),
                "http://ada:pw-SECRET-proxy@proxy.example:3128".to_owned(),
            ),
            ("no_proxy".to_owned(), "localhost".to_owned()),
        ]),
        proxies_from_environment: false,
        http_client: None,
        validate_authority: true,
        client_sku: None,
        token_cache: None,
        client_capabilities: vec!["cp1".into()],
        retry_enabled: true,
        retry_delay_ms: None,
        azure_region: None,
        app_name: None,
        app_version: None,
        exclude_scopes: vec![],
        client_claims_json: None,
        http_cache: None,
    }
}

#[test]
fn an_app_config_shows_its_proxies_without_their_password() {
    let config = config();
    let shown = format!("{config:?}");
    assert_no_secret(&shown);
    for visible in ["client-visible", "proxy.example:3128", "no_proxy", "cp1"] {
        assert!(shown.contains(visible), "{visible} missing from {shown}");
    }
    assert_eq!(format!("{config}"), shown);
    assert!(config.proxies["https"].contains("pw-SECRET-proxy"));
}

#[test]
fn a_managed_identity_config_names_its_variables_but_not_their_values() {
    let config = ManagedIdentityConfig {
        environment: Some(HashMap::from([
            (
                "IDENTITY_ENDPOINT".to_owned(),
                "http://127.0.0.1:1/msi".to_owned(),
            ),
            ("IDENTITY_HEADER".to_owned(), "ih-SECRET-header".to_owned()),
            ("MSI_SECRET".to_owned(), "ms-SECRET-msi".to_owned()),
        ])),
        ..ManagedIdentityConfig::default()
    };
    let shown = format!("{config:?}");
    assert_no_secret(&shown);
    assert!(shown.contains("IDENTITY_HEADER"), "{shown}");
    assert_eq!(format!("{config}"), shown);
}

#[test]
fn headers_form_fields_and_answers_hide_credentials() {
    let auth = Header {
        name: "Authorization".into(),
        value: "Basic Y2xpZW50OmNzLVNFQ1JFVA==".into(),
    };
    let plain = Header {
        name: "retry-after".into(),
        value: "30".into(),
    };
    let shown = format!("{auth:?} {auth} {plain:?}");
    assert_no_secret(&shown);
    assert!(
        shown.contains("Authorization") && shown.contains("30"),
        "{shown}"
    );

    let field = FormField {
        name: "client_secret".into(),
        value: "fv-SECRET-form".into(),
    };
    let answer = HttpClientResponse {
        status: 200,
        headers: vec![plain],
        body: br#"{"access_token":"at-SECRET-access"}"#.to_vec(),
    };
    let stored = PartitionData {
        data: b"at-SECRET-access".to_vec(),
        version: Some("v7".into()),
    };
    let shown = format!("{field:?} {field} {answer:?} {answer} {stored:?} {stored}");
    assert_no_secret(&shown);
    assert!(
        shown.contains("client_secret") && shown.contains("200") && shown.contains("v7"),
        "{shown}"
    );
}
