-- offerwatch on PostgreSQL, version 4: the columns that alert-mail claims read (due_at, daily,
-- created_at) are written by the store's Rust code beside each pending row, from the row itself,
-- and a rewritten row gives its claim up there too: no trigger reads field names out of JSON.
DROP TRIGGER alert_pending_due ON alert_pending;
DROP FUNCTION alert_pending_due();
