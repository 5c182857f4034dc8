-- Posts, threads and thread membership: the start of the thread-linking index.
CREATE TABLE posts (
    id text PRIMARY KEY,            -- stable id: at:// URI, ActivityPub uri, x:<snowflake>
    source text NOT NULL,
    url text NOT NULL,
    author_id text NOT NULL,
    created_at text NOT NULL,
    parent_id text,
    status text NOT NULL DEFAULT 'ok',
    data text NOT NULL,             -- the neutral Post as JSON
    fetched_at double precision NOT NULL
);
CREATE INDEX posts_author ON posts (author_id, created_at);

CREATE TABLE threads (
    root_id text PRIMARY KEY,
    source text NOT NULL,
    url text NOT NULL,
    author_id text NOT NULL,
    truncated boolean NOT NULL DEFAULT FALSE,
    data text NOT NULL,             -- author, notices, asides layout as JSON
    fetched_at double precision NOT NULL
);

CREATE TABLE thread_posts (
    thread_id text NOT NULL REFERENCES threads (root_id) ON DELETE CASCADE,
    post_id text NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position integer NOT NULL,
    role text NOT NULL,             -- 'main' or 'aside'
    aside_after text,               -- for asides: the post they follow
    PRIMARY KEY (thread_id, post_id)
);
CREATE INDEX thread_posts_post ON thread_posts (post_id);

-- Every link form a user gave, normalised, to the post it names.
CREATE TABLE url_aliases (
    url text PRIMARY KEY,
    post_id text NOT NULL
);
