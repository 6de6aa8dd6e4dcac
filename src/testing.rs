//! A private PostgreSQL cluster for tests and benchmarks: Debian's server binaries, a cluster
//! in a temporary directory on a free loopback port (run as the `postgres` user when the
//! process is root, as PostgreSQL refuses root), stopped when the process exits. Each caller
//! gets a database of its own on the one cluster of the process. Not for production use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// A cluster: its directory, binaries, port and server options.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    opts: String,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static STOPPED: Mutex<bool> = Mutex::new(false);
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The directory of the server binaries: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no PostgreSQL server installed (/usr/lib/postgresql: {e}); on Debian: apt-get install postgresql"))?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, b)| b)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_string())
}

fn run(c: &Cluster, program: &str, args: &[&str]) -> Result<(), String> {
    let exe = c.bin.join(program);
    let mut cmd = if c.as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(&exe);
        cmd
    } else {
        Command::new(&exe)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn start() -> Result<Cluster, String> {
    let c = init(None)?;
    unsafe { libc::atexit(stop_cluster) };
    Ok(c)
}

/// Makes and starts a cluster; with `tls` (a certificate and its key, PEM), it also accepts
/// TLS connections.
fn init(tls: Option<(&str, &str)>) -> Result<Cluster, String> {
    let bin = bin_dir()?;
    let as_postgres = unsafe { libc::geteuid() } == 0;
    let dir = std::env::temp_dir().join(format!(
        "offerwatch-pg-{}-{}",
        std::process::id(),
        free_port()?
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if as_postgres {
        let out = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("chown: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "chown postgres {}: {} (is there a postgres user? apt-get install postgresql)",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let port = free_port()?;
    let mut c = Cluster {
        dir,
        bin,
        port,
        as_postgres,
        opts: String::new(),
    };
    let data = c.dir.join("data");
    let data_s = data.to_string_lossy().to_string();
    run(
        &c,
        "initdb",
        &[
            "-D",
            &data_s,
            "-U",
            "offerwatch",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
    )?;
    c.opts = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB",
        c.dir.display()
    );
    if let Some((cert, key)) = tls {
        for (name, pem) in [("server.crt", cert), ("server.key", key)] {
            let path = data.join(name);
            std::fs::write(&path, pem).map_err(|e| format!("{name}: {e}"))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| e.to_string())?;
            if as_postgres {
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&path)
                    .output()
                    .map_err(|e| format!("chown: {e}"))?;
            }
        }
        c.opts
            .push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
    }
    pg_start(&c)?;
    Ok(c)
}

/// Starts a cluster's server (made by [`init`]) and waits until it accepts connections.
fn pg_start(c: &Cluster) -> Result<(), String> {
    let data_s = c.dir.join("data").to_string_lossy().to_string();
    let log = c.dir.join("server.log").to_string_lossy().to_string();
    run(
        c,
        "pg_ctl",
        &[
            "-D", &data_s, "-o", &c.opts, "-l", &log, "-w", "-t", "60", "start",
        ],
    )
    .map_err(|e| {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        format!("{e}\n{tail}")
    })
}

/// Creates a database on a cluster; its URL.
fn create_database(c: &Cluster) -> Result<String, String> {
    let n = DATABASES.fetch_add(1, Ordering::SeqCst);
    let name = format!("t{}_{n}", std::process::id());
    let admin = format!("postgres://offerwatch@127.0.0.1:{}/postgres", c.port);
    let create = format!("CREATE DATABASE {name}");
    // On a thread of its own: the client may not run on an async worker.
    std::thread::spawn(move || -> Result<(), String> {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .map_err(|e| format!("connecting to the private cluster: {e}"))?;
        client
            .batch_execute(&create)
            .map_err(|e| format!("creating a database: {e}"))
    })
    .join()
    .map_err(|_| "creating a database: the thread panicked".to_string())??;
    Ok(format!("postgres://offerwatch@127.0.0.1:{}/{name}", c.port))
}

/// A private cluster of its own, for a test that stops and starts it (an outage) or that
/// needs TLS; removed when dropped.
pub struct OwnCluster(Cluster);

impl OwnCluster {
    /// Makes and starts a cluster; with `tls` (certificate and key, PEM), TLS is offered too.
    pub fn start(tls: Option<(&str, &str)>) -> Result<OwnCluster, String> {
        init(tls).map(OwnCluster)
    }

    /// The URL of a new, empty database on it (`postgres://offerwatch@127.0.0.1:PORT/NAME`).
    pub fn database_url(&self) -> Result<String, String> {
        create_database(&self.0)
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// Stops the server (fast shutdown: sessions are ended), as an outage would.
    pub fn stop(&self) -> Result<(), String> {
        let data = self.0.dir.join("data").to_string_lossy().to_string();
        run(
            &self.0,
            "pg_ctl",
            &["-D", &data, "-m", "fast", "-w", "stop"],
        )
    }

    /// Starts the server again after [`OwnCluster::stop`].
    pub fn restart(&self) -> Result<(), String> {
        pg_start(&self.0)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.0.dir.join("data").to_string_lossy().to_string();
        let _ = run(
            &self.0,
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

extern "C" fn stop_cluster() {
    let mut stopped = STOPPED.lock().unwrap_or_else(|e| e.into_inner());
    if *stopped {
        return;
    }
    *stopped = true;
    if let Some(Ok(c)) = CLUSTER.get() {
        let data = c.dir.join("data").to_string_lossy().to_string();
        let _ = run(c, "pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&c.dir);
    }
}

/// The URL of a new, empty database on this process's private cluster (started on first
/// use). Panics with the reason when PostgreSQL cannot start: a test that needs it fails.
pub fn database_url() -> String {
    let c = match CLUSTER.get_or_init(start) {
        Ok(c) => c,
        Err(e) => panic!("the private PostgreSQL cluster did not start: {e}"),
    };
    create_database(c).unwrap_or_else(|e| panic!("{e}"))
}

/// Where the cluster's files are (its server log), once started.
pub fn cluster_dir() -> Option<&'static Path> {
    match CLUSTER.get() {
        Some(Ok(c)) => Some(&c.dir),
        _ => None,
    }
}

/// A confirmed candidate `candidate{id}@example.fr` without a password, as the benchmarks and
/// tests store them by the thousand.
pub fn candidate(id: u64, now: time::OffsetDateTime) -> crate::domain::account::Account {
    use crate::domain::account::{Account, AccountState, Role};
    Account {
        id,
        role: Role::Candidate,
        state: AccountState::Active,
        civility: None,
        first_name: "Camille".into(),
        last_name: format!("Candidate {id}"),
        email: format!("candidate{id}@example.fr"),
        username: None,
        email_confirmed: true,
        phone: None,
        password_hash: None,
        services: Vec::new(),
        member_roles: Default::default(),
        requested_service: None,
        refusal_reason: None,
        created_at: now,
        terms: Some(crate::domain::account::TermsAccepted::now(now)),
        last_login_at: None,
        inactivity_warned_at: None,
        favorites: Vec::new(),
        paused_since: None,
        documents: Vec::new(),
        applications: Vec::new(),
    }
}
