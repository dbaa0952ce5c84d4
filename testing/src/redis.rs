//! `redis-server` for the distributed token cache's tests: one server, or a
//! three-node Redis Cluster, on free loopback ports, stopped on drop.
//!
//! The binary is `$IDFLOW_REDIS_SERVER` or `redis-server` on the `PATH`
//! (`scripts/setup-redis.sh` installs Debian's). Without it the fixture
//! panics, naming the script: these tests never pass by skipping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a fixture that cannot do its job fails the test

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn server_binary() -> String {
    std::env::var("IDFLOW_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A free port for a cluster node: its bus listens 10,000 higher, so the
/// port must be at most 55,535 (redis-server refuses to start otherwise)
/// and the bus port free too. Ephemeral ports reach 60,999 on Linux.
fn cluster_port() -> u16 {
    loop {
        let p = free_port();
        if p <= 55_535 && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            return p;
        }
    }
}

/// A `redis-server` on 127.0.0.1 with its data in a temporary directory,
/// append-only with every write synced (a SIGKILL loses nothing).
#[derive(Debug)]
pub struct RedisServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    extra: Vec<String>,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Without the append-only file (for the benchmark: nothing on disk).
    pub fn start_in_memory() -> Self {
        Self::start_with(&["--appendonly", "no"])
    }

    fn start_with(extra: &[&str]) -> Self {
        let cluster = extra.contains(&"--cluster-enabled");
        let mut s = RedisServer {
            port: if cluster { cluster_port() } else { free_port() },
            dir: tempfile::tempdir().unwrap(),
            child: None,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        s.spawn();
        s
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new(server_binary())
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): run `bash scripts/setup-redis.sh` (Debian's \
                     redis-server) or set IDFLOW_REDIS_SERVER",
                    server_binary()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).as_deref() != Some("PONG") {
            assert!(Instant::now() < deadline, "redis-server did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis-cli` against this server: its output, trimmed (`None` on failure).
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new(cli_binary())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// SIGKILL: the server dies at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Every key and its raw value (strings and hash fields), for scanning.
    pub fn dump(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let keys = self.cli(&["--scan"]).unwrap_or_default();
        for k in keys.lines() {
            out.extend_from_slice(k.as_bytes());
            out.push(b'\n');
            for args in [vec!["HGETALL", k], vec!["GET", k]] {
                if let Ok(o) = Command::new(cli_binary())
                    .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--no-raw"])
                    .args(&args)
                    .output()
                {
                    out.extend_from_slice(&o.stdout);
                }
            }
        }
        out
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn cli_binary() -> String {
    // redis-cli is installed beside redis-server.
    let server = server_binary();
    match server.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/redis-cli"),
        None => "redis-cli".to_owned(),
    }
}

/// A three-node Redis Cluster (masters only) on free loopback ports.
#[derive(Debug)]
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "2000",
                ])
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let status = Command::new(cli_binary())
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "redis-cli --cluster create failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = nodes.iter().all(|n| {
                n.cli(&["CLUSTER", "INFO"])
                    .is_some_and(|i| i.contains("cluster_state:ok"))
            });
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisCluster { nodes }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}
