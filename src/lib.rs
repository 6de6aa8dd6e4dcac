//! offerwatch: the search and alert engine of a portal of apprenticeship and internship offers
//! in the French civil service.
//!
//! The store ([`store`], redb) is the system of record; the index ([`index`], tantivy) is derived
//! from it through the change log and rebuilt when missing. [`engine::Engine`] ties them
//! together; the HTTP layer and the command line sit on top of it.

#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod backoffice;
pub mod blocking;
pub mod candidates;
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod feed;
pub mod http;
pub mod import;
pub mod index;
pub mod links;
pub mod mail;
pub mod ops;
pub mod percolator;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod workers;

/// The fixture generator (source in `fixtures/`).
#[path = "../fixtures/generator.rs"]
pub mod fixtures;

pub use engine::Engine;
pub use error::{Error, ErrorKind, FieldCode, FieldError, Result, ValidationErrors};
