//! Bulk import of JSON-lines offers (the output of `gen-fixtures`, or an export): lines are
//! parsed and validated in parallel, written to the store in batches of one durable transaction
//! each, and indexed by the writer from the change log.

use std::io::BufRead;
use std::time::Duration;

use rayon::prelude::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::{DateRule, OfferInput, OfferState};
use crate::engine::Engine;
use crate::error::{FieldError, Result, ValidationErrors};
use crate::store::NewOffer;

/// Lines per store transaction.
const BATCH: usize = 10_000;
/// Rejected lines reported in detail.
const MAX_REPORTED: usize = 50;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Offers written.
    pub imported: u64,
    /// Lines refused.
    pub rejected: u64,
    /// Offers in France imported without a commune (a town no commune's name matched).
    pub without_commune: u64,
    /// The first refused lines: (line number, reason).
    pub errors: Vec<(u64, String)>,
}

/// Parses one line into an offer to create.
pub fn parse_line(line: &str, now: OffsetDateTime) -> Result<NewOffer, String> {
    let mut input: OfferInput = serde_json::from_str(line).map_err(|e| e.to_string())?;
    input.resolve_commune();
    let fields = input
        .validate(DateRule::Import)
        .map_err(|e| e.to_string())?;
    let mut errors = ValidationErrors::default();
    let state = match input.state.as_deref() {
        None => OfferState::Draft,
        Some(s) => OfferState::parse("state", s).unwrap_or_else(|e| {
            errors.push(e);
            OfferState::Draft
        }),
    };
    let published_at = match input.published_at.as_deref() {
        None => None,
        Some(s) => match OffsetDateTime::parse(s, &Rfc3339) {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(FieldError::new("published_at", "is not an RFC 3339 time"));
                None
            }
        },
    };
    let published_at = match (state, published_at) {
        (OfferState::Draft, _) => None,
        (_, Some(t)) => Some(t),
        (_, None) => Some(now),
    };
    errors
        .into_result(NewOffer {
            fields,
            state,
            created_at: published_at.unwrap_or(now),
            published_at,
            service_id: None,
            audit: Vec::new(),
        })
        .map_err(|e| e.to_string())
}

/// Imports every line of `input`; `progress` is called with the number of lines read so far.
/// Returns once the imported offers are searchable.
pub fn import_jsonl(
    engine: &Engine,
    input: impl BufRead,
    progress: impl Fn(u64),
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut lines = input.lines();
    let mut line_no = 0u64;
    let mut last_seq = 0;
    let now = engine.now();
    loop {
        let mut chunk = Vec::with_capacity(BATCH);
        for line in lines.by_ref() {
            line_no += 1;
            let line = line?;
            if !line.trim().is_empty() {
                chunk.push((line_no, line));
            }
            if chunk.len() == BATCH {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let parsed: Vec<(u64, Result<NewOffer, String>)> = chunk
            .into_par_iter()
            .map(|(n, l)| (n, parse_line(&l, now)))
            .collect();
        let mut batch = Vec::with_capacity(parsed.len());
        for (n, r) in parsed {
            match r {
                Ok(o) => {
                    if o.fields.country.is_france() && o.fields.commune.is_none() {
                        report.without_commune += 1;
                    }
                    batch.push(o)
                }
                Err(e) => {
                    report.rejected += 1;
                    if report.errors.len() < MAX_REPORTED {
                        report.errors.push((n, e));
                    }
                }
            }
        }
        if !batch.is_empty() {
            report.imported += batch.len() as u64;
            let (_, seq) = engine.create_offers(batch)?;
            last_seq = seq;
        }
        progress(line_no);
    }
    if last_seq > 0 {
        engine.wait_indexed(last_seq, Duration::from_secs(600))?;
    }
    Ok(report)
}
