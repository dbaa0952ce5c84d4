//! The interactive flow end to end on a real loopback socket, with an opener
//! that plays the browser: it reads the authorize URL and requests the
//! redirect URI with a code (or an error) and the request's state.

use super::cancel::CancelHandle;
use super::loopback::{BrowserOpener, LoopbackOptions};
use crate::app::InteractiveOptions;
use crate::error::ErrorKind;
use crate::net::clock::ManualTime;
use crate::net::http::Method;
use crate::net::scripted::ScriptedHttp;
use crate::testkit::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Answers the authorize request with `reply` (a query string without
/// state). With `token_endpoint`, it first scripts the token answer with the
/// nonce the authorize URL carries, as a real provider would issue it.
#[derive(Debug)]
struct FakeBrowser {
    reply: String,
    token_endpoint: Option<ScriptedHttp>,
    /// Query strings another local page sends to the redirect path first,
    /// each expected to be refused (400) without ending the wait.
    forged: Vec<String>,
    /// Opens a connection that never sends a byte before the real redirect
    /// and holds it until the redirect has been answered.
    idle_connection: bool,
}

/// Sends `GET target` to the loopback port and returns the whole answer.
async fn request(port: u16, target: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).await.unwrap();
    page
}

impl BrowserOpener for FakeBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        if let Some(http) = &self.token_endpoint {
            let body = token_body(start(), &[("nonce", json!(q["nonce"]))]);
            http.json(Method::Post, MS_TOKEN, 200, body);
        }
        let redirect = Url::parse(&q["redirect_uri"]).unwrap();
        let target = format!("{}?{}&state={}", redirect.path(), self.reply, q["state"]);
        let port = redirect.port().unwrap();
        let forged: Vec<String> = self
            .forged
            .iter()
            .map(|q| format!("{}?{q}", redirect.path()))
            .collect();
        let idle_connection = self.idle_connection;
        tokio::spawn(async move {
            let _idle = if idle_connection {
                Some(
                    tokio::net::TcpStream::connect(("127.0.0.1", port))
                        .await
                        .unwrap(),
                )
            } else {
                None
            };
            for f in forged {
                let page = request(port, &f).await;
                assert!(page.starts_with("HTTP/1.1 400"), "{page}");
            }
            let page = request(port, &target).await;
            assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        });
        Ok(())
    }
}

fn options(reply: &str, token_endpoint: Option<&ScriptedHttp>) -> InteractiveOptions {
    InteractiveOptions {
        opener: Arc::new(FakeBrowser {
            reply: reply.to_owned(),
            token_endpoint: token_endpoint.cloned(),
            forged: Vec::new(),
            idle_connection: false,
        }),
        loopback: LoopbackOptions {
            path: "/auth".into(),
            ..LoopbackOptions::default()
        },
        ..InteractiveOptions::default()
    }
}

#[tokio::test]
async fn signs_in_through_the_loopback_redirect() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let opts = options("code=from-browser", Some(&http));
    let r = app
        .acquire_token_interactive(&["User.Read"], opts)
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    let redeem = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(redeem.form_value("code"), Some("from-browser"));
    let redirect = redeem.form_value("redirect_uri").unwrap();
    assert!(
        redirect.starts_with("http://localhost:") && redirect.ends_with("/auth"),
        "{redirect}"
    );
}

#[tokio::test]
async fn error_redirects_opener_failures_and_timeouts() {
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let e = app
        .acquire_token_interactive(
            &["a"],
            options("error=access_denied&error_codes=65004", None),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(e.correlation_id.is_some());

    #[derive(Debug)]
    struct Broken;
    impl BrowserOpener for Broken {
        fn open(&self, _: &Url) -> Result<(), String> {
            Err("no browser here".into())
        }
    }
    let broken = InteractiveOptions {
        opener: Arc::new(Broken),
        ..InteractiveOptions::default()
    };
    let e = app
        .acquire_token_interactive(&["a"], broken)
        .await
        .unwrap_err();
    assert_eq!(e.code, "authentication_ui_failed");
    assert!(e.message.contains("no browser here"));

    #[derive(Debug)]
    struct Silent;
    impl BrowserOpener for Silent {
        fn open(&self, _: &Url) -> Result<(), String> {
            Ok(())
        }
    }
    let cancel = CancelHandle::new();
    let waiting = InteractiveOptions {
        opener: Arc::new(Silent),
        timeout: Some(std::time::Duration::from_secs(300)),
        cancel: cancel.clone(),
        ..InteractiveOptions::default()
    };
    let e = app
        .acquire_token_interactive(&["a"], waiting)
        .await
        .unwrap_err();
    assert_eq!(
        e.code, "user_cancelled",
        "manual time: the timeout passes at once"
    );
    assert_eq!(t.sleeps(), vec![std::time::Duration::from_secs(300)]);
}

#[tokio::test]
async fn a_forged_redirect_does_not_end_the_sign_in() {
    // Any local page can request the redirect path; only the request that
    // carries this sign-in's state ends the wait, the others get a 400.
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let mut opts = options("code=from-browser", Some(&http));
    opts.opener = Arc::new(FakeBrowser {
        reply: "code=from-browser".into(),
        token_endpoint: Some(http.clone()),
        forged: vec![
            "code=forged".into(),
            "code=forged&state=not-this-one".into(),
            "error=access_denied&state=".into(),
        ],
        idle_connection: false,
    });
    let r = app
        .acquire_token_interactive(&["User.Read"], opts)
        .await
        .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    let redeem = http.requests_to(MS_TOKEN).pop().unwrap();
    assert_eq!(redeem.form_value("code"), Some("from-browser"));
}

#[tokio::test]
async fn an_idle_connection_does_not_stall_the_redirect() {
    // Connections are served concurrently: one that never sends a request
    // (its own read timeout is 10 s) does not hold up the browser's.
    let (http, t) = (ms_http(), ManualTime::new(start()));
    let app = public_app(&http, &t);
    let mut opts = options("code=from-browser", Some(&http));
    opts.opener = Arc::new(FakeBrowser {
        reply: "code=from-browser".into(),
        token_endpoint: Some(http.clone()),
        forged: Vec::new(),
        idle_connection: true,
    });
    let began = std::time::Instant::now();
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        app.acquire_token_interactive(&["User.Read"], opts),
    )
    .await
    .expect("the redirect was served while an idle connection was open")
    .unwrap();
    assert_eq!(r.access_token.expose(), "AT-SECRET-VALUE");
    assert!(began.elapsed() < std::time::Duration::from_secs(5));
}
