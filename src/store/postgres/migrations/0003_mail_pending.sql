-- offerwatch on PostgreSQL, version 3: the ids of the account mails still pending, so that the
-- sender reads these and not every mail ever sent (filled from `mails` when the store opens).
CREATE TABLE mail_pending (id bigint PRIMARY KEY);
