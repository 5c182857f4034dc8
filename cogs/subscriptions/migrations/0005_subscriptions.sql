-- Subscriptions: authors followed into rooms. An author is polled once however many rooms
-- follow it; what the poller learns about the author's threads is kept per author, what was
-- done with each thread is kept per subscription (deliveries themselves live in the outbox).
CREATE TABLE sub_authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    author_id TEXT NOT NULL,        -- DID or ActivityPub actor uri
    handle TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    host TEXT NOT NULL,             -- the host polled (rate limits are per host)
    state TEXT NOT NULL DEFAULT 'active',   -- active, refused, paused
    reason TEXT,                    -- why refused or paused
    interval_s REAL NOT NULL,
    next_poll_at REAL NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at REAL,
    last_poll_at REAL,
    last_activity_at REAL,          -- when the author was last seen posting
    UNIQUE (source, author_id)
);
CREATE INDEX sub_authors_due ON sub_authors (state, next_poll_at);

-- Threads by a followed author, grouped from what the polls returned.
CREATE TABLE sub_threads (
    author INTEGER NOT NULL REFERENCES sub_authors (id) ON DELETE CASCADE,
    root_id TEXT NOT NULL,          -- the thread's first post (or the earliest one seen)
    url TEXT NOT NULL,
    root_created_at TEXT NOT NULL,
    first_seen_at REAL NOT NULL,
    activity_at REAL NOT NULL,      -- time of the newest post (never later than first seen)
    post_count INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,     -- grows with every new post seen
    kind TEXT NOT NULL DEFAULT 'thread',    -- thread, reply (to someone else), hidden
    PRIMARY KEY (author, root_id)
);

CREATE TABLE sub_posts (
    author INTEGER NOT NULL REFERENCES sub_authors (id) ON DELETE CASCADE,
    post_id TEXT NOT NULL,
    root_id TEXT NOT NULL,
    PRIMARY KEY (author, post_id)
);

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author INTEGER NOT NULL REFERENCES sub_authors (id) ON DELETE CASCADE,
    adapter TEXT NOT NULL,
    scope TEXT NOT NULL,
    channel TEXT NOT NULL,
    min_posts INTEGER NOT NULL DEFAULT 1,
    include_words TEXT NOT NULL DEFAULT '[]',   -- JSON list
    exclude_words TEXT NOT NULL DEFAULT '[]',   -- JSON list
    backfill INTEGER NOT NULL DEFAULT 0,
    primed INTEGER NOT NULL DEFAULT 0,  -- the first poll has recorded what already existed
    created_by TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    last_thread_url TEXT,
    last_delivered_at REAL,
    last_error TEXT,
    UNIQUE (adapter, channel, author)
);
CREATE INDEX subscriptions_room ON subscriptions (adapter, scope, channel);

-- What each subscription did with each thread: old (existed when subscribing), skipped
-- (filters, with the reason), delivering (planned in the outbox), delivered.
CREATE TABLE subscription_threads (
    subscription INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    root_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    version INTEGER NOT NULL,       -- the thread version this state is about
    delivery_id INTEGER,
    planned_at REAL,
    header_count INTEGER,           -- post count the header shows
    updated_at REAL NOT NULL,
    PRIMARY KEY (subscription, root_id)
);
CREATE INDEX subscription_threads_delivery ON subscription_threads (delivery_id);
