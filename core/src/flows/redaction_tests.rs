//! No secret ever reaches a `Debug`, `Display` or serialized form: run every
//! flow, successful and failing, with known secret values, format everything
//! the app can observe, and search the text for each secret.

use super::auth_code::AuthCodeOptions;
use super::cancel::CancelHandle;
use super::ClientCredential;
use crate::error::IdFlowError;
use crate::net::clock::ManualTime;
use crate::net::http::Method;
use crate::net::scripted::json_response;
use crate::protocol::assertion::ClientCertificate;
use crate::protocol::token::AuthenticationResult;
use crate::secret::{Password, RefreshToken, UserAssertion};
use crate::testkit::*;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use serde_json::json;

const CLIENT_SECRET: &str = "CS-9f8e7d6c";
const PASSWORD: &str = "PW-6a5b4c3d";
const USER_ASSERTION: &str = "UA-3c2d1e0f";
const INPUT_RT: &str = "RT-INPUT-1234";
const CODE: &str = "CODE-7h8i9j0k";

#[derive(Default)]
struct Seen {
    text: String,
    secrets: Vec<String>,
}

impl Seen {
    fn result(&mut self, r: &AuthenticationResult) {
        self.text += &format!("{r:?}\n");
        self.secrets.push(r.access_token.expose().to_owned());
        self.secrets
            .extend(r.refresh_token.iter().map(|t| t.expose().to_owned()));
        self.secrets
            .extend(r.id_token.iter().map(|t| t.expose().to_owned()));
    }

    fn error(&mut self, e: &IdFlowError) {
        self.text += &format!("{e:?}\n{e}\n{}\n", serde_json::to_string(e).unwrap());
    }

    fn outcome(&mut self, r: Result<AuthenticationResult, IdFlowError>) {
        match r {
            Ok(r) => self.result(&r),
            Err(e) => self.error(&e),
        }
    }
}

/// An error answer that echoes secrets back, as a broken proxy might.
fn leaky_error() -> crate::error::HttpResponse {
    let mut r = json_response(
        400,
        &json!({"error":"invalid_grant","access_token":"AT-SECRET-VALUE","refresh_token":"RT-SECRET-VALUE","id_token":"x.y.z","code":CODE}),
    );
    r.headers
        .push(("set-cookie".into(), format!("session={CLIENT_SECRET}")));
    r
}

#[tokio::test]
async fn no_flow_output_contains_a_secret() {
    let mut seen = Seen::default();
    let t = ManualTime::new(start());
    let http = ms_http();
    let ok = token_body(start(), &[]);

    // Public client: refresh, ROPC, device code, auth code — success then failure.
    let pca = public_app(&http, &t);
    for answer in [Ok(json_response(200, &ok)), Ok(leaky_error())] {
        http.on(Method::Post, MS_TOKEN, answer);
        seen.outcome(
            pca.acquire_token_by_refresh_token(&RefreshToken::new(INPUT_RT), &["a"], None)
                .await,
        );
        seen.outcome(
            pca.acquire_token_by_username_password("u", &Password::new(PASSWORD), &["a"], None)
                .await,
        );
    }
    http.json(
        Method::Post,
        MS_DEVICE,
        200,
        json!({"device_code":"DEVICE-CODE-SECRET","user_code":"U","verification_uri":"https://v"}),
    );
    let flow = pca.initiate_device_flow(&["a"], None).await.unwrap();
    seen.text += &format!("{flow:?}\n");
    seen.secrets.push(flow.device_code().expose().to_owned());
    seen.outcome(
        pca.acquire_token_by_device_flow(&flow, &CancelHandle::new())
            .await,
    );
    http.on(Method::Post, MS_TOKEN, Ok(json_response(200, &ok)));
    seen.outcome(
        pca.acquire_token_by_device_flow(&flow, &CancelHandle::new())
            .await,
    );

    let ac = pca
        .initiate_auth_code_flow(&["a"], "http://localhost/", &AuthCodeOptions::default())
        .await
        .unwrap();
    seen.text += &format!("{ac:?}\n");
    seen.secrets.extend(
        [
            ac.state().expose(),
            ac.nonce().expose(),
            ac.code_verifier().expose(),
        ]
        .map(str::to_owned),
    );
    let state = ac.state().expose().to_owned();
    for redirect in [
        format!("code={CODE}&state=forged"),
        format!("error=invalid_request&code={CODE}&state={state}"),
        format!("code={CODE}&state={state}"),
    ] {
        seen.outcome(pca.acquire_token_by_auth_code_flow(&ac, &redirect).await);
    }

    // Confidential client: secret and certificate, client credentials and OBO.
    let pkcs8 = AsDer::<Pkcs8V1Der>::as_der(&*key()).unwrap();
    let cert = ClientCertificate::from_der(
        &crate::testkit::certificate_der(&key(), "c"),
        pkcs8.as_ref(),
    )
    .unwrap();
    for credential in [
        ClientCredential::Secret(CLIENT_SECRET.into()),
        ClientCredential::SecretBasic(CLIENT_SECRET.into()),
        ClientCredential::Certificate(cert),
    ] {
        let cca = confidential_app(&http, &t, credential);
        for answer in [Ok(json_response(200, &ok)), Ok(leaky_error())] {
            http.on(Method::Post, MS_TOKEN, answer);
            seen.outcome(cca.acquire_token_for_client(&["x/.default"], None).await);
            seen.outcome(
                cca.acquire_token_on_behalf_of(&UserAssertion::new(USER_ASSERTION), &["a"], None)
                    .await,
            );
        }
        seen.text += &format!("{cca:?}\n");
    }
    seen.text += &format!("{pca:?}\n{http:?}\n");

    let assertions: Vec<String> = http
        .requests()
        .iter()
        .filter_map(|r| r.form_value("client_assertion").map(str::to_owned))
        .collect();
    assert!(!assertions.is_empty());
    seen.secrets.extend(assertions);
    seen.secrets.extend(
        [
            CLIENT_SECRET,
            PASSWORD,
            USER_ASSERTION,
            INPUT_RT,
            CODE,
            "AT-SECRET-VALUE",
            "RT-SECRET-VALUE",
            "DEVICE-CODE-SECRET",
        ]
        .map(str::to_owned),
    );
    assert!(seen.text.contains("invalid_grant") && seen.text.contains("AuthenticationResult"));
    for secret in &seen.secrets {
        assert!(
            !seen.text.contains(secret.as_str()),
            "a secret ({} chars) leaked into:\n{}",
            secret.len(),
            seen.text
        );
    }
}
