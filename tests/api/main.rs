//! HTTP tests: the real server on `127.0.0.1:0` with a fresh temp data dir, a real HTTP client.

mod accounts;
mod administrations;
mod alerts;
mod backoffice;
mod backoffice_pages;
mod browser;
mod candidate_pages;
mod crash_alerts;
mod errors;
mod feeds;
mod hardening;
mod helpers;
mod live_cli;
mod mail_tls;
mod nodes;
mod opening;
mod ops;
mod outage;
mod portal;
mod roles;
mod search;
mod serve;
mod smtp;
mod sources;
mod stats;
mod typos;
