//! Statistics for the back office: an offer's views, "Postuler" clicks and alert mails per day
//! (its recruiters), and the census of every offer by state, contract, region, administration
//! and month of first publication (administrators).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Backoffice;
use crate::auth::require;
use crate::domain::OfferState;
use crate::domain::account::{Account, Role};
use crate::error::Result;
use crate::store::stats::Counts;

/// One day of an offer's statistics.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD` (local).
    pub date: String,
    /// What was counted that day.
    #[serde(flatten)]
    pub counts: Counts,
}

/// An offer's statistics.
#[derive(Debug, Clone, Serialize)]
pub struct OfferStats {
    /// Its reference.
    pub reference: String,
    /// Its title.
    pub title: String,
    /// Since it exists.
    pub totals: Counts,
    /// The days anything was counted, in order.
    pub days: Vec<Day>,
}

/// A value and how many offers have it.
#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    /// Code (state, contract, region, administration) or `YYYY-MM`.
    pub value: String,
    /// Label to show.
    pub label: String,
    /// Offers.
    pub count: u64,
}

/// Every offer, counted.
#[derive(Debug, Clone, Serialize)]
pub struct Census {
    /// Offers in the store.
    pub total: u64,
    /// By state.
    pub states: Vec<Tally>,
    /// By contract.
    pub contracts: Vec<Tally>,
    /// By region (offers abroad: `etranger`).
    pub regions: Vec<Tally>,
    /// By administration.
    pub administrations: Vec<Tally>,
    /// By month of first publication (never published offers left out), in order.
    pub months: Vec<Tally>,
}

fn state_label(s: OfferState) -> (&'static str, &'static str) {
    match s {
        OfferState::Draft => ("draft", "Brouillon"),
        OfferState::Published => ("published", "Publiée"),
        OfferState::Archived => ("archived", "Archivée"),
        OfferState::Filled => ("filled", "Pourvue"),
    }
}

fn tallies(map: BTreeMap<(String, String), u64>, by_count: bool) -> Vec<Tally> {
    let mut v: Vec<Tally> = map
        .into_iter()
        .map(|((value, label), count)| Tally {
            value,
            label,
            count,
        })
        .collect();
    if by_count {
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    }
    v
}

impl Backoffice<'_> {
    /// The statistics of one of the recruiter's offers.
    pub fn offer_stats(&self, who: &Account, reference: &str) -> Result<OfferStats> {
        let offer = self.offer(who, reference)?;
        let mut totals = Counts::default();
        let days = self
            .engine
            .offer_stats(offer.id)?
            .into_iter()
            .map(|(date, counts)| {
                totals.add(counts);
                Day {
                    date: date.to_string(),
                    counts,
                }
            })
            .collect();
        Ok(OfferStats {
            reference: offer.reference.to_string(),
            title: offer.fields.title,
            totals,
            days,
        })
    }

    /// Every offer counted by state, contract, region, administration and month (administrators).
    pub fn census(&self, admin: &Account) -> Result<Census> {
        require(admin, Role::Admin)?;
        let mut total = 0;
        let mut maps: [BTreeMap<(String, String), u64>; 5] = Default::default();
        self.engine.store().for_each_offer(|o| {
            total += 1;
            let f = &o.fields;
            let (code, label) = state_label(o.state);
            let region = match f.region {
                Some(r) => (r.code().to_string(), r.label().to_string()),
                None => ("etranger".into(), "Étranger".into()),
            };
            let keys = [
                Some((code.to_string(), label.to_string())),
                Some((
                    f.contract.code().to_string(),
                    f.contract.label().to_string(),
                )),
                Some(region),
                Some((
                    f.administration.code().to_string(),
                    f.administration.label().to_string(),
                )),
                o.first_published_at.map(|t| {
                    let d = self.engine.zone().today(t);
                    let m = format!("{}-{:02}", d.year(), u8::from(d.month()));
                    (m.clone(), m)
                }),
            ];
            for (map, key) in maps.iter_mut().zip(keys) {
                if let Some(k) = key {
                    *map.entry(k).or_default() += 1;
                }
            }
            Ok(())
        })?;
        let [states, contracts, regions, administrations, months] = maps;
        Ok(Census {
            total,
            states: tallies(states, true),
            contracts: tallies(contracts, true),
            regions: tallies(regions, true),
            administrations: tallies(administrations, true),
            months: tallies(months, false),
        })
    }
}
