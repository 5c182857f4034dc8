-- Poll leases and shared host budgets (see 0007_poll_leases.sql).
ALTER TABLE sub_authors ADD COLUMN lease_owner text;
ALTER TABLE sub_authors ADD COLUMN lease_until double precision;

CREATE TABLE host_budgets (
    host text PRIMARY KEY,
    tokens double precision NOT NULL,
    updated_at double precision NOT NULL,
    closed_until double precision NOT NULL DEFAULT 0,
    queued_until double precision NOT NULL DEFAULT 0
);
