//! The `offerwatch` command line.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use offerwatch::Engine;
use offerwatch::config::Config;
use offerwatch::domain::SearchParams;
use offerwatch::fixtures::{Generator, to_json_line};

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
    /// Import a JSON-lines file of offers into the store and the index.
    Import {
        /// The file (`-` for standard input).
        file: PathBuf,
    },
    /// Drop the index and rebuild it from the store.
    RebuildIndex,
    /// Search the visible offers and print results and facet counts.
    Search(SearchArgs),
    /// Administrators and the review of recruiter requests.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator and print a one-time link to choose a password.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrateur")]
        first_name: String,
        #[arg(long, default_value = "offerwatch")]
        last_name: String,
    },
    /// List the recruiter requests awaiting review.
    Pending,
}

#[derive(clap::Args)]
struct SearchArgs {
    /// Keywords; "quoted phrase"; a reference.
    q: Option<String>,
    #[arg(long)]
    contract: Vec<String>,
    #[arg(long)]
    diploma: Option<String>,
    #[arg(long)]
    domain: Vec<String>,
    #[arg(long)]
    administration: Vec<String>,
    #[arg(long)]
    region: Vec<String>,
    #[arg(long)]
    department: Vec<String>,
    #[arg(long)]
    country: Vec<String>,
    /// RFC 3339 time or a number of days.
    #[arg(long)]
    published_since: Option<String>,
    /// `date` or `relevance`.
    #[arg(long)]
    sort: Option<String>,
    #[arg(long)]
    page: Option<u32>,
    #[arg(long)]
    per_page: Option<u32>,
}

impl SearchArgs {
    fn pairs(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let mut one = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                p.push((k.to_string(), v.clone()));
            }
        };
        one("q", &self.q);
        one("diploma", &self.diploma);
        one("published_since", &self.published_since);
        one("sort", &self.sort);
        one("page", &self.page.map(|n| n.to_string()));
        one("per_page", &self.per_page.map(|n| n.to_string()));
        for (k, vs) in [
            ("contract", &self.contract),
            ("domain", &self.domain),
            ("administration", &self.administration),
            ("region", &self.region),
            ("department", &self.department),
            ("country", &self.country),
        ] {
            p.extend(vs.iter().map(|v| (k.to_string(), v.clone())));
        }
        p
    }
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
        Command::Import { file } => import(&data_dir, &file),
        Command::RebuildIndex => {
            let engine = Engine::open(&data_dir)?;
            let started = Instant::now();
            let seq = engine.rebuild_index()?;
            println!(
                "index rebuilt: {} offers searchable, change log at {seq}, in {:.1} s",
                engine.index().num_docs(),
                started.elapsed().as_secs_f64()
            );
            engine.shutdown();
            Ok(())
        }
        Command::Search(args) => search(&data_dir, &args),
        Command::Admin(cmd) => admin(&config, cmd),
    }
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

fn import(data_dir: &Path, file: &Path) -> anyhow::Result<()> {
    let (reader, size): (Box<dyn BufRead>, u64) = if file.as_os_str() == "-" {
        (Box::new(BufReader::new(std::io::stdin().lock())), 0)
    } else {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let size = f.metadata()?.len();
        (Box::new(BufReader::with_capacity(1 << 20, f)), size)
    };
    // Count lines up front for a bounded progress bar when reading a file.
    let total = if size > 0 {
        BufReader::new(std::fs::File::open(file)?).lines().count() as u64
    } else {
        0
    };
    let engine = Engine::open(data_dir)?;
    let bar = if total > 0 {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} lines ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let report = offerwatch::import::import_jsonl(&engine, reader, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    for (line, e) in &report.errors {
        eprintln!("line {line}: {e}");
    }
    println!(
        "imported {} offers ({} rejected) in {:.1} s: {:.0} offers/s, {} searchable",
        report.imported,
        report.rejected,
        secs,
        report.imported as f64 / secs.max(1e-9),
        engine.index().num_docs()
    );
    engine.shutdown();
    if report.rejected > 0 {
        anyhow::bail!("{} lines were rejected", report.rejected);
    }
    Ok(())
}

fn search(data_dir: &Path, args: &SearchArgs) -> anyhow::Result<()> {
    let params = SearchParams::from_pairs(&args.pairs()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let engine = Engine::open(data_dir)?;
    let started = Instant::now();
    let page = engine.search(&params)?;
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} offres ({:.1} ms) — page {}",
        page.total,
        elapsed.as_secs_f64() * 1000.0,
        params.page
    )?;
    for o in &page.offers {
        let f = &o.fields;
        let place = f
            .location
            .clone()
            .unwrap_or_else(|| f.country.label().to_string());
        let date = o
            .published_at
            .map(|t| offerwatch::domain::offer::iso_date::format(t.date()))
            .unwrap_or_default();
        writeln!(out, "  {}  {}  {}", o.reference, date, f.title)?;
        writeln!(
            out,
            "               {} · {} · {}",
            f.contract.label(),
            f.diploma.label(),
            place
        )?;
    }
    if let Some(facets) = &page.facets {
        for fc in facets {
            if fc.values.is_empty() {
                continue;
            }
            let shown: Vec<String> = fc
                .values
                .iter()
                .take(8)
                .map(|v| format!("{} ({})", v.label, v.count))
                .collect();
            let more = fc.values.len().saturating_sub(8);
            writeln!(
                out,
                "{:>15}: {}{}",
                fc.facet.name(),
                shown.join(" · "),
                if more > 0 {
                    format!(" · … {more} de plus")
                } else {
                    String::new()
                }
            )?;
        }
    }
    engine.shutdown();
    Ok(())
}

/// Offers generated for `serve --demo`.
const DEMO_OFFERS: usize = 3000;

fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let engine = std::sync::Arc::new(
        Engine::open(&config.data_dir)
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

fn admin(config: &Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let engine = Engine::open(&config.data_dir)?;
    let bo = offerwatch::backoffice::Backoffice::new(&engine, config.base_url());
    match cmd {
        AdminCommand::Create {
            email,
            first_name,
            last_name,
        } => {
            let (account, link) = bo.create_admin(&email, &first_name, &last_name)?;
            println!(
                "administrator {} created (id {})",
                account.email, account.id
            );
            println!("one-time link to choose the password (valid 48 h):\n{link}");
            println!("(the token is used with POST /api/v1/auth/password)");
        }
        AdminCommand::Pending => {
            let pending =
                bo.recruiters(Some(offerwatch::domain::account::AccountState::Pending))?;
            if pending.is_empty() {
                println!("no pending recruiter request");
            }
            for a in pending {
                let service = match (&a.requested_service, a.services.first()) {
                    (Some(r), _) => {
                        format!("new service '{}' ({})", r.name, r.administration.code())
                    }
                    (None, Some(id)) => engine
                        .store()
                        .service(*id)?
                        .map_or(format!("service {id}"), |s| {
                            format!("service {} '{}'", s.id, s.name)
                        }),
                    (None, None) => "no service".into(),
                };
                println!(
                    "{:>6}  {} {} <{}>  {}",
                    a.id, a.first_name, a.last_name, a.email, service
                );
            }
        }
    }
    engine.shutdown();
    Ok(())
}
