//! The core's `tracing` events, handed to one foreign logger.
//!
//! Nothing is installed until [`set_logger`] is called; then one process-wide
//! subscriber forwards idflow's events up to the chosen level. The logger
//! gets the level, a one-line message (`what happened key=value ...`) and
//! whether the line holds personal data (only possible after
//! [`set_pii_logging_enabled`]). Tokens and secrets never reach it.

use crate::guard::guard;
use crate::types::AuthError;
use idflow::logging::{CallbackSubscriber, LevelHandle, Record};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock, RwLock};
use tracing::Level;

/// How much to log, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warning,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    fn core(self) -> Level {
        match self {
            LogLevel::Error => Level::ERROR,
            LogLevel::Warning => Level::WARN,
            LogLevel::Info => Level::INFO,
            LogLevel::Debug => Level::DEBUG,
            LogLevel::Trace => Level::TRACE,
        }
    }

    fn from_core(l: Level) -> Self {
        match l {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warning,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// Receives idflow's log lines. Called on whichever thread the event
/// happened, possibly concurrently; keep it quick and do not call idflow
/// from it (such nested lines are dropped).
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    fn log(&self, level: LogLevel, message: String, contains_pii: bool);
}

static LOGGER: RwLock<Option<Arc<dyn Logger>>> = RwLock::new(None);
static LEVEL: OnceLock<Option<LevelHandle>> = OnceLock::new();

thread_local! {
    static IN_LOGGER: Cell<bool> = const { Cell::new(false) };
}

fn forward(r: Record) {
    if IN_LOGGER.with(Cell::get) {
        return;
    }
    let logger = match LOGGER.read() {
        Ok(l) => l.clone(),
        Err(p) => p.into_inner().clone(),
    };
    let Some(logger) = logger else { return };
    IN_LOGGER.with(|f| f.set(true));
    // A foreign logger that throws must not take the flow down with it.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        logger.log(LogLevel::from_core(r.level), r.message, r.contains_pii);
    }));
    IN_LOGGER.with(|f| f.set(false));
}

/// Installs the process-wide subscriber once; `None` when another one (a
/// Rust host's own) was installed first.
fn level_handle() -> Option<&'static LevelHandle> {
    LEVEL
        .get_or_init(|| {
            let subscriber = CallbackSubscriber::new(Level::ERROR, forward);
            let handle = subscriber.level_handle();
            tracing::subscriber::set_global_default(subscriber)
                .ok()
                .map(|()| handle)
        })
        .as_ref()
}

/// Sends idflow's log lines up to `level` to `logger`; `None` stops logging.
/// Replaces any logger set before. Fails with `internal_error` only when the
/// host process installed its own Rust `tracing` subscriber first (then
/// idflow's events go there).
#[uniffi::export]
pub fn set_logger(logger: Option<Arc<dyn Logger>>, level: LogLevel) -> Result<(), AuthError> {
    guard(|| {
        let on = logger.is_some();
        match LOGGER.write() {
            Ok(mut l) => *l = logger,
            Err(p) => *p.into_inner() = logger,
        }
        match level_handle() {
            Some(h) => {
                h.set(on.then(|| level.core()));
                Ok(())
            }
            None if !on => Ok(()),
            None => Err(idflow::IdFlowError::local(
                idflow::LocalCode::InternalError,
                "another tracing subscriber is installed in this process; idflow's events go there",
            )
            .into()),
        }
    })
}

/// Lets log lines show personal data (usernames, account and tenant ids,
/// URLs with tenants): off by default, for diagnosing a problem only. Tokens,
/// secrets, codes and passwords are never logged either way.
#[uniffi::export]
pub fn set_pii_logging_enabled(enabled: bool) {
    idflow::logging::set_pii_logging_enabled(enabled);
}

/// Whether log lines may show personal data.
#[uniffi::export]
pub fn pii_logging_enabled() -> bool {
    idflow::logging::pii_logging_enabled()
}
