//! The alert mails' content and their sending: one mail per match (immediate) or one digest
//! per alert and day (daily), each with its one-click unsubscribe (RFC 8058) and a Message-ID
//! derived from (alert, offer) so that a resend after a crash is recognisable.

use std::collections::BTreeMap;
use std::sync::Arc;

use std::collections::HashMap;

use lettre::Message;

use super::signed_unsubscribe_token;
use crate::auth::Signer;
use crate::domain::Offer;
use crate::domain::account::{Account, Frequency, SavedSearch};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::links::Links;
use crate::mail::{Letter, Outcome, Settled, Transport, html_escape, message};
use crate::percolator::explain::{Why, explain};
use crate::store::alerts::{CLAIM_TTL, Due, OutboxRow};
use crate::store::mails::Mail;

/// Settings of the alert mails.
#[derive(Clone)]
pub struct AlertMailSettings {
    /// The portal's links (offers, the saved search, unsubscribe).
    pub links: Links,
    /// Hour (UTC) of the daily digests.
    pub digest_hour: u8,
}

fn offer_lines(o: &Offer, links: &Links, why: &Why) -> (String, String) {
    let f = &o.fields;
    let place = f
        .location
        .clone()
        .unwrap_or_else(|| f.country.label().to_string());
    let url = links.offer(&o.reference.to_string());
    let reason = why.line();
    let (why_text, why_html) = if reason.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!("Pourquoi : {reason}\n"),
            format!("<br><em>Pourquoi : {}</em>", html_escape(&reason)),
        )
    };
    let text = format!(
        "{}\n{} · {} · {}\n{} — début {}\n{why_text}Référence {} : {}\n",
        f.title,
        f.contract.label(),
        f.diploma.label(),
        place,
        f.service,
        f.start,
        o.reference,
        url
    );
    let html = format!(
        "<h2 style=\"font-size:1.1em\"><a href=\"{}\">{}</a></h2><p>{} · {} · {}<br>{} — début {}{why_html}<br>Référence {}</p>",
        html_escape(&url),
        html_escape(&f.title),
        html_escape(f.contract.label()),
        html_escape(f.diploma.label()),
        html_escape(&place),
        html_escape(&f.service),
        f.start,
        o.reference
    );
    (text, html)
}

/// Composes the mail of one alert: one offer (immediate) or the day's offers (daily digest),
/// each with why it matched.
fn alert_mail(
    c: &Composer<'_>,
    search: &SavedSearch,
    account: &Account,
    offers: &[(&Offer, Arc<Why>)],
    message_id: String,
) -> Result<Mail> {
    let settings = c.settings;
    let token = signed_unsubscribe_token(&c.signer, search.id)?;
    let unsubscribe = settings.links.unsubscribe(&token);
    let search_url = settings
        .links
        .search(&serde_urlencoded::to_string(&search.criteria).unwrap_or_default());
    let subject = match offers {
        [(one, _)] => format!("Nouvelle offre : {}", one.fields.title),
        many => format!("{} nouvelles offres pour « {} »", many.len(), search.name),
    };
    let (mut text, mut html) = (String::new(), String::new());
    for (o, why) in offers {
        let (t, h) = offer_lines(o, &settings.links, why);
        text.push_str(&t);
        text.push('\n');
        html.push_str(&h);
    }
    let manage = settings.links.saved_searches();
    text.push_str(&format!(
        "Gérer mes alertes : {manage}\nSe désabonner de cette alerte : {unsubscribe}\n"
    ));
    html.push_str(&format!(
        "<p><a href=\"{}\">Gérer mes alertes</a> · <a href=\"{}\">Se désabonner de cette alerte</a></p>",
        html_escape(&manage),
        html_escape(&unsubscribe)
    ));
    let site = settings.links.site_name();
    let letter = Letter::new(subject, format!("Bonjour {},", account.first_name))
        .para(format!("Votre alerte « {} » a trouvé :", search.name))
        .made(text, html)
        .action("Voir la recherche sur le portail", search_url)
        .because(format!(
            "Vous recevez ce message parce que vous avez créé l'alerte « {} » sur {site}. Un clic sur « Se désabonner » l'arrête, sans connexion.",
            search.name
        ));
    let mut m = letter.to(&account.email, &settings.links, c.now);
    m.headers = vec![
        ("List-Unsubscribe".into(), format!("<{unsubscribe}>")),
        (
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ),
        ("Message-ID".into(), message_id),
    ];
    Ok(m)
}

/// Alert mails composed per round: a storm of matches goes out round after round, so that the
/// account mails (a password reset) never wait behind it.
const ALERT_ROUND: usize = 2_000;
/// SMTP transactions in flight at once, one per pooled connection.
pub const SENDING_AT_ONCE: usize = crate::mail::SMTP_CONNECTIONS;
/// Results written per transaction: a crash may resend at most this many (recognisable by
/// their Message-ID), and a storm of mails costs one commit per batch, not per mail.
pub const MARK_EVERY: usize = 64;

/// A saved search's criteria, as stored.
type Criteria = Vec<(String, String)>;
/// One mail to send: (saved search, its offer or `None` for a digest) and the rows it covers.
type Group = ((u64, Option<u64>), Vec<OutboxRow>);

/// What a round reads once for all its mails.
struct Composer<'a> {
    settings: &'a AlertMailSettings,
    signer: Signer,
    now: time::OffsetDateTime,
    searches: HashMap<u64, SavedSearch>,
    accounts: HashMap<u64, Account>,
    offers: HashMap<u64, Offer>,
    /// The synonym list searches read keywords with.
    synonyms: Arc<crate::index::synonyms::Synonyms>,
    /// Why an offer matched a search's criteria: thousands of alerts share criteria.
    why: std::cell::RefCell<HashMap<(Criteria, u64), Arc<Why>>>,
}

impl Composer<'_> {
    fn why(&self, search: &SavedSearch, offer: &Offer) -> Arc<Why> {
        let key = (search.criteria.clone(), offer.id);
        if let Some(w) = self.why.borrow().get(&key) {
            return w.clone();
        }
        let why = Arc::new(
            search
                .params()
                .map(|p| explain(&p, offer, &self.synonyms))
                .unwrap_or_default(),
        );
        self.why.borrow_mut().insert(key, why.clone());
        why
    }

    /// The message of one group of rows, or why it is not sent (permanently).
    fn compose(
        &self,
        search_id: u64,
        offer: Option<u64>,
        rows: &[OutboxRow],
        from: &str,
        domain: &str,
    ) -> std::result::Result<Message, (bool, String)> {
        let gone = || {
            (
                true,
                "alert off, address unconfirmed or offer gone".to_string(),
            )
        };
        let search = self.searches.get(&search_id).ok_or_else(gone)?;
        let account = self.accounts.get(&search.account).ok_or_else(gone)?;
        if !search.alert || !account.email_confirmed {
            return Err(gone());
        }
        let offers: Vec<(&Offer, Arc<Why>)> = rows
            .iter()
            .filter_map(|r| self.offers.get(&r.offer))
            .map(|o| (o, self.why(search, o)))
            .collect();
        if offers.is_empty() {
            return Err(gone());
        }
        let id = match offer {
            Some(o) => format!("<alert.{search_id}.{o}@{domain}>"),
            None => format!("<digest.{search_id}.{}@{domain}>", self.now.date()),
        };
        alert_mail(self, search, account, &offers, id)
            .map_err(|e| e.to_string())
            .and_then(|m| message(from, domain, &m, &[]))
            .map_err(|e| (true, e))
    }
}

/// Applies a delivery outcome to the rows of one mail.
fn settle_rows(
    engine: &Engine,
    rows: &mut [OutboxRow],
    outcome: &Outcome,
    now: time::OffsetDateTime,
) {
    for r in rows.iter_mut() {
        if crate::mail::settle(r, outcome, now) == Settled::Sent {
            engine.count(r.offer, crate::engine::Event::Mail);
        }
    }
}

/// Sends the alert mails that are due: immediate matches at once, daily ones as one digest per
/// alert after the digest hour, up to [`ALERT_ROUND`] mails per call, [`SENDING_AT_ONCE`] at a
/// time. A row is marked sent only after the server accepted its mail (in batches of
/// [`MARK_EVERY`]); its Message-ID is derived from (alert, offer), so that a resend after a
/// crash is recognisable. The rows are claimed first (`Store::claim_pending`): with a shared
/// store, every node sends at once and no two take the same row.
pub async fn send_alerts(
    engine: &Arc<Engine>,
    transport: &Transport,
    from: &str,
    settings: &AlertMailSettings,
) -> Result<usize> {
    let now = engine.now();
    // The digest hour is local: 7 o'clock in Paris is 06:00 UTC in winter, 05:00 in summer.
    let zone = engine.zone();
    let digest_time = zone.at_hour(zone.today(now), settings.digest_hour);
    let due = Due { now, digest_time };
    let (e, node) = (engine.clone(), engine.node().to_string());
    let rows =
        crate::blocking::try_run(move || e.store().claim_pending(&node, ALERT_ROUND, due)).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut groups: BTreeMap<(u64, Option<u64>), Vec<OutboxRow>> = BTreeMap::new();
    for r in rows {
        match r.frequency {
            Frequency::Immediate => groups.entry((r.search, Some(r.offer))).or_default().push(r),
            Frequency::Daily => groups.entry((r.search, None)).or_default().push(r),
        }
    }
    let sent = send_claimed(engine, transport, from, settings, now, groups).await;
    // What the round did not settle (it failed half-way) goes back to every node at once.
    let (e, node) = (engine.clone(), engine.node().to_string());
    crate::blocking::try_run(move || e.store().release_claims(&node)).await?;
    sent
}

/// Sends the mails of the claimed rows, renewing the claims while it sends.
async fn send_claimed(
    engine: &Arc<Engine>,
    transport: &Transport,
    from: &str,
    settings: &AlertMailSettings,
    now: time::OffsetDateTime,
    groups: BTreeMap<(u64, Option<u64>), Vec<OutboxRow>>,
) -> Result<usize> {
    let domain = settings.links.host();
    let groups: Vec<Group> = groups.into_iter().collect();
    // Everything the round's mails name, read once.
    let e = engine.clone();
    let mut search_ids: Vec<u64> = groups.iter().map(|((s, _), _)| *s).collect();
    search_ids.dedup();
    let mut offer_ids: Vec<u64> = groups
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.offer))
        .collect();
    offer_ids.sort_unstable();
    offer_ids.dedup();
    let (searches, accounts, offers, signer) = crate::blocking::try_run(move || {
        let store = e.store();
        let searches: HashMap<u64, SavedSearch> = store
            .saved_searches_by_id(&search_ids)?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let mut account_ids: Vec<u64> = searches.values().map(|s| s.account).collect();
        account_ids.sort_unstable();
        account_ids.dedup();
        let accounts: HashMap<u64, Account> = store
            .accounts_by_id(&account_ids)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let offers: HashMap<u64, Offer> = store
            .offers(&offer_ids)?
            .into_iter()
            .map(|o| (o.id, o))
            .collect();
        Ok::<_, Error>((searches, accounts, offers, Signer::of_store(store)?))
    })
    .await?;
    let composer = Composer {
        settings,
        signer,
        now,
        searches,
        accounts,
        offers,
        synonyms: engine.index().synonyms().get(),
        why: Default::default(),
    };
    let mut queue = groups.into_iter();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut settled: Vec<OutboxRow> = Vec::new();
    let mut sent = 0;
    let mut renewed = std::time::Instant::now();
    loop {
        if renewed.elapsed() >= CLAIM_TTL / 3 {
            let (e, node) = (engine.clone(), engine.node().to_string());
            crate::blocking::try_run(move || e.store().renew_claims(&node)).await?;
            renewed = std::time::Instant::now();
        }
        while in_flight.len() < SENDING_AT_ONCE {
            let Some(((search, offer), rows)) = queue.next() else {
                break;
            };
            let composed = composer.compose(search, offer, &rows, from, &domain);
            let t = transport.clone();
            in_flight.spawn(async move {
                let outcome = match composed {
                    Ok(m) => t.send(m).await,
                    Err(why) => Err(why),
                };
                (search, rows, outcome)
            });
        }
        let Some(done) = in_flight.join_next().await else {
            break;
        };
        let (search, mut rows, outcome) = done.map_err(|e| Error::Internal(e.to_string()))?;
        settle_rows(engine, &mut rows, &outcome, now);
        match &outcome {
            Ok(()) => {
                sent += 1;
                metrics::counter!("alert_mails_sent_total").increment(1);
            }
            Err((_, reason)) => tracing::warn!(search, %reason, "alert mail not sent"),
        }
        settled.extend(rows);
        if settled.len() >= MARK_EVERY || in_flight.is_empty() {
            let batch = std::mem::take(&mut settled);
            let e = engine.clone();
            crate::blocking::try_run(move || e.store().write(|tx| tx.put_outboxes(&batch))).await?;
        }
    }
    Ok(sent)
}
