-- offerwatch on PostgreSQL, version 2: every node sends alert mails at once. A node claims a
-- batch of due pending rows (FOR UPDATE SKIP LOCKED: two nodes never take the same row), marks
-- them with its name and a lapse time (Unix milliseconds) that it renews while it sends, and
-- another node takes them over when that time has passed (the claimer died). When a row is due
-- is kept beside its record, so that a claim reads only due rows; a trigger fills it from the
-- record and gives the claim up when the record is rewritten (an attempt settled).

ALTER TABLE alert_pending
    ADD COLUMN due_at bigint NOT NULL DEFAULT 0,
    ADD COLUMN daily boolean NOT NULL DEFAULT false,
    ADD COLUMN created_at bigint NOT NULL DEFAULT 0,
    ADD COLUMN claimed_by text,
    ADD COLUMN claimed_until bigint NOT NULL DEFAULT 0;

CREATE FUNCTION alert_pending_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := convert_from(NEW.body, 'UTF8')::jsonb;
BEGIN
    NEW.due_at := (extract(epoch FROM (r->>'next_attempt_at')::timestamptz) * 1000)::bigint;
    NEW.daily := (r->>'frequency') = 'daily';
    NEW.created_at := (extract(epoch FROM (r->>'created_at')::timestamptz) * 1000)::bigint;
    IF TG_OP = 'UPDATE' AND NEW.body IS DISTINCT FROM OLD.body THEN
        NEW.claimed_by := NULL;
        NEW.claimed_until := 0;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER alert_pending_due BEFORE INSERT OR UPDATE OF body ON alert_pending
    FOR EACH ROW EXECUTE FUNCTION alert_pending_due();

-- The rows already there.
UPDATE alert_pending SET body = body;

CREATE INDEX alert_pending_claims ON alert_pending (claimed_by) WHERE claimed_by IS NOT NULL;
