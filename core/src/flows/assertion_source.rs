//! Client assertions obtained per request rather than fixed at construction:
//! an app's callback (msal Python's `{"client_assertion": callable}`), or
//! the federated token file of workload identity federation, which the
//! platform (AKS, and any Kubernetes with a projected service-account token)
//! rotates under the app, so it is read again before every token request.
//!
//! msal Python calls the callable each time it builds a token request
//! (`msal/oauth2cli/oauth2.py`, `BaseClient._obtain_token`), passing
//! `{"client_id", "token_endpoint"}` when the callable takes an argument;
//! [`AssertionRequest`] carries the same two values.

use crate::error::{IdFlowError, LocalCode};
use crate::secret::ClientAssertion;
use std::path::{Path, PathBuf};

/// What the assertion is for: the app and the token endpoint (its `aud`).
#[derive(Clone, Copy, Debug)]
pub struct AssertionRequest<'a> {
    pub client_id: &'a str,
    pub token_endpoint: &'a str,
}

/// A source of client assertions, asked once per token request. A failure
/// should be `client_assertion_unavailable` ([`unavailable`]) with a message
/// that names what went wrong but holds no secret.
pub trait ClientAssertionProvider: Send + Sync + std::fmt::Debug {
    fn client_assertion(
        &self,
        request: AssertionRequest<'_>,
    ) -> Result<ClientAssertion, IdFlowError>;
}

/// The error a provider returns when it has no assertion to give.
pub fn unavailable(why: impl Into<String>) -> IdFlowError {
    IdFlowError::local(LocalCode::ClientAssertionUnavailable, why)
}

/// The environment variable AKS workload identity (and azure-identity's
/// `WorkloadIdentityCredential`) names the projected token file with.
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// Largest token file read (a projected service-account JWT is a few KB).
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// A federated token file, read before each request.
#[derive(Clone, Debug)]
pub struct FederatedTokenFile {
    path: PathBuf,
}

impl FederatedTokenFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FederatedTokenFile { path: path.into() }
    }

    /// The file `AZURE_FEDERATED_TOKEN_FILE` names; a client error when it is
    /// unset or empty.
    pub fn from_env() -> Result<Self, IdFlowError> {
        match std::env::var_os(AZURE_FEDERATED_TOKEN_FILE) {
            Some(p) if !p.is_empty() => Ok(FederatedTokenFile::new(p)),
            _ => Err(unavailable(format!(
                "{AZURE_FEDERATED_TOKEN_FILE} is not set: no federated token file to read"
            ))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ClientAssertionProvider for FederatedTokenFile {
    fn client_assertion(&self, _: AssertionRequest<'_>) -> Result<ClientAssertion, IdFlowError> {
        use std::io::Read as _;
        let shown = self.path.display();
        let file = std::fs::File::open(&self.path)
            .map_err(|e| unavailable(format!("the federated token file {shown}: {e}")))?;
        let mut text = String::new();
        file.take(MAX_TOKEN_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| unavailable(format!("the federated token file {shown}: {e}")))?;
        let assertion = ClientAssertion::new(text.trim());
        drop(text);
        if assertion.expose().len() as u64 > MAX_TOKEN_FILE {
            return Err(unavailable(format!(
                "the federated token file {shown} is larger than {MAX_TOKEN_FILE} bytes"
            )));
        }
        if assertion.expose().is_empty() {
            return Err(unavailable(format!(
                "the federated token file {shown} is empty"
            )));
        }
        Ok(assertion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::ClientCredential;
    use crate::net::clock::ManualTime;
    use crate::net::http::Method;
    use crate::testkit::{confidential_app, ms_http, start, MS_TOKEN};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Hands out `assertion-0`, `assertion-1`, ... and checks what it is told.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl ClientAssertionProvider for Counting {
        fn client_assertion(
            &self,
            r: AssertionRequest<'_>,
        ) -> Result<ClientAssertion, IdFlowError> {
            assert_eq!(r.token_endpoint, MS_TOKEN);
            assert_eq!(r.client_id, crate::testkit::CLIENT_ID);
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(ClientAssertion::new(format!("assertion-{n}")))
        }
    }

    #[derive(Debug)]
    struct Failing;

    impl ClientAssertionProvider for Failing {
        fn client_assertion(
            &self,
            _: AssertionRequest<'_>,
        ) -> Result<ClientAssertion, IdFlowError> {
            Err(unavailable("the callback raised"))
        }
    }

    #[tokio::test]
    async fn a_provider_is_asked_before_each_token_request() {
        let (http, t) = (ms_http(), ManualTime::new(start()));
        http.json(
            Method::Post,
            MS_TOKEN,
            200,
            serde_json::json!({"access_token": "a", "expires_in": 3600}),
        );
        let source = Arc::new(Counting::default());
        let app = confidential_app(&http, &t, ClientCredential::Provider(source.clone()));
        for scope in ["api://x/.default", "api://y/.default"] {
            app.acquire_token_for_client(&[scope], None).await.unwrap();
        }
        let sent: Vec<String> = http
            .requests_to(MS_TOKEN)
            .iter()
            .map(|r| r.form_value("client_assertion").unwrap_or("").to_owned())
            .collect();
        assert_eq!(sent, ["assertion-0", "assertion-1"]);
        let types: Vec<_> = http
            .requests_to(MS_TOKEN)
            .iter()
            .map(|r| r.form_value("client_assertion_type").map(str::to_owned))
            .collect();
        assert!(types.iter().all(
            |t| t.as_deref() == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        ));

        let failing = confidential_app(&http, &t, ClientCredential::Provider(Arc::new(Failing)));
        let e = failing
            .acquire_token_for_client(&["api://z/.default"], None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "client_assertion_unavailable");
        assert_eq!(e.kind, crate::error::ErrorKind::Client);
        assert_eq!(
            http.requests_to(MS_TOKEN).len(),
            2,
            "nothing sent without an assertion"
        );
    }

    const REQ: AssertionRequest<'static> = AssertionRequest {
        client_id: "c",
        token_endpoint: "https://t",
    };

    #[test]
    fn reads_the_file_again_each_time() {
        let dir = std::env::temp_dir().join(format!("idflow-fed-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        let source = FederatedTokenFile::new(&path);
        let e = source.client_assertion(REQ).unwrap_err();
        assert_eq!(e.code, "client_assertion_unavailable");
        std::fs::write(&path, "first.jwt.value\n").unwrap();
        assert_eq!(
            source.client_assertion(REQ).unwrap().expose(),
            "first.jwt.value"
        );
        std::fs::write(&path, "second.jwt.value").unwrap();
        assert_eq!(
            source.client_assertion(REQ).unwrap().expose(),
            "second.jwt.value"
        );
        std::fs::write(&path, "  \n").unwrap();
        let e = source.client_assertion(REQ).unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
        std::fs::write(&path, "x".repeat(70_000)).unwrap();
        assert!(source.client_assertion(REQ).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
