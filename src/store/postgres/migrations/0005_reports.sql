-- Offers reported by visitors ("Signaler cette offre").
CREATE TABLE IF NOT EXISTS reports (id bigint PRIMARY KEY, body bytea NOT NULL);
