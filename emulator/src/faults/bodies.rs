//! Response bodies that misbehave on purpose: one that is far larger than any
//! real error (streamed, so the emulator never holds it in memory), and one
//! that stops half-way and resets the connection.

use crate::wire::server::ConnControl;
use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

const CHUNK: u64 = 64 * 1024;
const PREFIX: &[u8] = br#"{"error":"server_error","error_description":"AADSTS90033: "#;
const SUFFIX: &[u8] = br#""}"#;

/// A JSON error body padded to exactly `total` bytes (just padding when
/// `total` is too small for the JSON around it).
#[derive(Debug)]
pub struct FillerBody {
    total: u64,
    sent: u64,
}

impl FillerBody {
    pub fn new(total: u64) -> FillerBody {
        FillerBody { total, sent: 0 }
    }

    fn byte_at(&self, i: u64) -> u8 {
        let framed = self.total >= (PREFIX.len() + SUFFIX.len()) as u64;
        let suffix_start = self.total.saturating_sub(SUFFIX.len() as u64);
        match usize::try_from(i) {
            Ok(i) if framed && i < PREFIX.len() => PREFIX[i],
            _ if framed && i >= suffix_start => {
                SUFFIX[usize::try_from(i - suffix_start)
                    .unwrap_or(0)
                    .min(SUFFIX.len() - 1)]
            }
            _ => b'x',
        }
    }
}

impl Body for FillerBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.sent >= self.total {
            return Poll::Ready(None);
        }
        let n = (self.total - self.sent).min(CHUNK);
        let chunk: Vec<u8> = (self.sent..self.sent + n)
            .map(|i| self.byte_at(i))
            .collect();
        self.sent += n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.total
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total - self.sent)
    }
}

/// Announces [`ResetBody::DECLARED`] bytes, sends the first part of a token
/// response, waits a moment so it reaches the client, then resets.
#[derive(Debug)]
pub struct ResetBody {
    conn: Option<Arc<ConnControl>>,
    stage: Stage,
}

#[derive(Debug)]
enum Stage {
    First,
    Waiting(Pin<Box<tokio::time::Sleep>>),
    Failed,
}

impl ResetBody {
    /// The Content-Length announced (never reached).
    pub const DECLARED: u64 = 4096;
    const FIRST: &'static [u8] = br#"{"token_type":"Bearer","scope":"User.Read","expires_in":3600,"access_token":"eyJ0eXAiOiJKV1Qi"#;

    pub fn new(conn: Option<Arc<ConnControl>>) -> ResetBody {
        ResetBody {
            conn,
            stage: Stage::First,
        }
    }
}

impl Body for ResetBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.stage {
            Stage::First => {
                self.stage =
                    Stage::Waiting(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(ResetBody::FIRST)))))
            }
            Stage::Waiting(sleep) => {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if let Some(conn) = &self.conn {
                    conn.reset_on_close();
                }
                self.stage = Stage::Failed;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "reset_mid_body fault",
                ))))
            }
            Stage::Failed => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(ResetBody::DECLARED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(total: u64) -> Vec<u8> {
        let b = FillerBody::new(total);
        (0..total).map(|i| b.byte_at(i)).collect()
    }

    #[test]
    fn filler_is_exact_and_json_when_it_fits() {
        let v = collect(300);
        assert_eq!(v.len(), 300);
        let parsed: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(parsed["error"], "server_error");
        assert_eq!(collect(3), b"xxx");
        assert!(collect(0).is_empty());
        let exact = collect((PREFIX.len() + SUFFIX.len()) as u64);
        assert!(serde_json::from_slice::<serde_json::Value>(&exact).is_ok());
    }
}
