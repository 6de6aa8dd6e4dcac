//! Similar offers: the visible offers that share the most distinctive words of an offer (its
//! rarest stemmed words, those of its title counted twice), ranked by BM25 on those words plus a
//! bonus for the same domain and contract (weighing most) and the same region (next). Never the
//! offer itself.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Score, SegmentReader, Term};

use super::SearchIndex;
use super::schema::{analyze, fr_stem};
use crate::domain::{Facet, Offer};
use crate::error::Result;

/// Distinctive words asked for.
const WORDS: usize = 16;
/// Bonus of the same domain, of the same contract, of the same region.
const SAME_DOMAIN: Score = 6.0;
const SAME_CONTRACT: Score = 6.0;
const SAME_REGION: Score = 3.0;

impl SearchIndex {
    /// The store ids of the `limit` visible offers at `now` most like `offer`, best first.
    pub fn similar(&self, offer: &Offer, now: i64, limit: usize) -> Result<Vec<u64>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let s = self.schema;
        let f = &offer.fields;
        // Term frequencies in the offer, the title's words counted twice.
        let mut stem = fr_stem();
        let mut tf: HashMap<String, f32> = HashMap::new();
        for w in analyze(&mut stem, &f.title) {
            *tf.entry(w).or_default() += 2.0;
        }
        for t in [Some(f.description.as_str()), f.profile.as_deref()]
            .into_iter()
            .flatten()
        {
            for w in analyze(&mut stem, t) {
                *tf.entry(w).or_default() += 1.0;
            }
        }
        let docs = searcher.num_docs().max(1) as f32;
        let mut weighted: Vec<(f32, String)> = Vec::with_capacity(tf.len());
        for (w, n) in tf {
            let df = searcher.doc_freq(&Term::from_field_text(s.text, &w))? as f32;
            // A word every offer has tells nothing; one only this offer has finds nothing.
            if df < 2.0 || df > docs * 0.5 {
                continue;
            }
            let idf = (docs / df).ln();
            weighted.push((n.sqrt() * idf, w));
        }
        weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        weighted.truncate(WORDS);
        if weighted.is_empty() {
            return Ok(Vec::new());
        }
        let words: Vec<(Occur, Box<dyn Query>)> = weighted
            .iter()
            .map(|(weight, w)| -> (Occur, Box<dyn Query>) {
                let q = TermQuery::new(
                    Term::from_field_text(s.text, w),
                    IndexRecordOption::WithFreqs,
                );
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), weight.min(4.0))),
                )
            })
            .collect();
        let query = BooleanQuery::new(words);
        let ords = f.facet_ordinals();
        let domain = ords[Facet::Domain.index()].map(u64::from);
        let contract = ords[Facet::Contract.index()].map(u64::from);
        let region = ords[Facet::Region.index()].map(u64::from);
        let name = |field| s.schema.get_field_name(field).to_string();
        let (id_f, until_f) = (name(s.id), name(s.visible_until));
        let (domain_f, contract_f, region_f) = (
            name(s.facets[Facet::Domain.index()]),
            name(s.facets[Facet::Contract.index()]),
            name(s.facets[Facet::Region.index()]),
        );
        let me = offer.id;
        let collector = TopDocs::with_limit(limit).tweak_score(move |reader: &SegmentReader| {
            let ff = reader.fast_fields();
            let col = |n: &str| ff.u64(n).ok().map(|c| c.first_or_default_col(u64::MAX));
            let (ids, domains, contracts, regions) =
                (col(&id_f), col(&domain_f), col(&contract_f), col(&region_f));
            let until = ff.i64(&until_f).ok().map(|c| c.first_or_default_col(0));
            move |doc, score: Score| -> Score {
                let get = |c: &Option<std::sync::Arc<dyn tantivy::columnar::ColumnValues<u64>>>| {
                    c.as_ref().map(|c| c.get_val(doc))
                };
                let visible = until.as_ref().is_some_and(|u| u.get_val(doc) > now);
                if !visible || get(&ids) == Some(me) {
                    return Score::NEG_INFINITY;
                }
                let same =
                    |mine: Option<u64>, theirs: Option<u64>| mine.is_some() && mine == theirs;
                let mut bonus = 0.0;
                if same(domain, get(&domains)) {
                    bonus += SAME_DOMAIN;
                }
                if same(contract, get(&contracts)) {
                    bonus += SAME_CONTRACT;
                }
                if same(region, get(&regions)) {
                    bonus += SAME_REGION;
                }
                score + bonus
            }
        });
        let found: Vec<(Score, DocAddress)> = searcher.search(&query, &collector)?;
        let mut out = Vec::with_capacity(found.len());
        for (score, addr) in found {
            if score == Score::NEG_INFINITY {
                continue;
            }
            let reader = searcher.segment_reader(addr.segment_ord);
            let ids = reader.fast_fields().u64(&name(s.id))?;
            if let Some(id) = ids.first(addr.doc_id) {
                out.push(id);
            }
        }
        Ok(out)
    }
}
