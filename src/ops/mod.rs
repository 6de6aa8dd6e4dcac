//! Operations on a data directory — import, search, rebuild the index, administrators, backup,
//! restore — run the same way by the command line on a stopped data dir and, through the
//! [`control`] socket, by a running `serve` on its own engine: a second terminal never meets the
//! store's lock.

pub mod control;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::SearchParams;
use crate::engine::Engine;

/// An operation that works whether or not `serve` runs on the data dir.
#[derive(clap::Subcommand, Debug, Clone, Serialize, Deserialize)]
pub enum Op {
    /// Import a JSON-lines file of offers into the store and the index.
    Import {
        /// The file (`-` for standard input).
        file: PathBuf,
    },
    /// Drop the index and rebuild it from the store.
    RebuildIndex,
    /// Search the visible offers and print results and facet counts.
    Search(Box<SearchArgs>),
    /// Administrators and the review of recruiter requests.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Partner feeds (RSS or Atom) whose items become offers of a service.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Write a consistent copy of the store and the attachments into DEST (a new directory),
    /// without stopping the server.
    Backup {
        /// The directory to create.
        dest: PathBuf,
    },
}

/// Administrators and recruiter requests.
#[derive(clap::Subcommand, Debug, Clone, Serialize, Deserialize)]
pub enum AdminCommand {
    /// Create an administrator and print a one-time link to choose a password.
    Create {
        /// Their e-mail address (the login).
        #[arg(long)]
        email: String,
        /// First name.
        #[arg(long, default_value = "Administrateur")]
        first_name: String,
        /// Last name.
        #[arg(long, default_value = "offerwatch")]
        last_name: String,
    },
    /// List the recruiter requests awaiting review.
    Pending,
}

/// Partner feeds.
#[derive(clap::Subcommand, Debug, Clone, Serialize, Deserialize)]
pub enum SourcesCommand {
    /// Register a feed: a server polls it every `sources_interval_seconds`.
    Add {
        /// The feed's http:// or https:// address.
        url: String,
        /// The id of the service its offers belong to.
        #[arg(long)]
        service: u64,
        /// Field values of every offer the items do not give, as a JSON object of offer
        /// fields (e.g. '{"contract":"stage","country":"FR"}').
        #[arg(long)]
        defaults: Option<String>,
    },
    /// List the feeds and what their last poll did.
    List,
}

/// The search criteria of `offerwatch search`, as on the API.
#[derive(clap::Args, Debug, Clone, Serialize, Deserialize)]
pub struct SearchArgs {
    /// Keywords; "quoted phrase"; a reference.
    q: Option<String>,
    /// Contract type codes.
    #[arg(long)]
    contract: Vec<String>,
    /// Diploma level code.
    #[arg(long)]
    diploma: Option<String>,
    /// Domain codes.
    #[arg(long)]
    domain: Vec<String>,
    /// Administration codes.
    #[arg(long)]
    administration: Vec<String>,
    /// Region codes.
    #[arg(long)]
    region: Vec<String>,
    /// Department codes.
    #[arg(long)]
    department: Vec<String>,
    /// Country codes.
    #[arg(long)]
    country: Vec<String>,
    /// `true` (telework possible) or `false`.
    #[arg(long)]
    telework: Vec<String>,
    /// `true` (paid) or `false`.
    #[arg(long)]
    paid: Vec<String>,
    /// `etat`, `territoriale` or `hospitaliere`.
    #[arg(long)]
    versant: Vec<String>,
    /// RFC 3339 time or a number of days.
    #[arg(long)]
    published_since: Option<String>,
    /// A place: postal code, INSEE code or commune name.
    #[arg(long)]
    near: Option<String>,
    /// Greatest distance from `--near`, km (5 to 200, default 30).
    #[arg(long)]
    km: Option<u32>,
    /// `date`, `relevance` or `distance`.
    #[arg(long)]
    sort: Option<String>,
    /// 1-based page.
    #[arg(long)]
    page: Option<u32>,
    /// Results per page.
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
        one("near", &self.near);
        one("km", &self.km.map(|n| n.to_string()));
        one("page", &self.page.map(|n| n.to_string()));
        one("per_page", &self.per_page.map(|n| n.to_string()));
        for (k, vs) in [
            ("contract", &self.contract),
            ("domain", &self.domain),
            ("administration", &self.administration),
            ("region", &self.region),
            ("department", &self.department),
            ("country", &self.country),
            ("telework", &self.telework),
            ("paid", &self.paid),
            ("versant", &self.versant),
        ] {
            p.extend(vs.iter().map(|v| (k.to_string(), v.clone())));
        }
        p
    }
}

impl Op {
    /// The same operation with its paths made absolute (the server's working directory is
    /// not the caller's).
    pub fn absolute(self) -> std::io::Result<Op> {
        let abs = |p: PathBuf| -> std::io::Result<PathBuf> {
            if p.as_os_str() == "-" || p.is_absolute() {
                Ok(p)
            } else {
                Ok(std::env::current_dir()?.join(p))
            }
        };
        Ok(match self {
            Op::Import { file } => Op::Import { file: abs(file)? },
            Op::Backup { dest } => Op::Backup { dest: abs(dest)? },
            other => other,
        })
    }

    /// Whether the operation reads its standard input.
    pub fn reads_stdin(&self) -> bool {
        matches!(self, Op::Import { file } if file.as_os_str() == "-")
    }

    /// Checks what can be checked before touching the data dir, so that a mistake is told
    /// without waiting for the store.
    pub fn check(&self) -> anyhow::Result<()> {
        match self {
            Op::Search(args) => {
                SearchParams::from_pairs(&args.pairs()).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Op::Import { file } if file.as_os_str() != "-" => {
                std::fs::metadata(file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
            }
            Op::Backup { dest } => check_new_dir(dest)?,
            Op::Sources(SourcesCommand::Add {
                defaults: Some(d), ..
            }) => {
                defaults_of(Some(d))?;
            }
            _ => {}
        }
        Ok(())
    }
}

fn check_new_dir(dest: &Path) -> anyhow::Result<()> {
    if dest.exists() && std::fs::read_dir(dest).map_or(true, |mut d| d.next().is_some()) {
        anyhow::bail!(
            "{} already exists and is not an empty directory: name a new directory",
            dest.display()
        );
    }
    Ok(())
}

/// Where an operation writes: standard output and error for the command line, the control
/// socket for the server. `interactive` draws a progress bar instead of progress lines.
pub struct Output<'a> {
    /// Results.
    pub out: &'a mut dyn Write,
    /// Progress and per-line problems.
    pub err: &'a mut dyn Write,
    /// A terminal is watching.
    pub interactive: bool,
}

/// Runs one operation on an open engine.
pub fn run(
    engine: &Engine,
    config: &Config,
    op: Op,
    input: Box<dyn BufRead + Send + '_>,
    o: &mut Output<'_>,
) -> anyhow::Result<()> {
    match op {
        Op::Import { file } => import(engine, &file, input, o),
        Op::RebuildIndex => {
            let started = Instant::now();
            let seq = engine.rebuild_index()?;
            writeln!(
                o.out,
                "index rebuilt: {} offers searchable, change log at {seq}, in {:.1} s",
                engine.index().num_docs(),
                started.elapsed().as_secs_f64()
            )?;
            Ok(())
        }
        Op::Search(args) => search(engine, &args, o.out),
        Op::Admin(cmd) => admin(engine, config, cmd, o.out),
        Op::Sources(cmd) => sources(engine, config, cmd, o.out),
        Op::Backup { dest } => backup(engine, &dest, o.out),
    }
}

fn import(
    engine: &Engine,
    file: &Path,
    stdin: Box<dyn BufRead + Send + '_>,
    o: &mut Output<'_>,
) -> anyhow::Result<()> {
    let (reader, total): (Box<dyn BufRead + Send + '_>, u64) = if file.as_os_str() == "-" {
        (stdin, 0)
    } else {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        // Count lines up front for a bounded progress bar.
        let total = BufReader::new(std::fs::File::open(file)?).lines().count() as u64;
        (Box::new(BufReader::with_capacity(1 << 20, f)), total)
    };
    let bar = if !o.interactive {
        indicatif::ProgressBar::hidden()
    } else if total > 0 {
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
    let report = crate::import::import_jsonl(engine, reader, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    for (line, e) in &report.errors {
        writeln!(o.err, "line {line}: {e}")?;
    }
    writeln!(
        o.out,
        "imported {} offers ({} rejected, {} towns without a commune) in {:.1} s: {:.0} offers/s, {} searchable",
        report.imported,
        report.rejected,
        report.without_commune,
        secs,
        report.imported as f64 / secs.max(1e-9),
        engine.index().num_docs()
    )?;
    if report.rejected > 0 {
        anyhow::bail!("{} lines were rejected", report.rejected);
    }
    Ok(())
}

fn search(engine: &Engine, args: &SearchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let params = SearchParams::from_pairs(&args.pairs()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let page = engine.search(&params)?;
    let elapsed = started.elapsed();
    writeln!(
        out,
        "{} offres ({:.1} ms) — page {}",
        page.total,
        elapsed.as_secs_f64() * 1000.0,
        params.page
    )?;
    for o in &page.offers {
        let f = &o.fields;
        let mut place = f
            .location
            .clone()
            .unwrap_or_else(|| f.country.label().to_string());
        if let Some(d) = params.near.as_ref().and_then(|n| n.distance_to(f)) {
            place = format!("{place} · à {}", crate::domain::search::km_label(d));
        }
        let date = o
            .published_at
            .map(|t| crate::domain::offer::iso_date::format(engine.zone().today(t)))
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
    for fc in page.facets.iter().flatten() {
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
        let more = if more > 0 {
            format!(" · … {more} de plus")
        } else {
            String::new()
        };
        writeln!(out, "{:>15}: {}{more}", fc.facet.name(), shown.join(" · "))?;
    }
    Ok(())
}

/// The `--defaults` of a feed: a JSON object of offer fields.
fn defaults_of(json: Option<&String>) -> anyhow::Result<crate::domain::OfferInput> {
    match json {
        None => Ok(Default::default()),
        Some(j) => serde_json::from_str(j).map_err(|e| {
            anyhow::anyhow!("--defaults: {e} (expected a JSON object of offer fields, e.g. '{{\"contract\":\"stage\"}}')")
        }),
    }
}

fn sources(
    engine: &Engine,
    config: &Config,
    cmd: SourcesCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let bo = crate::backoffice::Backoffice::with_links(engine, config.links());
    match cmd {
        SourcesCommand::Add {
            url,
            service,
            defaults,
        } => {
            let outbound = crate::backoffice::outbound::Outbound::of_config(config);
            let s =
                bo.register_source(&url, service, defaults_of(defaults.as_ref())?, &outbound)?;
            writeln!(
                out,
                "source {} registered: {} for service {} (polled every {} s)",
                s.id, s.url, s.service, config.sources_interval_seconds
            )?;
        }
        SourcesCommand::List => {
            let all = engine.store().sources()?;
            if all.is_empty() {
                writeln!(out, "no partner feed")?;
            }
            for s in all {
                let last = match &s.last_poll {
                    None => "never polled".to_string(),
                    Some(p) => format!(
                        "{} {}: {} imported, {} updated, {} archived, {} rejected{}",
                        p.at,
                        p.status,
                        p.imported,
                        p.updated,
                        p.archived,
                        p.rejected.len(),
                        p.error
                            .as_ref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ),
                };
                writeln!(
                    out,
                    "{}  {}  service {}  {} offers  {last}",
                    s.id,
                    s.url,
                    s.service,
                    s.items.len()
                )?;
            }
        }
    }
    Ok(())
}

fn admin(
    engine: &Engine,
    config: &Config,
    cmd: AdminCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let bo = crate::backoffice::Backoffice::with_links(engine, config.links());
    match cmd {
        AdminCommand::Create {
            email,
            first_name,
            last_name,
        } => {
            let (account, link) = bo.create_admin(&email, &first_name, &last_name)?;
            writeln!(
                out,
                "administrator {} created (id {})",
                account.email, account.id
            )?;
            writeln!(
                out,
                "one-time link to choose the password (valid 48 h):\n{link}"
            )?;
            writeln!(out, "(the token is used with POST /api/v1/auth/password)")?;
        }
        AdminCommand::Pending => {
            let pending = bo.recruiters(Some(crate::domain::account::AccountState::Pending))?;
            if pending.is_empty() {
                writeln!(out, "no pending recruiter request")?;
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
                writeln!(
                    out,
                    "{:>6}  {} {} <{}>  {}",
                    a.id, a.first_name, a.last_name, a.email, service
                )?;
            }
        }
    }
    Ok(())
}

/// The store file inside a data dir or a backup.
const STORE_FILE: &str = "store.redb";
/// Attachments inside a data dir or a backup.
const ATTACHMENTS: &str = "attachments";

/// Copies the attachment files of `from` into `to`. An offer's attachment is never changed nor
/// removed once written, so copying after the store's snapshot finds every one it names; a
/// candidate's document or a sent mail's copy may be removed meanwhile (deleted by its owner):
/// skipped.
fn copy_attachments(from: &Path, to: &Path) -> anyhow::Result<u64> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(0);
    };
    crate::store::create_private_dir(to)?;
    let mut n = 0;
    for e in entries {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".tmp") || !e.file_type()?.is_file() {
            continue;
        }
        let target = to.join(&name);
        match std::fs::copy(e.path(), &target) {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot copy {}", e.path().display()));
            }
        }
        std::fs::File::open(&target)?.sync_all()?;
        n += 1;
    }
    std::fs::File::open(to)?.sync_all()?;
    Ok(n)
}

fn backup(engine: &Engine, dest: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    check_new_dir(dest)?;
    let started = Instant::now();
    crate::store::create_private_dir(dest)
        .with_context(|| format!("cannot create {}", dest.display()))?;
    let copied = engine.store().backup_to(&dest.join(STORE_FILE))?;
    let files = copy_attachments(
        &engine.data_dir().join(ATTACHMENTS),
        &dest.join(ATTACHMENTS),
    )?;
    std::fs::File::open(dest)?.sync_all()?;
    writeln!(
        out,
        "backup written to {}: {} offers, {} accounts, {} saved searches, {files} attachment files, in {:.1} s",
        dest.display(),
        copied.rows("offers"),
        copied.rows("accounts"),
        copied.rows("saved_searches"),
        started.elapsed().as_secs_f64()
    )?;
    writeln!(
        out,
        "restore it with: offerwatch restore {} --data-dir DIR",
        dest.display()
    )?;
    Ok(())
}

/// Copies every record of the store of `data_dir` (or of the database `database_url`) into
/// the store `to` names (a `postgres://` URL or a new data dir), which must be empty; prints
/// progress and the rows of each table, checked against the source's.
pub fn migrate(
    data_dir: &Path,
    database_url: Option<&str>,
    to: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use crate::store::Store;
    let started = Instant::now();
    let (src, from) = match database_url {
        Some(url) => (Store::connect(url)?, redact(url)),
        None => {
            let path = data_dir.join(STORE_FILE);
            if !path.is_file() {
                anyhow::bail!(
                    "{} holds no store to migrate (set OFFERWATCH_DATABASE_URL to migrate from PostgreSQL)",
                    data_dir.display()
                );
            }
            let store = Store::open(&path).with_context(|| {
                format!(
                    "cannot open {}: stop the server using it first",
                    path.display()
                )
            })?;
            (store, path.display().to_string())
        }
    };
    let (dest, dest_name) = if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        if Some(to) == database_url {
            anyhow::bail!("--to: the destination is the source");
        }
        (Store::connect(to)?, redact(to))
    } else {
        let dir = Path::new(to);
        let path = dir.join(STORE_FILE);
        if path.exists() {
            anyhow::bail!("--to: {} already holds a store", dir.display());
        }
        (Store::open(&path)?, path.display().to_string())
    };
    writeln!(out, "migrating {from} into {dest_name}")?;
    let mut last = Instant::now();
    let copied = src.copy_into(&dest, &mut |table, n| {
        if last.elapsed() >= std::time::Duration::from_secs(1) {
            last = Instant::now();
            let _ = writeln!(out, "  {table}: {n} rows");
        }
    })?;
    for (table, n) in copied.tables.iter().filter(|(_, n)| *n > 0) {
        writeln!(out, "  {table}: {n} rows copied, {n} held")?;
    }
    writeln!(
        out,
        "migrated {} offers, {} accounts, {} saved searches in {:.1} s; counts checked",
        copied.rows("offers"),
        copied.rows("accounts"),
        copied.rows("saved_searches"),
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Brings a backup into `data_dir` (which must hold no store, unless `replace`), then opens it
/// as `options` say: the index is rebuilt from the restored store. The server must not run on
/// `data_dir`.
pub fn restore(
    src: &Path,
    data_dir: &Path,
    replace: bool,
    options: crate::engine::Options,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let src_store = src.join(STORE_FILE);
    if !src_store.is_file() {
        anyhow::bail!(
            "{} is not a backup: it holds no {STORE_FILE} (make one with `offerwatch backup DEST`)",
            src.display()
        );
    }
    let held = crate::store::Store::inspect(&src_store)?;
    let target = data_dir.join(STORE_FILE);
    if target.exists() && !replace {
        anyhow::bail!(
            "{} already holds a store: restore into an empty data dir, or add --replace to overwrite it",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    if control::is_served(data_dir) {
        anyhow::bail!(
            "offerwatch serve is running on {}: stop it before restoring into it",
            data_dir.display()
        );
    }
    if target.exists() {
        // Taking the store's lock proves no process works on it (it is released at once).
        drop(crate::store::Store::open(&target).with_context(|| {
            format!(
                "{} cannot be replaced now: stop what uses it first",
                target.display()
            )
        })?);
    }
    let tmp = data_dir.join("store.redb.restoring");
    std::fs::copy(&src_store, &tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    if crate::store::Store::inspect(&tmp)? != held {
        anyhow::bail!("the copy of {} differs from it", src_store.display());
    }
    let files = copy_attachments(&src.join(ATTACHMENTS), &data_dir.join(ATTACHMENTS))?;
    // The index is derived: drop it, the engine rebuilds it from the restored store.
    let index = data_dir.join("index");
    if index.exists() {
        std::fs::remove_dir_all(&index)
            .with_context(|| format!("cannot remove the old index {}", index.display()))?;
    }
    std::fs::rename(&tmp, &target)?;
    std::fs::File::open(data_dir)?.sync_all()?;
    let engine = Engine::open_options(data_dir, options)?;
    writeln!(
        out,
        "restored {} into {}: {} offers ({} searchable), {} accounts, {} saved searches, {files} attachment files, in {:.1} s",
        src.display(),
        data_dir.display(),
        held.rows("offers"),
        engine.index().num_docs(),
        held.rows("accounts"),
        held.rows("saved_searches"),
        started.elapsed().as_secs_f64()
    )?;
    engine.shutdown();
    Ok(())
}
