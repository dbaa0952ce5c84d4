//! Logging through [`tracing`]: off unless the app installs a subscriber.
//!
//! idflow emits events and installs nothing, so a library user pays nothing
//! until they opt in (a Rust app with its own `tracing` subscriber, a
//! language binding with [`CallbackSubscriber`]). Every event's target starts
//! with `idflow`, so a filter on that prefix selects exactly this library.
//!
//! Levels: `error` for failures the app cannot fix by retrying (a malformed
//! answer, an id token that fails validation), `warn` for a classified
//! failure returned to the app, `info` for a flow's start and end, `debug`
//! for each request and answer (status, correlation id, elapsed time),
//! discovery and polling decisions, `trace` for details (header names, body
//! sizes).
//!
//! Personal data is masked unless the process opts in with
//! [`set_pii_logging_enabled`] (msal's `enable_pii_log` / `logPii`):
//! usernames, account and tenant ids, e-mail addresses and URL paths and
//! queries become `[pii]`. An event that shows such a value carries the
//! field `pii = true`, so a sink can keep those lines apart. Credentials —
//! tokens, secrets, codes, PKCE verifiers, passwords, assertions — are never
//! passed to a logging macro at all, with or without PII: they live in
//! [`crate::secret`] newtypes whose `Debug` is redacted and which have no
//! `Display`.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tracing::field::{Field, Visit};
use tracing::span;
use tracing::{Event, Level, Metadata, Subscriber};
use url::Url;

static PII: AtomicBool = AtomicBool::new(false);

/// Turns logging of personal data on or off for the whole process (off by
/// default). Turn it on only to diagnose a problem, and treat the output as
/// personal data. Tokens and secrets are never logged either way.
pub fn set_pii_logging_enabled(enabled: bool) {
    PII.store(enabled, Ordering::Relaxed);
}

/// Whether personal data appears in log events.
pub fn pii_logging_enabled() -> bool {
    PII.load(Ordering::Relaxed)
}

/// What a masked value shows instead of itself.
pub const MASK: &str = "[pii]";

/// A value that may identify a person or an organisation (a username, an
/// account or tenant id, an e-mail address): shown only with PII logging on.
#[derive(Clone, Copy)]
pub struct Pii<'a>(pub &'a str);

impl fmt::Display for Pii<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(self.0, pii_logging_enabled()))
    }
}

impl fmt::Debug for Pii<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `value` when `show`, else [`MASK`] (an empty value stays empty: there is
/// nothing to hide, and "empty" is useful to know).
pub fn mask(value: &str, show: bool) -> String {
    if show || value.is_empty() {
        value.to_owned()
    } else {
        MASK.to_owned()
    }
}

/// Path segments that name an endpoint, never a person or a tenant.
const PUBLIC_SEGMENTS: &[&str] = &[
    "oauth2",
    "v2.0",
    "v1.0",
    "token",
    "authorize",
    "devicecode",
    "logout",
    "discovery",
    "instance",
    "keys",
    ".well-known",
    "openid-configuration",
    "userrealm",
    "common",
    "organizations",
    "consumers",
    "devicelogin",
    "jwks",
    "certs",
    "protocol",
    "openid-connect",
    "auth",
    "device",
    "device_authorization",
    "reg",
    "me",
];

/// Query parameters whose value is a credential or binds a request (code,
/// state, nonce, verifier...): never shown, even with PII logging on.
const SECRET_QUERY_KEYS: &[&str] = &[
    "code",
    "state",
    "nonce",
    "code_verifier",
    "code_challenge",
    "client_secret",
    "client_assertion",
    "assertion",
    "password",
    "refresh_token",
    "access_token",
    "id_token",
    "device_code",
    "session_state",
    "client_info",
];

/// A URL as a log line may show it. Without PII logging: the scheme, host
/// and port, the endpoint's fixed path segments, every other segment (a
/// tenant, a user) as `[pii]`, and a query as `?[pii]`. With PII logging:
/// the whole path and the query's keys, with the values of credential
/// parameters (`code`, `state`, `nonce`, ...) still redacted.
pub fn url_for_log(url: &Url) -> String {
    url_shown(url, pii_logging_enabled())
}

/// [`url_for_log`] with the PII switch given.
pub fn url_shown(url: &Url, pii: bool) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        let _ = write!(out, ":{port}");
    }
    for segment in url.path().split('/').skip(1) {
        out.push('/');
        let public = PUBLIC_SEGMENTS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(segment));
        if pii || public || segment.is_empty() {
            out.push_str(segment);
        } else {
            out.push_str(MASK);
        }
    }
    if url.query().is_some() {
        if pii {
            let shown: Vec<String> = url
                .query_pairs()
                .map(|(k, v)| {
                    if SECRET_QUERY_KEYS.iter().any(|s| s.eq_ignore_ascii_case(&k)) {
                        format!("{k}=[redacted]")
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect();
            let _ = write!(out, "?{}", shown.join("&"));
        } else {
            out.push_str("?[pii]");
        }
    }
    out
}

/// Logs what the classifier decided for one answer: `debug` for a usable
/// or pending answer, `warn` for a failure (kind, code, classification,
/// AADSTS numbers, retry advice and the correlation id, never the body).
pub(crate) fn classified(
    c: &crate::error::Classified,
    flow: crate::error::Flow,
    correlation_id: &str,
) {
    match &c.error {
        None => tracing::debug!(
            target: "idflow::classify",
            ?flow,
            outcome = ?c.outcome,
            polling = ?c.polling,
            correlation_id,
            "answer classified"
        ),
        Some(e) => tracing::warn!(
            target: "idflow::classify",
            ?flow,
            outcome = ?c.outcome,
            polling = ?c.polling,
            kind = ?e.kind,
            code = %e.code,
            classification = ?e.classification,
            aadsts = ?e.aadsts(),
            suberror = ?e.suberror(),
            http_status = ?e.http_status(),
            retryable = e.retryable,
            retry_after_secs = ?e.retry_after.map(|d| d.as_secs()),
            action = ?e.action,
            correlation_id,
            "answer classified"
        ),
    }
}

/// Logs a failure decided after an answer arrived (an unusable token
/// response, an id token that fails validation).
pub(crate) fn failure(e: &crate::error::IdFlowError, what: &str) {
    tracing::error!(
        target: "idflow::flow",
        kind = ?e.kind,
        code = %e.code,
        flow = ?e.flow,
        correlation_id = ?e.correlation_id,
        "{what}"
    );
}

/// One event, flattened for a sink that takes text: the message followed by
/// `key=value` for every other field, and whether the event carries personal
/// data (its `pii` field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub level: Level,
    pub target: String,
    pub message: String,
    pub contains_pii: bool,
}

/// Flattens `event` into a [`Record`].
pub fn record(event: &Event<'_>) -> Record {
    #[derive(Default)]
    struct Fields {
        message: String,
        rest: String,
        pii: bool,
    }
    impl Fields {
        fn put(&mut self, field: &Field, value: &dyn fmt::Display) {
            match field.name() {
                "message" => {
                    let _ = write!(self.message, "{value}");
                }
                "pii" => {}
                name => {
                    let _ = write!(self.rest, " {name}={value}");
                }
            }
        }
    }
    impl Visit for Fields {
        fn record_bool(&mut self, field: &Field, value: bool) {
            if field.name() == "pii" {
                self.pii |= value;
            } else {
                self.put(field, &value);
            }
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.put(field, &value);
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.put(field, &format_args!("{value:?}"));
        }
    }
    let mut fields = Fields::default();
    event.record(&mut fields);
    Record {
        level: *event.metadata().level(),
        target: event.metadata().target().to_owned(),
        message: fields.message + &fields.rest,
        contains_pii: fields.pii,
    }
}

/// A minimal [`Subscriber`] that hands every enabled event, flattened, to a
/// function: what a language binding's logger callback or a test's capture
/// buffer needs, without a formatting framework. Spans are accepted and
/// ignored (idflow's events carry their context as fields).
pub struct CallbackSubscriber<F> {
    max_level: LevelHandle,
    only_idflow: bool,
    sink: F,
    next_span: AtomicU64,
}

/// The most verbose level a [`CallbackSubscriber`] passes on, changeable
/// while it is installed (a language's `set_logger` moves it; `None` turns
/// the subscriber off).
#[derive(Clone, Debug)]
pub struct LevelHandle(std::sync::Arc<std::sync::atomic::AtomicU8>);

impl LevelHandle {
    fn new(level: Option<Level>) -> Self {
        let h = LevelHandle(std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0)));
        h.store(level);
        h
    }

    fn store(&self, level: Option<Level>) {
        let n = match level {
            None => 0,
            Some(Level::ERROR) => 1,
            Some(Level::WARN) => 2,
            Some(Level::INFO) => 3,
            Some(Level::DEBUG) => 4,
            Some(_) => 5,
        };
        self.0.store(n, Ordering::Relaxed);
    }

    /// Changes the level; events of call sites already seen are re-checked.
    pub fn set(&self, level: Option<Level>) {
        self.store(level);
        tracing::callsite::rebuild_interest_cache();
    }

    pub fn get(&self) -> Option<Level> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            1 => Some(Level::ERROR),
            2 => Some(Level::WARN),
            3 => Some(Level::INFO),
            4 => Some(Level::DEBUG),
            _ => Some(Level::TRACE),
        }
    }
}

impl<F> fmt::Debug for CallbackSubscriber<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSubscriber")
            .field("max_level", &self.max_level.get())
            .field("only_idflow", &self.only_idflow)
            .finish_non_exhaustive()
    }
}

impl<F: Fn(Record) + Send + Sync + 'static> CallbackSubscriber<F> {
    /// Passes idflow's events up to `max_level` (`TRACE` is the most verbose) to `sink`.
    pub fn new(max_level: Level, sink: F) -> Self {
        CallbackSubscriber {
            max_level: LevelHandle::new(Some(max_level)),
            only_idflow: true,
            sink,
            next_span: AtomicU64::new(1),
        }
    }

    /// The handle that changes this subscriber's level after it is installed.
    pub fn level_handle(&self) -> LevelHandle {
        self.max_level.clone()
    }

    /// Passes every crate's events, not only idflow's (for tests that want
    /// to see what the HTTP stack logs too).
    pub fn all_targets(mut self) -> Self {
        self.only_idflow = false;
        self
    }
}

/// Whether `target` belongs to idflow (`idflow` or `idflow::…`).
pub fn is_idflow_target(target: &str) -> bool {
    target == "idflow" || target.starts_with("idflow::") || target.starts_with("idflow_")
}

impl<F: Fn(Record) + Send + Sync + 'static> Subscriber for CallbackSubscriber<F> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.max_level
            .get()
            .is_some_and(|max| *metadata.level() <= max)
            && (!self.only_idflow || is_idflow_target(metadata.target()))
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(match self.max_level.get() {
            None => tracing::level_filters::LevelFilter::OFF,
            Some(l) => tracing::level_filters::LevelFilter::from_level(l),
        })
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed).max(1))
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        (self.sink)(record(event));
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn urls_are_masked_without_pii_and_credentials_always() {
        let u = Url::parse(
            "https://login.example:8443/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=abc&state=S3CR3T&code=C0DE",
        )
        .unwrap();
        assert_eq!(
            url_shown(&u, false),
            "https://login.example:8443/[pii]/oauth2/v2.0/authorize?[pii]"
        );
        let shown = url_shown(&u, true);
        assert!(shown.contains("/contoso.onmicrosoft.com/"), "{shown}");
        assert!(shown.contains("client_id=abc"), "{shown}");
        assert!(
            !shown.contains("S3CR3T") && !shown.contains("C0DE"),
            "{shown}"
        );
        let plain =
            Url::parse("https://login.example/common/v2.0/.well-known/openid-configuration")
                .unwrap();
        assert_eq!(url_shown(&plain, false), plain.as_str());
    }

    #[test]
    fn pii_values_are_masked_unless_shown() {
        assert_eq!(mask("ada@contoso.example", false), MASK);
        assert_eq!(mask("ada@contoso.example", true), "ada@contoso.example");
        assert_eq!(mask("", false), "");
    }

    #[test]
    fn the_callback_subscriber_flattens_fields_and_the_pii_flag() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let subscriber = CallbackSubscriber::new(Level::DEBUG, move |r| {
            sink.lock().unwrap().push(r);
        });
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "idflow::test", status = 400, correlation_id = "c-1", "answer");
            tracing::info!(target: "idflow::test", pii = true, user = "u", "signed in");
            tracing::trace!(target: "idflow::test", "too verbose");
            tracing::info!(target: "other", "not ours");
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].message, "answer status=400 correlation_id=c-1");
        assert_eq!(seen[0].level, Level::DEBUG);
        assert!(!seen[0].contains_pii);
        assert_eq!(seen[1].message, "signed in user=u");
        assert!(seen[1].contains_pii);
    }
}
