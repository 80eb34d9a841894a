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
        let cluster = Self::init();
        cluster.start_again();
        cluster
    }

    /// A new cluster that takes connections over TCP only with TLS (plain
    /// ones are rejected), its certificate for 127.0.0.1 and localhost
    /// signed by a CA of the test's own ([`PrivateCluster::ca_file`]).
    pub fn start_with_tls() -> PrivateCluster {
        let cluster = Self::init();
        let certs = cluster.dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        let sh = |script: &str| {
            let out = Command::new("sh")
                .arg("-c")
                .arg(script)
                .current_dir(&certs)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{script}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        sh(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -keyout ca.key -out ca.pem -subj /CN=flightrec-test-ca \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        );
        std::fs::write(
            certs.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        sh(
            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout server.key -out server.csr -subj /CN=127.0.0.1 && \
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.crt",
        );
        let data = cluster.data();
        for file in ["server.crt", "server.key"] {
            std::fs::copy(certs.join(file), data.join(file)).unwrap();
        }
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        if running_as_root() {
            let owned = Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(&data)
                .status()
                .unwrap()
                .success();
            assert!(owned);
        }
        // PostgreSQL refuses a key others may read.
        std::fs::set_permissions(
            data.join("server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        cluster.start_again();
        cluster
    }

    /// The PEM file of the CA that signed a [`PrivateCluster::start_with_tls`]
    /// cluster's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("certs").join("ca.pem")
    }

    fn init() -> PrivateCluster {
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
