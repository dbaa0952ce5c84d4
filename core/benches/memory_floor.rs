//! What this machine's memory allows for a cache document of a given size:
//! the floors under any serialize or deserialize of it, whatever the code.
//!
//! `cargo bench -p idflow --bench memory_floor` (size in bytes:
//! `MEMORY_FLOOR_BYTES`, default 358,590,285: the Python benchmark's
//! 100k-user cache, 342 MiB of JSON).
//!
//! * `read_once`: every byte read once, as fast as the standard library
//!   reads (its UTF-8 check of ASCII text, word at a time): no parser reads
//!   a document faster than this on one core;
//! * `read_once_two_threads`: the same, the two halves on two threads;
//! * `copy_fresh`: the bytes copied into newly allocated memory (the
//!   kernel's first touch of every page included): what producing a new
//!   document of this size costs at least;
//! * `copy_warm`: the same into memory already touched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn size() -> usize {
    std::env::var("MEMORY_FLOOR_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(358_590_285)
}

fn floors(c: &mut Criterion) {
    let n = size();
    // ASCII text shaped like a cache's (tokens and punctuation), so the
    // read takes the same path through the UTF-8 check as a document would.
    let pattern = b"{\"secret\": \"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.abc\", \"x\": \"1\"},";
    let text: Vec<u8> = pattern.iter().copied().cycle().take(n).collect();
    let mut g = c.benchmark_group("memory_floor");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(n as u64));
    g.bench_function("read_once", |b| {
        b.iter(|| std::str::from_utf8(black_box(&text)).is_ok())
    });
    g.bench_function("read_once_two_threads", |b| {
        let (left, right) = text.split_at(n / 2);
        b.iter(|| {
            std::thread::scope(|s| {
                let other = s.spawn(|| std::str::from_utf8(black_box(right)).is_ok());
                std::str::from_utf8(black_box(left)).is_ok() && other.join().unwrap()
            })
        })
    });
    g.bench_function("copy_fresh", |b| b.iter(|| black_box(text.clone())));
    let mut warm = vec![0u8; n];
    g.bench_function("copy_warm", |b| {
        b.iter(|| {
            warm.copy_from_slice(black_box(&text));
            black_box(warm.last().copied())
        })
    });
    g.finish();
}

criterion_group!(benches, floors);
criterion_main!(benches);
