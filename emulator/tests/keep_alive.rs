//! One connection, several admin requests: a handler that ignores its body
//! must not cost the client its kept-alive connection (Java's HttpClient and
//! requests Sessions reuse them between test steps).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use idflow_emulator::Emulator;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Reads one response; returns its status.
async fn response(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    let status = line.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await.unwrap();
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    status
}

#[tokio::test]
async fn an_ignored_body_keeps_the_connection() {
    let emu = Emulator::builder().start().await.unwrap();
    let stream = TcpStream::connect(("127.0.0.1", emu.port())).await.unwrap();
    let mut reader = BufReader::new(stream);
    for _ in 0..3 {
        // The body comes in its own packet, as most clients send it: the
        // handler has answered by the time it arrives.
        let stream = reader.get_mut();
        stream
            .write_all(
                b"POST /_admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                  Content-Type: application/json\r\nContent-Length: 2\r\n\r\n",
            )
            .await
            .unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stream.write_all(b"{}").await.unwrap();
        assert_eq!(response(&mut reader).await, 200);
        reader
            .get_mut()
            .write_all(b"DELETE /_admin/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(response(&mut reader).await, 200);
    }
}
