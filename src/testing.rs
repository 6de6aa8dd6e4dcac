//! A private PostgreSQL cluster for tests and benchmarks: Debian's server binaries, a cluster
//! in a temporary directory on a free loopback port (run as the `postgres` user when the
//! process is root, as PostgreSQL refuses root), stopped when the process exits. Each caller
//! gets a database of its own on the one cluster of the process. Not for production use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The cluster of this process.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
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
    let c = Cluster {
        dir,
        bin,
        port,
        as_postgres,
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
    let opts = format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB",
        c.dir.display()
    );
    let log = c.dir.join("server.log").to_string_lossy().to_string();
    if let Err(e) = run(
        &c,
        "pg_ctl",
        &[
            "-D", &data_s, "-o", &opts, "-l", &log, "-w", "-t", "60", "start",
        ],
    ) {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("{e}\n{tail}"));
    }
    unsafe { libc::atexit(stop_cluster) };
    Ok(c)
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
    let n = DATABASES.fetch_add(1, Ordering::SeqCst);
    let name = format!("t{}_{n}", std::process::id());
    let admin = format!("postgres://offerwatch@127.0.0.1:{}/postgres", c.port);
    let create = format!("CREATE DATABASE {name}");
    // On a thread of its own: the client may not run on an async worker.
    let made = std::thread::spawn(move || -> Result<(), String> {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .map_err(|e| format!("connecting to the private cluster: {e}"))?;
        client
            .batch_execute(&create)
            .map_err(|e| format!("creating a database: {e}"))
    })
    .join();
    match made {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => panic!("creating a database: the thread panicked"),
    }
    format!("postgres://offerwatch@127.0.0.1:{}/{name}", c.port)
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
        requested_service: None,
        refusal_reason: None,
        created_at: now,
    }
}
