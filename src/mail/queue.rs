//! The account mail queue: rows in the store, sent in order when due.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Settled, Transport, message, settle};
use crate::error::Result;
use crate::store::Store;
use crate::store::mails::{Mail, MailState};

/// Mails taken per round.
const BATCH: usize = 100;

/// A new mail to queue.
pub fn new_mail(to: &str, subject: &str, text: String, html: String, now: OffsetDateTime) -> Mail {
    Mail {
        id: 0,
        to: to.to_string(),
        subject: subject.to_string(),
        text,
        html,
        headers: Vec::new(),
        state: MailState::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        attachments: Vec::new(),
    }
}

/// Sends what is due at `now` once; returns how many were sent.
pub async fn send_due(
    store: &Arc<Store>,
    now: OffsetDateTime,
    transport: &Transport,
    from: &str,
    domain: &str,
) -> Result<usize> {
    let st = store.clone();
    let due = crate::blocking::try_run(move || st.due_mails(now, BATCH)).await?;
    let mut sent = 0;
    for mut m in due {
        let files = attached_files(store, &m).await?;
        let outcome = match files.and_then(|files| message(from, domain, &m, &files)) {
            Ok(msg) => transport.send(msg).await,
            Err(e) => Err((true, e)),
        };
        let reason = outcome
            .as_ref()
            .err()
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        match settle(&mut m, &outcome, now) {
            Settled::Sent => {
                sent += 1;
                metrics::counter!("mails_sent_total").increment(1);
            }
            Settled::GivenUp => {
                tracing::error!(mail = m.id, to = %m.to, attempts = m.attempts, %reason, "mail given up");
                metrics::counter!("mails_failed_total").increment(1);
            }
            Settled::Retry(at) => {
                tracing::warn!(mail = m.id, to = %m.to, attempts = m.attempts, %reason, retry_at = %at, "mail delivery failed; will retry");
            }
        }
        let st = store.clone();
        crate::blocking::try_run(move || {
            st.write(|tx| tx.put_mail(&m))?;
            // Sent or given up: the copies of the documents it carried are of no more use.
            if m.state != MailState::Pending {
                for f in &m.attachments {
                    st.remove_attachment(&f.key)?;
                }
            }
            Ok::<(), crate::error::Error>(())
        })
        .await?;
    }
    Ok(sent)
}

/// The bytes of the files attached to `m`; a file missing is a permanent failure.
async fn attached_files(
    store: &Arc<Store>,
    m: &Mail,
) -> Result<std::result::Result<Vec<Vec<u8>>, String>> {
    if m.attachments.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let (st, files) = (store.clone(), m.attachments.clone());
    crate::blocking::try_run(move || {
        let mut out = Vec::with_capacity(files.len());
        for f in &files {
            match st.attachment(&f.key)? {
                Some(b) => out.push(b),
                None => return Ok(Err(format!("attached file {} is missing", f.name))),
            }
        }
        Ok(Ok(out))
    })
    .await
}
