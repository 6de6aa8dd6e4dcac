//! The alert mails' content and their sending: one mail per match (immediate) or one digest
//! per alert and day (daily), each with its one-click unsubscribe (RFC 8058) and a Message-ID
//! derived from (alert, offer) so that a resend after a crash is recognisable.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::unsubscribe_token;
use crate::domain::account::{Account, Frequency, SavedSearch};
use crate::domain::{Offer, local_time};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::links::Links;
use crate::mail::{Outcome, Transport, html_escape, message, new_mail, retry_at};
use crate::percolator::explain::{Why, explain};
use crate::store::accounts::{Mail, MailState};
use crate::store::alerts::OutboxRow;

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

/// Composes the mail of one alert: one offer (immediate) or the day's offers (daily digest).
fn alert_mail(
    engine: &Engine,
    settings: &AlertMailSettings,
    search: &SavedSearch,
    account: &Account,
    offers: &[Offer],
    message_id: String,
) -> Result<Mail> {
    let token = unsubscribe_token(engine, search.id)?;
    let unsubscribe = settings.links.unsubscribe(&token);
    let search_url = settings
        .links
        .search(&serde_urlencoded::to_string(&search.criteria).unwrap_or_default());
    let subject = match offers {
        [one] => format!("Nouvelle offre : {}", one.fields.title),
        many => format!("{} nouvelles offres pour « {} »", many.len(), search.name),
    };
    let mut text = format!(
        "Bonjour {},\n\nVotre alerte « {} » a trouvé :\n\n",
        account.first_name, search.name
    );
    let mut html = format!(
        "<p>Bonjour {},</p><p>Votre alerte « {} » a trouvé :</p>",
        html_escape(&account.first_name),
        html_escape(&search.name)
    );
    let params = search.params().ok();
    for o in offers {
        let why = params.as_ref().map(|p| explain(p, o)).unwrap_or_default();
        let (t, h) = offer_lines(o, &settings.links, &why);
        text.push_str(&t);
        text.push('\n');
        html.push_str(&h);
    }
    let manage = settings.links.saved_searches();
    text.push_str(&format!(
        "Voir la recherche sur le portail : {search_url}\nGérer mes alertes : {manage}\nSe désabonner de cette alerte : {unsubscribe}\n"
    ));
    html.push_str(&format!(
        "<p><a href=\"{}\">Voir la recherche sur le portail</a> · <a href=\"{}\">Gérer mes alertes</a> · <a href=\"{}\">Se désabonner de cette alerte</a></p>",
        html_escape(&search_url),
        html_escape(&manage),
        html_escape(&unsubscribe)
    ));
    let mut m = new_mail(&account.email, &subject, text, html, engine.now());
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

/// Sends the alert mails that are due: immediate matches at once, daily ones as one digest per
/// alert after the digest hour. A row is marked sent only after the server accepted the mail;
/// its Message-ID is derived from (alert, offer) so that a resend after a crash is recognisable.
pub async fn send_alerts(
    engine: &Arc<Engine>,
    transport: &Transport,
    from: &str,
    settings: &AlertMailSettings,
) -> Result<usize> {
    let domain = settings.links.host();
    let e = engine.clone();
    let rows = tokio::task::spawn_blocking(move || e.store().pending_outbox())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    if rows.is_empty() {
        return Ok(0);
    }
    let now = engine.now();
    // The digest hour is local: 7 o'clock in Paris is 06:00 UTC in winter, 05:00 in summer.
    let digest_time = local_time::at_hour_in(
        local_time::today(now),
        settings.digest_hour,
        local_time::zone(),
    );
    let mut groups: BTreeMap<(u64, Option<u64>), Vec<OutboxRow>> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.next_attempt_at <= now) {
        match r.frequency {
            Frequency::Immediate => groups.entry((r.search, Some(r.offer))).or_default().push(r),
            Frequency::Daily if now >= digest_time && r.created_at < digest_time => {
                groups.entry((r.search, None)).or_default().push(r)
            }
            Frequency::Daily => {}
        }
    }
    let mut sent = 0;
    for ((search_id, offer), mut rows) in groups {
        let e = engine.clone();
        let ids: Vec<u64> = rows.iter().map(|r| r.offer).collect();
        let loaded = tokio::task::spawn_blocking(move || -> Result<_> {
            let s = e.store().saved_search(search_id)?;
            let a = match &s {
                Some(s) => e.store().account(s.account)?,
                None => None,
            };
            Ok((s, a, e.store().offers(&ids)?))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let (search, account, offers) = loaded;
        let outcome: Outcome = match (&search, &account) {
            (Some(s), Some(a)) if s.alert && a.email_confirmed && !offers.is_empty() => {
                let id = match offer {
                    Some(o) => format!("<alert.{search_id}.{o}@{domain}>"),
                    None => format!("<digest.{search_id}.{}@{domain}>", now.date()),
                };
                match alert_mail(engine, settings, s, a, &offers, id)
                    .map_err(|e| e.to_string())
                    .and_then(|m| message(from, &domain, &m))
                {
                    Ok(msg) => transport.send(msg).await,
                    Err(e) => Err((true, e)),
                }
            }
            // Switched off, unconfirmed or gone since the match: never sent.
            _ => Err((true, "alert off, address unconfirmed or offer gone".into())),
        };
        for r in rows.iter_mut() {
            match &outcome {
                Ok(()) => {
                    r.state = MailState::Sent;
                    engine.count(r.offer, crate::engine::Event::Mail);
                }
                Err((permanent, reason)) => {
                    r.attempts += 1;
                    r.last_error = Some(reason.clone());
                    match retry_at(r.attempts, *permanent, now) {
                        None => r.state = MailState::Failed,
                        Some(at) => r.next_attempt_at = at,
                    }
                }
            }
        }
        match &outcome {
            Ok(()) => {
                sent += 1;
                metrics::counter!("alert_mails_sent_total").increment(1);
            }
            Err((_, reason)) => tracing::warn!(search = search_id, %reason, "alert mail not sent"),
        }
        let e = engine.clone();
        tokio::task::spawn_blocking(move || {
            e.store()
                .write(|tx| rows.iter().try_for_each(|r| tx.put_outbox(r)))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    }
    Ok(sent)
}
