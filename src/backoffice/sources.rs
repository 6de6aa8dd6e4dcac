//! Partner feeds: an administrator registers an RSS or Atom feed for a service, with default
//! field values; each poll (conditional GET, size limit, timeout) turns each item into an offer
//! of that service — its guid (RSS) or id (Atom) keeps it unique, a changed item updates its
//! offer, an item gone from the feed archives it — mapping the item's categories to the
//! referentials by label or code. An item that cannot become a valid offer is rejected with its
//! reason; a feed that cannot be read changes nothing. Imported offers percolate like any other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Backoffice;
use super::outbound::Outbound;
use crate::auth::require;
use crate::domain::account::{Account, Role};
use crate::domain::offer::AuditEvent;
use crate::domain::{DateRule, Facet, OfferInput, OfferState};
use crate::engine::Engine;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::feed::read::{self, Fetched, Item};
use crate::index::schema::folded_key;
use crate::store::NewOffer;
use crate::store::sources::{Poll, Rejected, Source};

/// Longest a poll waits for the feed.
pub const FEED_TIMEOUT: Duration = Duration::from_secs(20);

/// Items read from one feed per poll: a longer feed is refused whole (nothing changes).
pub const MAX_FEED_ITEMS: usize = 1000;

/// The client partner feeds are fetched with: only addresses `outbound` permits.
pub fn feed_client(outbound: &Outbound) -> reqwest::Client {
    outbound.client(
        FEED_TIMEOUT,
        concat!("offerwatch/", env!("CARGO_PKG_VERSION"), " (partner feeds)"),
    )
}

fn now_rfc3339(now: OffsetDateTime) -> String {
    now.format(&Rfc3339).unwrap_or_default()
}

impl Backoffice<'_> {
    /// Registers a feed for a service (administrators).
    pub fn add_source(
        &self,
        admin: &Account,
        url: &str,
        service: u64,
        defaults: OfferInput,
        outbound: &Outbound,
    ) -> Result<Source> {
        require(admin, Role::Admin)?;
        self.register_source(url, service, defaults, outbound)
    }

    /// Registers a feed for a service, for whoever may (an administrator, the operator's
    /// command line): the address must be http(s), the service must exist, and the defaults
    /// may not set what each item gives; the address must lead to a public address (or one
    /// `outbound` allows), checked once resolved.
    pub fn register_source(
        &self,
        url: &str,
        service: u64,
        defaults: OfferInput,
        outbound: &Outbound,
    ) -> Result<Source> {
        let mut errors = ValidationErrors::default();
        let url = url.trim();
        if !crate::domain::validate::is_http_url(url) {
            errors.push(FieldError::new(
                "url",
                format!("'{url}' is not an http:// or https:// address"),
            ));
        } else if let Err(why) = outbound.check_url(url) {
            errors.push(FieldError::new("url", why));
        }
        if self.engine.store().service(service)?.is_none() {
            errors.push(FieldError::new("service", format!("no service {service}")));
        }
        if defaults.title.is_some() || defaults.state.is_some() || defaults.published_at.is_some() {
            errors.push(FieldError::new(
                "defaults",
                "title, state and published_at come from each item, not from defaults",
            ));
        }
        errors.into_result(())?;
        let now = now_rfc3339(self.now());
        self.engine.store().write(|tx| {
            let s = Source {
                id: tx.next_id("source")?,
                url: url.to_string(),
                service,
                defaults,
                created_at: now,
                etag: None,
                last_modified: None,
                items: BTreeMap::new(),
                fingerprints: BTreeMap::new(),
                last_poll: None,
            };
            tx.put_source(&s)?;
            Ok(s)
        })
    }

    /// Every registered feed (administrators).
    pub fn sources(&self, admin: &Account) -> Result<Vec<Source>> {
        require(admin, Role::Admin)?;
        self.engine.store().sources()
    }

    /// One feed (administrators).
    pub fn source(&self, admin: &Account, id: u64) -> Result<Source> {
        require(admin, Role::Admin)?;
        self.engine
            .store()
            .source(id)?
            .ok_or_else(|| Error::NotFound(format!("no source {id}")))
    }

    /// Stops polling a feed (its offers stay as they are).
    pub fn remove_source(&self, admin: &Account, id: u64) -> Result<()> {
        require(admin, Role::Admin)?;
        if self.engine.store().write(|tx| tx.remove_source(id))? {
            Ok(())
        } else {
            Err(Error::NotFound(format!("no source {id}")))
        }
    }
}

/// The referentials' values by folded label and by folded code: (facet, code). Where two values
/// share a key, the first facet of [`Facet::ALL`] and its first value win.
struct Categories(HashMap<String, (Facet, String)>);

impl Categories {
    fn new() -> Categories {
        let mut exact = crate::index::schema::fr_exact();
        let mut by_key = HashMap::new();
        for facet in Facet::ALL {
            let v = facet.values();
            for o in 0..v.len() as u16 {
                for text in [v.label(o), v.code(o)] {
                    by_key
                        .entry(folded_key(&mut exact, text))
                        .or_insert_with(|| (facet, v.code(o).to_string()));
                }
            }
        }
        Categories(by_key)
    }

    /// Sets the fields an item's categories name.
    fn apply(&self, input: &mut OfferInput, categories: &[String]) {
        let mut exact = crate::index::schema::fr_exact();
        for cat in categories {
            let Some((facet, code)) = self.0.get(&folded_key(&mut exact, cat)) else {
                continue;
            };
            let code = Some(code.clone());
            match facet {
                Facet::Contract => input.contract = code,
                Facet::Diploma => input.diploma = code,
                Facet::Domain => input.domain = code,
                Facet::Administration => input.administration = code,
                Facet::Region => input.region = code,
                Facet::Department => input.department = code,
                Facet::Country => input.country = code,
                Facet::Telework => input.telework = code.map(serde_json::Value::String),
                Facet::Paid => input.paid = code.map(serde_json::Value::String),
                // Derived from the administration.
                Facet::Versant => {}
            }
        }
    }
}

/// The offer an item stands for, before validation.
fn item_input(
    s: &Source,
    service: &crate::domain::account::Service,
    categories: &Categories,
    item: &Item,
) -> OfferInput {
    let mut input = s.defaults.clone();
    input.title = item.title.clone();
    if item.text.is_some() {
        input.description = item.text.clone();
    }
    if let Some(link) = &item.link {
        input.contact_url = Some(link.clone());
    }
    categories.apply(&mut input, &item.categories);
    input.service = Some(serde_json::Value::String(service.name.clone()));
    if input.administration.is_none() {
        input.administration = Some(service.administration.code().to_string());
    }
    input
}

fn fingerprint(input: &OfferInput) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(input)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

fn reason(e: &Error) -> String {
    match e {
        Error::Invalid(v) => {
            v.0.iter()
                .map(|f| format!("{} : {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" ; ")
        }
        other => other.to_string(),
    }
}

/// Applies a fetched feed to the store: all new offers in one transaction, each change and
/// archive durable; answers the poll's report and the source as it is now.
fn apply(engine: &Engine, mut s: Source, bytes: &[u8]) -> Result<(Source, Poll)> {
    let now = engine.now();
    let mut poll = Poll {
        at: now_rfc3339(now),
        status: "ok".into(),
        ..Poll::default()
    };
    let items = match read::parse(bytes) {
        Ok(items) => items,
        Err(e) => {
            poll.status = "error".into();
            poll.error = Some(e);
            return Ok((s, poll));
        }
    };
    let Some(service) = engine.store().service(s.service)? else {
        poll.status = "error".into();
        poll.error = Some(format!("the service {} no longer exists", s.service));
        return Ok((s, poll));
    };
    let today = engine.zone().today(now);
    let source_id = s.id;
    let audit = |action: &str| AuditEvent {
        at: now,
        actor: None,
        action: format!("{action} (flux partenaire {source_id})"),
    };
    let categories = Categories::new();
    let mut seen = HashSet::new();
    let mut new: Vec<(String, u64, NewOffer)> = Vec::new();
    poll.items = items.len() as u64;
    if items.len() > MAX_FEED_ITEMS {
        poll.status = "error".into();
        poll.error = Some(format!(
            "the feed has {} items; at most {MAX_FEED_ITEMS} are read per poll (nothing changed)",
            items.len()
        ));
        return Ok((s, poll));
    }
    for item in &items {
        let guid = item.id.clone();
        if !seen.insert(guid.clone()) {
            continue;
        }
        let mut input = item_input(&s, &service, &categories, item);
        let placed = input.resolve_commune();
        let print = fingerprint(&input);
        let title = input.title.clone().unwrap_or_default();
        if s.items.contains_key(&guid) && s.fingerprints.get(&guid) == Some(&print) {
            poll.unchanged += 1;
            continue;
        }
        let fields = match input.validate(DateRule::Submission { today }) {
            Ok(f) => {
                if !placed && f.country.is_france() {
                    poll.without_commune += 1;
                }
                f
            }
            Err(v) => {
                poll.rejected.push(Rejected {
                    guid,
                    title,
                    reason: reason(&Error::Invalid(v)),
                });
                continue;
            }
        };
        match s.items.get(&guid) {
            Some(&id) => {
                let changed = engine.update_offer(id, |o| {
                    o.fields = fields;
                    if o.state == OfferState::Archived {
                        o.state = OfferState::Published;
                        o.published_at = Some(now);
                    }
                    o.audit.push(audit("updated"));
                    o.updated_at = now;
                    Ok(())
                });
                match changed {
                    Ok(_) => {
                        poll.updated += 1;
                        s.fingerprints.insert(guid, print);
                    }
                    Err(e) => poll.rejected.push(Rejected {
                        guid,
                        title,
                        reason: reason(&e),
                    }),
                }
            }
            None => new.push((
                guid,
                print,
                NewOffer {
                    fields,
                    state: OfferState::Published,
                    created_at: now,
                    published_at: Some(now),
                    service_id: Some(service.id),
                    audit: vec![audit("imported")],
                },
            )),
        }
    }
    if !new.is_empty() {
        // The new offers and the items that became them are one transaction: a crash can
        // neither lose an offer's item (and import it again) nor keep an item without its offer.
        let (keys, offers): (Vec<(String, u64)>, Vec<NewOffer>) =
            new.into_iter().map(|(g, p, o)| ((g, p), o)).unzip();
        engine.create_offers_and(offers, |tx, created| {
            for ((guid, print), o) in keys.iter().zip(created) {
                s.items.insert(guid.clone(), o.id);
                s.fingerprints.insert(guid.clone(), *print);
            }
            if tx.source(s.id)?.is_some() {
                tx.put_source(&s)?;
            }
            Ok(())
        })?;
        poll.imported = keys.len() as u64;
    }
    let gone: Vec<(String, u64)> = s
        .items
        .iter()
        .filter(|(g, _)| !seen.contains(*g))
        .map(|(g, &id)| (g.clone(), id))
        .collect();
    for (guid, id) in gone {
        let archived = engine.update_offer(id, |o| {
            if o.state == OfferState::Published {
                o.state = OfferState::Archived;
                o.audit.push(audit("archived: gone from the feed"));
                o.updated_at = now;
            }
            Ok(())
        });
        match archived {
            Ok(_) | Err(Error::NotFound(_)) => {
                poll.archived += 1;
                s.items.remove(&guid);
                s.fingerprints.remove(&guid);
            }
            Err(e) => return Err(e),
        }
    }
    Ok((s, poll))
}

/// Polls one source now and records what it did (an unreadable feed is an error recorded in
/// its report; nothing else changes).
pub async fn poll_source(
    engine: &std::sync::Arc<Engine>,
    (client, outbound): (&reqwest::Client, &Outbound),
    id: u64,
) -> Result<Poll> {
    let e = engine.clone();
    let Some(source) = crate::blocking::try_run(move || e.store().source(id)).await? else {
        return Err(Error::NotFound(format!("no source {id}")));
    };
    // A name is filtered once resolved (the client's resolver), an address as written here and
    // at every redirect.
    let fetched = match url::Url::parse(&source.url) {
        Err(e) => Err(format!("not an address: {e}")),
        Ok(url) => match outbound.refuses_literal(&url) {
            Some(why) => Err(why),
            None => {
                let (etag, modified) = (source.etag.as_deref(), source.last_modified.as_deref());
                read::fetch(client, url, etag, modified).await
            }
        },
    };
    let e = engine.clone();
    crate::blocking::try_run(move || -> Result<Poll> {
        let now = now_rfc3339(e.now());
        let (mut s, poll) = match fetched {
            Err(err) => (
                source,
                Poll {
                    at: now,
                    status: "error".into(),
                    error: Some(err),
                    ..Poll::default()
                },
            ),
            Ok(Fetched::NotModified) => {
                let items = source.items.len() as u64;
                (
                    source,
                    Poll {
                        at: now,
                        status: "not-modified".into(),
                        items,
                        unchanged: items,
                        ..Poll::default()
                    },
                )
            }
            Ok(Fetched::Body {
                bytes,
                etag,
                last_modified,
            }) => {
                let (mut s, poll) = apply(&e, source, &bytes)?;
                if poll.status == "ok" {
                    s.etag = etag;
                    s.last_modified = last_modified;
                }
                (s, poll)
            }
        };
        s.last_poll = Some(poll.clone());
        // The source may have been removed meanwhile: then its report goes with it.
        e.store().write(|tx| {
            if tx.source(s.id)?.is_some() {
                tx.put_source(&s)?;
            }
            Ok(())
        })?;
        if poll.status == "error" {
            tracing::warn!(source = s.id, error = ?poll.error, "partner feed not read");
        }
        Ok(poll)
    })
    .await
}

/// Polls every source once.
pub async fn poll_all(
    engine: &std::sync::Arc<Engine>,
    (client, outbound): (&reqwest::Client, &Outbound),
) -> Result<usize> {
    let e = engine.clone();
    let ids: Vec<u64> = crate::blocking::try_run(move || e.store().sources())
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    for &id in &ids {
        if let Err(e) = poll_source(engine, (client, outbound), id).await {
            tracing::error!(source = id, error = %e, "partner feed poll failed");
        }
    }
    Ok(ids.len())
}
