-- offerwatch on PostgreSQL, version 6: the administrations an administrator added or renamed
-- (/admin/administrations), laid over the compiled referential by every node.
CREATE TABLE IF NOT EXISTS administrations (code text COLLATE "C" PRIMARY KEY, body bytea NOT NULL);
