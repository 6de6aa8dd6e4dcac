-- offerwatch on PostgreSQL, version 7: the applications sent from the portal (« Postuler en
-- ligne »), per offer and day, beside the other statistics.
CREATE TABLE IF NOT EXISTS offer_applications (offer_id bigint, day integer, applications bigint NOT NULL, PRIMARY KEY (offer_id, day));
