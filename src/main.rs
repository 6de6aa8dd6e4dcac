//! The `offerwatch` command line.

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use offerwatch::Engine;
use offerwatch::config::Config;
use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::ops::Op;

#[derive(Parser)]
#[command(
    name = "offerwatch",
    version,
    about = "Search and alert engine for civil-service apprenticeship and internship offers"
)]
struct Cli {
    /// Data directory (store, index, outbox) [env: OFFERWATCH_DATA_DIR, default ./data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Configuration file (default: offerwatch.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and feeds.
    Serve {
        /// Address to listen on [env: OFFERWATCH_ADDR, default 127.0.0.1:8080].
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
        /// Load demo offers (generated, dated around today) into an empty data dir.
        #[arg(long)]
        demo: bool,
    },
    /// Generate realistic synthetic offers as JSON lines.
    GenFixtures {
        /// Number of offers.
        #[arg(long)]
        count: u64,
        /// Random seed: the same seed gives the same offers.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Publications spread over the two years before this date (YYYY-MM-DD; default today).
        #[arg(long)]
        anchor: Option<String>,
        /// Output file (`-` for standard output).
        #[arg(long)]
        out: PathBuf,
    },
    /// Bring a backup (made by `offerwatch backup`) into the data dir and rebuild the index;
    /// the server must be stopped.
    Restore {
        /// The backup directory.
        src: PathBuf,
        /// Overwrite the store the data dir already holds.
        #[arg(long)]
        replace: bool,
    },
    /// Copy every record of the store (the data dir's embedded store, or the PostgreSQL
    /// database of OFFERWATCH_DATABASE_URL) into another, empty one — a PostgreSQL database
    /// (`postgres://…`) or a new data dir — with progress and a count check. Servers on the
    /// source must be stopped.
    Migrate {
        /// `postgres://user:password@host:port/db`, or the directory of a new embedded store.
        #[arg(long)]
        to: String,
    },
    /// Import, search, rebuild the index, administrators, backup: these work whether or not
    /// `serve` runs on the data dir (through its control socket).
    #[command(flatten)]
    Op(Op),
}

/// glibc gives a thread that meets contention its own malloc arena (up to 8 a core), and each
/// arena keeps what was freed in it: with the blocking pool's threads, `serve` held 190 MB after
/// a load instead of 40. Two arenas cost no measurable throughput. `MALLOC_ARENA_MAX` still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> anyhow::Result<()> {
    // Everything this program writes — store, index, outbox, backups, exports — holds personal
    // data: for its own user alone (files 0600, directories 0700).
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; no memory is involved.
    unsafe {
        libc::umask(0o077);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    limit_malloc_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "offerwatch=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
    }
    let data_dir = config.data_dir.clone();
    match cli.command {
        Command::Serve { addr, demo } => {
            if let Some(a) = addr {
                config.addr = a;
            }
            serve(config, demo)
        }
        Command::GenFixtures {
            count,
            seed,
            anchor,
            out,
        } => gen_fixtures(count, seed, anchor, &out),
        Command::Restore { src, replace } => {
            let options = config.engine_options(offerwatch::engine::system_clock())?;
            offerwatch::ops::restore(
                &src,
                &data_dir,
                replace,
                options,
                &mut std::io::stdout().lock(),
            )
        }
        Command::Migrate { to } => offerwatch::ops::migrate(
            &config.data_dir,
            config.database_url.as_deref(),
            &to,
            &mut std::io::stdout().lock(),
        ),
        Command::Op(op) => run_op(&config, op),
    }
}

/// Runs an operation on the server that serves the data dir, or else on the data dir itself.
fn run_op(config: &Config, op: Op) -> anyhow::Result<()> {
    let op = op.absolute()?;
    op.check()?;
    let dir = &config.data_dir;
    if let Some(code) = offerwatch::ops::control::call(dir, &op)? {
        // The server printed the outcome.
        std::process::exit(code);
    }
    let engine = open_engine(config).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the data dir {}: {e}. No server answers on {}: if a command or a \
             server is starting or running on it, wait for it to end (or stop it) and run this again",
            dir.display(),
            offerwatch::ops::control::socket_path(dir).display()
        )
    })?;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut output = offerwatch::ops::Output {
        out: &mut out,
        err: &mut err,
        interactive: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let input = Box::new(BufReader::new(std::io::stdin()));
    let outcome = offerwatch::ops::run(&engine, config, op, input, &mut output);
    engine.shutdown();
    outcome
}

fn gen_fixtures(
    count: u64,
    seed: u64,
    anchor: Option<String>,
    out: &PathBuf,
) -> anyhow::Result<()> {
    let anchor = match anchor {
        Some(a) => offerwatch::domain::offer::iso_date::parse(&a)
            .with_context(|| format!("--anchor: '{a}' is not a date YYYY-MM-DD"))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let writer: Box<dyn Write> = if out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(out)
                .with_context(|| format!("cannot create {}", out.display()))?,
        )
    };
    let mut w = BufWriter::new(writer);
    for offer in Generator::new(seed, anchor).take(count as usize) {
        writeln!(w, "{}", to_json_line(&offer))?;
    }
    w.flush()?;
    if out.as_os_str() != "-" {
        eprintln!("wrote {count} offers to {}", out.display());
    }
    Ok(())
}

/// The engine of the configured data dir, on the configured store.
fn open_engine(config: &Config) -> anyhow::Result<Engine> {
    let options = config.engine_options(offerwatch::engine::system_clock())?;
    Ok(Engine::open_options(&config.data_dir, options)?)
}

/// Offers generated for `serve --demo`.
const DEMO_OFFERS: usize = 3000;

fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    if demo {
        config.demo_identity();
    }
    let engine = std::sync::Arc::new(
        open_engine(&config)
            .with_context(|| format!("cannot open data dir {}", config.data_dir.display()))?,
    );
    if demo && engine.store().offer_count()? == 0 {
        let today = engine.now().date();
        let lines: String = Generator::new(42, today)
            .take(DEMO_OFFERS)
            .map(|o| to_json_line(&o) + "\n")
            .collect();
        let report = offerwatch::import::import_jsonl(&engine, lines.as_bytes(), |_| {})?;
        tracing::info!(offers = report.imported, "demo offers loaded");
    }
    // Store transactions, searches and page renders run on the blocking pool: a few threads per
    // core keep the machine busy, where tokio's default of 512 threads would each grow their
    // own allocator arena under load (resident memory, not throughput).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(cores * 8)
        .build()?;
    runtime.block_on(offerwatch::app::serve(engine, config))?;
    Ok(())
}
