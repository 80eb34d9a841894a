//! A PostgreSQL server of one test's own, which the test may stop and start
//! again. The fault tests must never restart the server the rest of the
//! suite shares (127.0.0.1:5432, tests running in parallel on it).
//!
//! `initdb` and `postgres` refuse to run as root: as root, they run as the
//! `postgres` user (`runuser`), in a temporary directory it owns, which also
//! holds the server's Unix socket and its log.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;

/// A running cluster on 127.0.0.1, removed (stopped at once) when dropped.
pub struct PrivateCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

/// Where `initdb` and `pg_ctl` are: `FLIGHTREC_TEST_PG_BIN`, or the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout).
fn postgres_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("FLIGHTREC_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin for the fault tests; \
             install them or set FLIGHTREC_TEST_PG_BIN to the directory holding initdb"
        ),
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port nothing listens on now, below the range the kernel hands out for
/// port 0 and outgoing connections: while the server is stopped, no other
/// test's server or connection can take its port from under its restart.
fn free_port() -> u16 {
    let ephemeral_low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let low = ephemeral_low.saturating_sub(10_000).max(1024);
    let span = ephemeral_low.saturating_sub(low).max(1);
    for _ in 0..200 {
        let port = low + rand::random::<u16>() % span;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {low}..{ephemeral_low} for a private PostgreSQL");
}

impl PrivateCluster {
    /// A new cluster (trust authentication, superuser `postgres`), started.
    pub fn start() -> PrivateCluster {
        let dir = tempfile::Builder::new()
            .prefix("flightrec-pg-")
            .tempdir()
            .unwrap();
        let cluster = PrivateCluster {
            bin: postgres_bin(),
            dir,
            port: free_port(),
        };
        if running_as_root() {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(cluster.dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "cannot give {:?} to the postgres user", cluster.dir);
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        cluster.start_again();
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`: every
    /// backend killed, no shutdown checkpoint; recovery runs at the next
    /// start). Returns once the postmaster is gone.
    pub fn stop_immediately(&self) {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the server on its port; returns once it accepts connections.
    pub fn start_again(&self) {
        let data = self.data().display().to_string();
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
            ],
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// One of PostgreSQL's programs, to run as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        }
    }

    /// Runs one of PostgreSQL's programs; panics, with the server's log,
    /// unless it succeeds.
    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.server_log()
        );
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data();
        if data.join("postmaster.pid").exists() {
            let data = data.display().to_string();
            let _ = self
                .command("pg_ctl")
                .args(["-D", &data, "-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}
