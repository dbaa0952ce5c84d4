//! Crash safety: writers killed at any moment lose no committed entry and
//! never leave a torn file.

use super::*;

const CRASH_PATH: &str = "IDFLOW_CACHE_CRASH_PATH";
const CRASH_FIRST: &str = "IDFLOW_CACHE_CRASH_FIRST";

/// [`attached`], taking a killed writer's lock file after 50 ms instead of
/// a second: here a writer is killed, then one process at a time locks the
/// file (never two live ones at once, the only case the longer wait is
/// for), and the default would make the test wait a second per kill.
fn attached_after_kills(path: &Path) -> TokenCache {
    let cache = TokenCache::new();
    let storage = FileStorage::new(path).with_stale_lock_after(Duration::from_millis(50));
    cache.attach_storage(Arc::new(storage)).unwrap();
    cache
}

/// The writer half of `killed_writers_lose_no_committed_entry`, run in a
/// child process it spawns (ignored otherwise): saves and persists tokens
/// one by one, printing each id once persist returned, until killed.
#[test]
#[ignore = "child process of killed_writers_lose_no_committed_entry"]
fn crash_writer_child() {
    let path = std::env::var(CRASH_PATH).expect("spawned by the crash test");
    let first: u64 = std::env::var(CRASH_FIRST).unwrap().parse().unwrap();
    let cache = attached_after_kills(Path::new(&path));
    for id in first.. {
        let name = format!("c{id}");
        save_app(&cache, &name, &[&name]);
        cache.persist().unwrap();
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "committed {id}").unwrap();
        out.flush().unwrap();
    }
}

/// The child's test name as the harness knows it (the module path without
/// the crate's name), whichever module holds these tests.
fn child_test_name() -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::crash_writer_child")
}

#[test]
#[cfg(unix)]
fn killed_writers_lose_no_committed_entry() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = TempDir::new("crash");
    let path = dir.cache_file();
    let exe = std::env::current_exe().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // A reader loading the file all along: it must never see a torn file.
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut loads = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    TokenCache::new().deserialize(&text).unwrap();
                    loads += 1;
                }
            }
            loads
        })
    };
    let mut committed = Vec::new();
    for k in 0..20u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", &child_test_name(), "--ignored", "--nocapture"])
            .env(CRASH_PATH, &path)
            .env(CRASH_FIRST, (k * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let (tx, rx) = std::sync::mpsc::channel();
        let forward = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("committed ") {
                    let _ = tx.send(id.parse::<u64>().unwrap());
                }
            }
        });
        // Kill at a varying moment after the first commit: mid-save,
        // mid-write or mid-rename as it happens.
        committed.push(rx.recv_timeout(Duration::from_secs(30)).unwrap());
        std::thread::sleep(Duration::from_micros(500 + (k * 7919) % 15_000));
        child.kill().unwrap();
        child.wait().unwrap();
        forward.join().unwrap();
        committed.extend(rx.try_iter());

        let cache = attached_after_kills(&path);
        for id in &committed {
            let name = format!("c{id}");
            assert_eq!(
                app_lookup(&cache, &[&name]).as_deref(),
                Some(name.as_str()),
                "after kill {k}"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert!(committed.len() > 20);
}
