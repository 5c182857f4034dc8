-- Several bot processes on one database: a lease on each author gives one poll per author
-- per interval, and each host's request budget is one row all processes draw from.
ALTER TABLE sub_authors ADD COLUMN lease_owner TEXT;            -- the process working on it
ALTER TABLE sub_authors ADD COLUMN lease_until REAL;            -- unix time the claim ends

CREATE TABLE host_budgets (
    host TEXT PRIMARY KEY,
    tokens REAL NOT NULL,                   -- requests that may go now
    updated_at REAL NOT NULL,               -- when tokens was last refilled
    closed_until REAL NOT NULL DEFAULT 0,   -- after a 429: nothing goes before this
    queued_until REAL NOT NULL DEFAULT 0    -- the last slot handed to a deferred request
);
