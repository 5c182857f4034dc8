-- Several bot processes on one database: one sender per delivery at a time. A sender's
-- lease carries a fence number that grows at every takeover; progress is recorded only
-- under the current fence, so a sender whose lease expired cannot record any.
ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until REAL;
ALTER TABLE deliveries ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
