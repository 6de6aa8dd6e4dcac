//! The search index (tantivy), derived from the store. One writer thread applies the store's
//! change log, commits with the last applied sequence in the commit payload, and reloads the
//! reader; searches read the latest reloaded snapshot. A missing index, or one of another schema
//! version, is rebuilt from the store.

mod ahead;
mod browse;
pub mod collector;
pub mod document;
pub mod query;
pub mod schema;
pub mod search;
mod sets;
mod similar;
pub mod suggest;
pub mod synonyms;
pub mod typos;
mod writer;

pub use search::{FacetCount, FacetCounts, SearchHits};
pub use writer::{IndexerHandle, give_back_free_memory};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::domain::local_time::Zone;
use crate::error::{Error, Result};
use schema::{OfferSchema, offer_schema, register_analyzers};

/// What every commit records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    /// Version of `index-schema/offers.json` the index was built with.
    pub schema_version: u32,
    /// The time zone of the ends of diffusion it holds (another zone: rebuilt).
    #[serde(default)]
    pub time_zone: String,
    /// Last change-log sequence the index contains.
    pub seq: u64,
    /// Per facet, how many codes the referential had and their digest
    /// ([`crate::domain::referentials::codes_digest`]): other ordinals, the index is rebuilt;
    /// more codes since (an administration added), it is still good.
    #[serde(default)]
    pub codes: Vec<(usize, u64)>,
}

/// The referential's codes as a commit records them.
pub(crate) fn codes_now() -> Vec<(usize, u64)> {
    use crate::domain::{Facet, referentials::codes_digest};
    Facet::ALL
        .iter()
        .map(|&f| {
            let len = f.values().len();
            (len, codes_digest(f, len))
        })
        .collect()
}

/// True when an index committed with `codes` reads its ordinals as the referential does now.
fn same_ordinals(codes: &[(usize, u64)]) -> bool {
    use crate::domain::{Facet, referentials::codes_digest};
    codes.is_empty()
        || (codes.len() == Facet::COUNT
            && Facet::ALL.iter().zip(codes).all(|(&f, &(len, digest))| {
                len <= f.values().len() && codes_digest(f, len) == digest
            }))
}

/// How the index was found at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    /// Usable; replay the change log after `seq`.
    Current {
        /// Last applied sequence.
        seq: u64,
    },
    /// Missing, unreadable or of another schema version: must be rebuilt.
    NeedsRebuild,
}

/// The index and its reader.
#[derive(Clone)]
pub struct SearchIndex {
    /// The tantivy index.
    pub index: Index,
    /// Reader reloaded by the writer after each commit.
    pub reader: IndexReader,
    /// Field handles.
    pub schema: &'static OfferSchema,
    dir: PathBuf,
    browser: std::sync::Arc<browse::Browser>,
    /// Completions of the visible offers, kept by the writer.
    pub suggester: std::sync::Arc<std::sync::RwLock<suggest::Suggester>>,
    /// The portal's zone: an offer's diffusion ends at its local midnight.
    zone: Zone,
    /// The synonym list keywords are read with.
    synonyms: synonyms::Current,
    /// The matches of one segment from which a search shares its walk between two threads.
    shared_walk: usize,
}

fn read_payload(index: &Index) -> Option<CommitPayload> {
    let metas = index.load_metas().ok()?;
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

impl SearchIndex {
    /// Opens the index in `dir` for the portal's `zone`, read with `synonyms`, creating an empty
    /// one when it is missing, unusable or built for another zone (and saying so, so that the
    /// caller rebuilds it from the store).
    pub fn open(
        dir: &Path,
        zone: Zone,
        synonyms: synonyms::Synonyms,
    ) -> Result<(SearchIndex, IndexState)> {
        let s = offer_schema();
        let existing = if dir.join("meta.json").exists() {
            MmapDirectory::open(dir)
                .ok()
                .and_then(|d| Index::open(d).ok())
                .filter(|i| i.schema() == s.schema)
                .and_then(|i| {
                    let p = read_payload(&i)?;
                    (p.schema_version == s.version
                        && p.time_zone == zone.name()
                        && same_ordinals(&p.codes))
                    .then_some((i, p.seq))
                })
        } else {
            None
        };
        let (index, state) = match existing {
            Some((index, seq)) => (index, IndexState::Current { seq }),
            None => {
                if dir.exists() {
                    tracing::warn!(dir = %dir.display(), "index missing, unreadable or of another schema version: rebuilding from the store");
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                let index = Index::create_in_dir(dir, s.schema.clone())?;
                (index, IndexState::NeedsRebuild)
            }
        };
        register_analyzers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((
            SearchIndex {
                index,
                reader,
                schema: s,
                dir: dir.to_path_buf(),
                browser: Default::default(),
                suggester: Default::default(),
                zone,
                synonyms: synonyms::Current::new(synonyms),
                shared_walk: collector::SHARED_WALK,
            },
            state,
        ))
    }

    /// Number of documents in the current snapshot.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The portal's time zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The synonym list keywords are read with (shared by the clones of the index).
    pub fn synonyms(&self) -> &synonyms::Current {
        &self.synonyms
    }

    /// Shares a segment's walk between two threads from `n` matches (`usize::MAX`: never; the
    /// default is [`collector::SHARED_WALK`]).
    pub fn share_walks_from(&mut self, n: usize) {
        self.shared_walk = n;
    }

    /// The payload of the last commit.
    pub fn committed(&self) -> CommitPayload {
        read_payload(&self.index).unwrap_or_default()
    }
}

impl From<Error> for tantivy::TantivyError {
    fn from(e: Error) -> Self {
        tantivy::TantivyError::InternalError(e.to_string())
    }
}
