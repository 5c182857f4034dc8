-- Model suggestions a moderator dismissed on a thread (see 0010_suggestion_dismissals.sql).
CREATE TABLE suggestion_dismissals (
    thread_key text NOT NULL,
    category text NOT NULL,
    thread_url text NOT NULL,
    dismissed_by text NOT NULL,
    dismissed_at double precision NOT NULL,
    PRIMARY KEY (thread_key, category)
);
CREATE INDEX suggestion_dismissals_recent ON suggestion_dismissals (dismissed_at);
