-- Posts, threads and thread membership: the start of the thread-linking index.
CREATE TABLE posts (
    id TEXT PRIMARY KEY,            -- stable id: at:// URI, ActivityPub uri, x:<snowflake>
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    author_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    parent_id TEXT,
    status TEXT NOT NULL DEFAULT 'ok',
    data TEXT NOT NULL,             -- the neutral Post as JSON
    fetched_at REAL NOT NULL
);
CREATE INDEX posts_author ON posts (author_id, created_at);

CREATE TABLE threads (
    root_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    author_id TEXT NOT NULL,
    truncated INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL,             -- author, notices, asides layout as JSON
    fetched_at REAL NOT NULL
);

CREATE TABLE thread_posts (
    thread_id TEXT NOT NULL REFERENCES threads (root_id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,             -- 'main' or 'aside'
    aside_after TEXT,               -- for asides: the post they follow
    PRIMARY KEY (thread_id, post_id)
);
CREATE INDEX thread_posts_post ON thread_posts (post_id);

-- Every link form a user gave, normalised, to the post it names (cache lookups make no
-- request even when the link uses a handle instead of a stable id).
CREATE TABLE url_aliases (
    url TEXT PRIMARY KEY,
    post_id TEXT NOT NULL
);
