//! Managed identity end to end: idflow's `ManagedIdentityClient` against the
//! emulator's endpoint of every source, for a success (system- and
//! user-assigned where the source has both, then the cache) and each class
//! of error (the service's refusal, a wrong secret, a failing service with
//! the retries, an unparsable answer, an unreachable endpoint, an invalid
//! endpoint, an identity kind the source does not serve).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assertion in a test should panic

use idflow::{
    ErrorKind, ManagedIdentity, ManagedIdentityClient, ManagedIdentityEnvironment,
    ManagedIdentityOptions, ProxyConfig, TokenSource,
};
use idflow_emulator::{Effect, Endpoint, StatusBody};
use idflow_testing::emulator::EmulatorEnv;
use std::time::Duration;

const RESOURCE: &str = "https://management.azure.com";

const SOURCES: [(&str, Endpoint); 6] = [
    ("imds", Endpoint::ManagedIdentityImds),
    ("app_service", Endpoint::ManagedIdentityAppService),
    ("service_fabric", Endpoint::ManagedIdentityServiceFabric),
    ("azure_arc", Endpoint::ManagedIdentityAzureArc),
    ("cloud_shell", Endpoint::ManagedIdentityCloudShell),
    ("machine_learning", Endpoint::ManagedIdentityMachineLearning),
];

fn vars(env: &EmulatorEnv, source: &str) -> Vec<(String, String)> {
    env.emu
        .admin()
        .managed_identity_environment(source)
        .unwrap()
}

fn client_with(
    env: &EmulatorEnv,
    identity: ManagedIdentity,
    vars: Vec<(String, String)>,
) -> ManagedIdentityClient {
    ManagedIdentityClient::new(
        identity,
        ManagedIdentityOptions {
            app: env.options(),
            environment: Some(ManagedIdentityEnvironment::from_pairs(vars)),
            arc_key_directory: Some(env.emu.admin().arc_key_directory()),
            ..ManagedIdentityOptions::default()
        },
    )
    .unwrap()
}

fn client(env: &EmulatorEnv, source: &str, identity: ManagedIdentity) -> ManagedIdentityClient {
    client_with(env, identity, vars(env, source))
}

fn requests_to(env: &EmulatorEnv, endpoint: Endpoint) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.endpoint == endpoint)
        .count()
}

#[tokio::test]
async fn every_source_issues_a_token_and_caches_it() {
    let env = EmulatorEnv::start().await;
    for (source, endpoint) in SOURCES {
        let c = client(&env, source, ManagedIdentity::SystemAssigned);
        let r = c
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(r.token_source, TokenSource::IdentityProvider, "{source}");
        assert_eq!(r.resource.as_deref(), Some(RESOURCE), "{source}");
        // (`expires_on` sources: the emulator's clock and the app's differ a little)
        assert!(
            (86_000..=86_500).contains(&r.expires_in),
            "{source}: {}",
            r.expires_in
        );
        // A day-long token is refreshed at half-life.
        assert_eq!(r.refresh_in, Some(r.expires_in / 2), "{source}");
        let claims = idflow::jwt::decode(r.access_token.expose()).unwrap().claims;
        assert_eq!(claims["aud"], RESOURCE);
        assert_eq!(claims["appid"], idflow_emulator::MI_SYSTEM_CLIENT_ID);
        let sent = requests_to(&env, endpoint);
        let again = c.acquire_token_for_client(RESOURCE, None).await.unwrap();
        assert_eq!(again.token_source, TokenSource::Cache, "{source}");
        assert_eq!(
            requests_to(&env, endpoint),
            sent,
            "{source}: the cache answered"
        );
        // A claims challenge skips the cache.
        let fresh = c
            .acquire_token_for_client(
                RESOURCE,
                Some(r#"{"access_token":{"nbf":{"essential":true}}}"#),
            )
            .await
            .unwrap();
        assert_eq!(
            fresh.token_source,
            TokenSource::IdentityProvider,
            "{source}"
        );
        assert!(requests_to(&env, endpoint) > sent, "{source}");
    }
    // Azure Arc answered the challenge: a 401, then the request with the key.
    let arc: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::ManagedIdentityAzureArc)
        .collect();
    assert_eq!(arc[0].status, 401);
    assert_eq!(arc[1].status, 200);
}

#[tokio::test]
async fn user_assigned_identities_by_each_id_where_the_source_has_them() {
    let env = EmulatorEnv::start().await;
    let ids = [
        ManagedIdentity::ClientId(idflow_emulator::MI_USER_CLIENT_ID.into()),
        ManagedIdentity::ResourceId(idflow_emulator::MI_USER_RESOURCE_ID.into()),
        ManagedIdentity::ObjectId(idflow_emulator::MI_USER_OBJECT_ID.into()),
    ];
    for source in ["imds", "app_service", "machine_learning", "azure_arc"] {
        for id in &ids {
            let c = client(&env, source, id.clone());
            let r = c
                .acquire_token_for_client(RESOURCE, None)
                .await
                .unwrap_or_else(|e| panic!("{source} {id:?}: {e}"));
            let claims = idflow::jwt::decode(r.access_token.expose()).unwrap().claims;
            assert_eq!(
                claims["appid"],
                idflow_emulator::MI_USER_CLIENT_ID,
                "{source} {id:?}"
            );
            // Cached under the id the app named, as msal does.
            let doc: serde_json::Value =
                serde_json::from_str(&c.token_cache().serialize()).unwrap();
            let at = doc["AccessToken"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap()
                .clone();
            assert_eq!(at["client_id"], id.id().unwrap());
            assert_eq!(at["realm"], "managed_identity");
        }
        // An id the machine does not have: the service says so.
        let c = client(
            &env,
            source,
            ManagedIdentity::ClientId("00000000-dead-4000-8000-000000000000".into()),
        );
        let e = c
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Service, "{source}");
        assert_eq!(e.http_status(), Some(400), "{source}");
    }
    // Cloud Shell refuses user-assigned identities before sending.
    for (source, endpoint) in [("cloud_shell", Endpoint::ManagedIdentityCloudShell)] {
        for id in &ids {
            let e = client(&env, source, id.clone())
                .acquire_token_for_client(RESOURCE, None)
                .await
                .unwrap_err();
            assert_eq!(
                e.code, "user_assigned_managed_identity_not_supported",
                "{source}"
            );
            assert_eq!(e.kind, ErrorKind::Client);
        }
        assert_eq!(requests_to(&env, endpoint), 0);
    }
}

#[tokio::test]
async fn the_services_refusals_in_each_sources_shape() {
    let env = EmulatorEnv::start().await;
    // An unknown resource, as each source reports it (msal Python's error values).
    for (source, code) in [
        ("imds", "invalid_resource"),
        ("app_service", "invalid_scope"),
        ("service_fabric", "invalid_request"),
        ("azure_arc", "invalid_request"),
        ("cloud_shell", "invalid_resource"),
        ("machine_learning", "invalid_scope"),
    ] {
        let e = client(&env, source, ManagedIdentity::SystemAssigned)
            .acquire_token_for_client("not a resource", None)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Service, code),
            "{source}: {e}"
        );
        assert_eq!(e.http_status(), Some(400), "{source}");
        assert!(e.correlation_id.is_some(), "{source}");
    }
    // A wrong secret.
    for (source, var, code) in [
        ("app_service", "IDENTITY_HEADER", "invalid_scope"),
        ("service_fabric", "IDENTITY_HEADER", "unauthorized_client"),
        ("machine_learning", "MSI_SECRET", "invalid_scope"),
    ] {
        let mut v = vars(&env, source);
        v.iter_mut()
            .filter(|(k, _)| k == var)
            .for_each(|(_, val)| *val = "wrong".into());
        let e = client_with(&env, ManagedIdentity::SystemAssigned, v)
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Service, code),
            "{source}"
        );
        assert_eq!(e.http_status(), Some(401), "{source}");
        // The secret never reaches the error.
        assert!(!format!("{e:?}").contains(idflow_emulator::MI_IDENTITY_HEADER));
    }
}

#[tokio::test]
async fn a_failing_service_is_retried_as_msal_does_then_blocked() {
    let env = EmulatorEnv::start().await;
    for (source, endpoint, tries) in [
        ("imds", Endpoint::ManagedIdentityImds, 4),
        ("app_service", Endpoint::ManagedIdentityAppService, 4),
        ("service_fabric", Endpoint::ManagedIdentityServiceFabric, 4),
        ("cloud_shell", Endpoint::ManagedIdentityCloudShell, 4),
        (
            "machine_learning",
            Endpoint::ManagedIdentityMachineLearning,
            4,
        ),
        // Arc: the 503 answers the challenge request itself.
        ("azure_arc", Endpoint::ManagedIdentityAzureArc, 4),
    ] {
        env.clear_log();
        env.fault_on(
            endpoint,
            Effect::Status {
                status: 503,
                retry_after: None,
                body: StatusBody::Empty,
            },
            10,
        );
        let c = client(&env, source, ManagedIdentity::SystemAssigned);
        let e = c
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        assert_eq!(e.http_status(), Some(503), "{source}");
        assert_eq!(requests_to(&env, endpoint), tries, "{source}");
        // Repeats are blocked for 5 s without a request.
        let blocked = c
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        assert_eq!(blocked.kind, ErrorKind::Throttled, "{source}");
        assert_eq!(requests_to(&env, endpoint), tries, "{source}");
        env.emu.admin().clear_faults();
        env.advance(6);
        assert!(
            c.acquire_token_for_client(RESOURCE, None).await.is_ok(),
            "{source}"
        );
    }
    // IMDS's 410 (being updated) is retried 7 times, 10 s apart.
    env.clear_log();
    let before = env.time.sleeps().len();
    env.fault_on(
        Endpoint::ManagedIdentityImds,
        Effect::Status {
            status: 410,
            retry_after: None,
            body: StatusBody::Empty,
        },
        7,
    );
    let c = client(
        &env,
        "imds",
        ManagedIdentity::ObjectId(idflow_emulator::MI_USER_OBJECT_ID.into()),
    );
    c.acquire_token_for_client(RESOURCE, None).await.unwrap();
    assert_eq!(requests_to(&env, Endpoint::ManagedIdentityImds), 8);
    assert_eq!(env.time.sleeps()[before..], [Duration::from_secs(10); 7]);
    // A Retry-After is waited through.
    env.clear_log();
    let before = env.time.sleeps().len();
    env.fault_on(
        Endpoint::ManagedIdentityImds,
        Effect::Status {
            status: 429,
            retry_after: Some(idflow_emulator::RetryAfter {
                seconds: 9,
                http_date: false,
            }),
            body: StatusBody::Empty,
        },
        1,
    );
    let c = client(
        &env,
        "imds",
        ManagedIdentity::ClientId(idflow_emulator::MI_USER_CLIENT_ID.into()),
    );
    c.acquire_token_for_client(RESOURCE, None).await.unwrap();
    assert_eq!(env.time.sleeps()[before..], [Duration::from_secs(9)]);
}

#[tokio::test]
async fn unparsable_unreachable_and_invalid_endpoints() {
    let env = EmulatorEnv::start().await;
    for (source, endpoint) in SOURCES {
        // An HTML page with 200.
        env.fault_on(endpoint, Effect::HtmlPage { status: 200 }, 1);
        let e = client(&env, source, ManagedIdentity::SystemAssigned)
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        if source == "azure_arc" {
            // Not a challenge: read as the answer, which msal Python reports
            // as `invalid_request` with the body.
            assert_eq!(e.code, "invalid_request", "{source}");
        } else {
            assert_eq!(e.code, "invalid_managed_identity_response", "{source}: {e}");
            assert_eq!(e.kind, ErrorKind::Service);
        }
        // Nothing listens: a network error.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut v = vars(&env, source);
        for (_, val) in v.iter_mut() {
            *val = val.replace(&format!(":{}", env.emu.port()), &format!(":{closed}"));
        }
        let e = client_with(&env, ManagedIdentity::SystemAssigned, v)
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Network, "{source}: {e}");
        assert_eq!(e.code, "cannot_connect_to_host", "{source}");
        // An endpoint variable that is not a URL.
        let mut v = vars(&env, source);
        for (k, val) in v.iter_mut() {
            if k.ends_with("ENDPOINT") || k.ends_with("HOST") {
                *val = "::not a url::".into();
            }
        }
        let e = client_with(&env, ManagedIdentity::SystemAssigned, v)
            .acquire_token_for_client(RESOURCE, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid_managed_identity_endpoint", "{source}");
        assert_eq!(e.kind, ErrorKind::Client);
    }
}

/// Service Fabric over https, as the platform runs it: the endpoint's
/// certificate is the cluster's own (no root signs it here), and only the
/// thumbprint in `IDENTITY_SERVER_THUMBPRINT` makes the client trust it.
#[tokio::test]
async fn service_fabric_over_https_trusts_only_the_pinned_certificate() {
    use idflow_emulator::{Emulator, TlsSetup};
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let thumbprint: String = {
        let d = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            cert.der().as_ref(),
        );
        d.as_ref().iter().map(|b| format!("{b:02X}")).collect()
    };
    let emu = Emulator::builder()
        .tls(TlsSetup::Pem {
            chain: cert.pem(),
            key: key.serialize_pem(),
        })
        .start()
        .await
        .unwrap();
    assert!(emu.base_url().starts_with("https://"), "{}", emu.base_url());
    let base = emu
        .admin()
        .managed_identity_environment("service_fabric")
        .unwrap();
    let with_pin = |pin: &str| {
        let vars: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| {
                let v = if k == "IDENTITY_SERVER_THUMBPRINT" {
                    pin.to_owned()
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect();
        assert!(vars
            .iter()
            .any(|(k, v)| k == "IDENTITY_ENDPOINT" && v.starts_with("https://")));
        ManagedIdentityClient::new(
            ManagedIdentity::SystemAssigned,
            ManagedIdentityOptions {
                // No app HTTP client and no extra roots: the pin alone must do.
                environment: Some(ManagedIdentityEnvironment::from_pairs(vars)),
                ..ManagedIdentityOptions::default()
            },
        )
        .unwrap()
    };
    // The right thumbprint (in msal's loose form: colons, any case).
    let loose = thumbprint
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(":");
    let r = with_pin(&loose)
        .acquire_token_for_client(RESOURCE, None)
        .await
        .unwrap();
    assert!(!r.access_token.expose().is_empty());
    // Another certificate's thumbprint: a TLS failure, nothing sent.
    let served = emu
        .admin()
        .requests(0)
        .iter()
        .filter(|r| r.endpoint == Endpoint::ManagedIdentityServiceFabric)
        .count();
    let wrong = "0123456789abcdef0123456789abcdef01234567";
    let e = with_pin(wrong)
        .acquire_token_for_client(RESOURCE, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(e.code, "tls_failure", "{e}");
    let after = emu
        .admin()
        .requests(0)
        .iter()
        .filter(|r| r.endpoint == Endpoint::ManagedIdentityServiceFabric)
        .count();
    assert_eq!(served, after, "no request reached the endpoint");
}

/// Clients in one process share the default transport only when their
/// settings are the same: one whose proxy does not listen fails to connect
/// even after a direct one has been made and used.
#[tokio::test]
async fn a_client_with_other_proxy_settings_uses_them() {
    let env = EmulatorEnv::start().await;
    let direct = client(&env, "imds", ManagedIdentity::SystemAssigned);
    direct
        .acquire_token_for_client(RESOURCE, None)
        .await
        .unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut app = env.options();
    app.http_config.proxy = ProxyConfig {
        proxies: vec![("all".into(), format!("http://127.0.0.1:{closed}"))],
        from_environment: false,
    };
    let proxied = ManagedIdentityClient::new(
        ManagedIdentity::SystemAssigned,
        ManagedIdentityOptions {
            app,
            environment: Some(ManagedIdentityEnvironment::from_pairs(vars(&env, "imds"))),
            ..ManagedIdentityOptions::default()
        },
    )
    .unwrap();
    let e = proxied
        .acquire_token_for_client(RESOURCE, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert_eq!(requests_to(&env, Endpoint::ManagedIdentityImds), 1);
}
