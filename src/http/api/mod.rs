//! The JSON API and the feeds, one file per resource; each exposes `router()`.

pub(super) mod administrations;
pub(super) mod auth;
pub(super) mod candidates;
pub(super) mod documents;
pub(super) mod feeds;
pub(super) mod members;
pub(super) mod offers;
pub(super) mod ops;
pub(super) mod public_offer;
pub(super) mod recruiter_offers;
pub(super) mod recruiters;
pub(super) mod sources;
pub(super) mod stats;
