-- offerwatch on PostgreSQL, version 1: the tables of the embedded store, one typed column per
-- key and value part. Records are the same JSON documents as in the embedded store (bytea).
-- Text keys sort bytewise (COLLATE "C"), as in the embedded store.

CREATE TABLE offers (id bigint PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE "references" (reference text COLLATE "C" PRIMARY KEY, offer_id bigint NOT NULL);
-- The change log each node's index and percolator follow. Sequence numbers are allocated under
-- the writers' lock, so they commit in order (a bigserial is taken before commit: a reader could
-- see 7 before 6 commits and pass 6 by).
CREATE TABLE changes (seq bigint PRIMARY KEY, offer_id bigint NOT NULL);
CREATE TABLE counters (name text COLLATE "C" PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);

CREATE TABLE accounts (id bigint PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE logins (login text COLLATE "C" PRIMARY KEY, account_id bigint NOT NULL);
-- Sessions and single-use links, by the SHA-256 of the token.
CREATE TABLE tokens (hash text COLLATE "C" PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE services (id bigint PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE service_offers (service_id bigint, offer_id bigint, PRIMARY KEY (service_id, offer_id));
CREATE TABLE mails (id bigint PRIMARY KEY, body bytea NOT NULL);

CREATE TABLE saved_searches (id bigint PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE account_searches (account_id bigint, search_id bigint, PRIMARY KEY (account_id, search_id));
CREATE TABLE percolated (offer_id bigint PRIMARY KEY, at bigint NOT NULL);
-- One row per (alert, offer), ever: a match is mailed once whatever the number of nodes.
CREATE TABLE alert_outbox (search_id bigint, offer_id bigint, body bytea NOT NULL, PRIMARY KEY (search_id, offer_id));
CREATE TABLE alert_pending (search_id bigint, offer_id bigint, body bytea NOT NULL, PRIMARY KEY (search_id, offer_id));
-- Accounts whose alerts changed, for the other nodes' percolators.
CREATE TABLE alert_changes (seq bigint PRIMARY KEY, account_id bigint NOT NULL);

CREATE TABLE offer_stats (offer_id bigint, day integer, views bigint NOT NULL, clicks bigint NOT NULL, mails bigint NOT NULL, PRIMARY KEY (offer_id, day));
CREATE TABLE sources (id bigint PRIMARY KEY, body bytea NOT NULL);

-- Work done by one node at a time (percolating, mailing, archiving, polling feeds): who holds it
-- and until when; another node takes it over when the holder stops renewing it.
CREATE TABLE leases (name text COLLATE "C" PRIMARY KEY, body bytea NOT NULL);
-- Login and mail throttles, shared by the nodes.
CREATE TABLE throttles (key text COLLATE "C" PRIMARY KEY, body bytea NOT NULL);
-- Attachments (PDF, ODT…), so that any node serves them.
CREATE TABLE attachments (name text COLLATE "C" PRIMARY KEY, bytes bytea NOT NULL);
