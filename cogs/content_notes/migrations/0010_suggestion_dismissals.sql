-- Model suggestions a moderator dismissed on a thread: that category is not suggested there
-- again, in any room, until a moderator adds a warning for it (cw add removes the row).
CREATE TABLE suggestion_dismissals (
    thread_key TEXT NOT NULL,       -- the thread's root post id, or its link when unresolved
    category TEXT NOT NULL,
    thread_url TEXT NOT NULL,
    dismissed_by TEXT NOT NULL,
    dismissed_at REAL NOT NULL,
    PRIMARY KEY (thread_key, category)
);
CREATE INDEX suggestion_dismissals_recent ON suggestion_dismissals (dismissed_at);
