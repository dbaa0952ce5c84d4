//! The exit codes every `idflow` command uses, so scripts can branch on them
//! (the JSON on stdout has the details). Documented in `idflow --help` and the
//! README.

use idflow::{ErrorKind, IdFlowError};

/// A token (or the data asked for).
pub const OK: u8 = 0;
/// The identity provider refused, or the input was explained and is an error:
/// a person must act (sign in interactively, fix the registration or the
/// request). The error dict is on stdout.
pub const REFUSED: u8 = 1;
/// Bad usage or unreadable input: `idflow: <message>` on stderr, nothing on stdout.
pub const USAGE: u8 = 2;
/// Try again later: no answer (network), a local throttle, or a service error
/// that is retryable (429, 5xx). The error dict on stdout has `retry_after`
/// when the service said how long to wait.
pub const RETRY_LATER: u8 = 3;
/// Cancelled: Ctrl-C during a sign-in, or the user declined or stopped it.
pub const CANCELLED: u8 = 130;

/// The exit code for a failed acquisition.
pub fn for_error(e: &IdFlowError) -> u8 {
    match e.kind {
        ErrorKind::Cancelled => CANCELLED,
        ErrorKind::Network | ErrorKind::Throttled => RETRY_LATER,
        ErrorKind::Service if e.retryable => RETRY_LATER,
        ErrorKind::Client => USAGE,
        _ => REFUSED,
    }
}

/// The exit-code table, as `--help` shows it.
pub const HELP: &str = "\
Exit codes:
  0    success: a token (or the data asked for) on stdout
  1    refused: the identity provider said no, or `explain` explained an error;
       msal Python's error dict on stdout (follow its \"action\")
  2    bad usage or unreadable input: `idflow: <message>` on stderr
  3    try again later: no network answer, throttled, or a retryable service
       error (429, 5xx); the dict's \"retry_after\" says how long to wait
  130  cancelled: Ctrl-C during the sign-in, or the user declined it";
