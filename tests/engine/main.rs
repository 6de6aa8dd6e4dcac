//! Engine tests: the real store and index on a temp dir, no server.

mod common;
mod crash;
mod facets;
mod percolate;
mod search;
