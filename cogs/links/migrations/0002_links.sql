-- The thread-linking index: links between posts and threads, found in the authors' words
-- or set by moderators, and the record of every change to them (who, when, what).
CREATE TABLE thread_links (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('belongs_to', 'context', 'continues')),
    -- What the link starts from (the moved post, or the thread) and what it points to:
    -- a key (the stable post id when known, else the link in normal form) and a link.
    source_key TEXT NOT NULL,
    source_url TEXT NOT NULL,
    target_key TEXT NOT NULL,
    target_url TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('auto', 'moderator')),
    active INTEGER NOT NULL DEFAULT 1,
    -- belongs_to: the author left the post where it is; it stays there, marked.
    keep_in_place INTEGER NOT NULL DEFAULT 0,
    -- belongs_to: the moved post as JSON, so its new thread shows it without a fetch.
    moved_post TEXT,
    from_thread_url TEXT,
    evidence TEXT NOT NULL DEFAULT '[]',  -- JSON list of {"post", "phrase"}
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at REAL NOT NULL,
    UNIQUE (kind, source_key, target_key)
);
CREATE INDEX thread_links_source ON thread_links (source_key);
CREATE INDEX thread_links_source_url ON thread_links (source_url);
CREATE INDEX thread_links_target ON thread_links (target_key);
CREATE INDEX thread_links_target_url ON thread_links (target_url);

CREATE TABLE link_changes (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,       -- detect, link, unlink, undo
    summary TEXT NOT NULL,
    -- JSON list of {"link": id, "before": state or null, "after": state}; a state is
    -- {"active", "origin", "keep_in_place"}. Undo puts every "before" back.
    states TEXT NOT NULL,
    undone_by INTEGER REFERENCES link_changes (id),
    undoes INTEGER REFERENCES link_changes (id)  -- for an undo: the change it undid
);

-- Which links each change touched (the changes of a thread's links, without reading all).
CREATE TABLE link_change_links (
    change_id INTEGER NOT NULL REFERENCES link_changes (id) ON DELETE CASCADE,
    link_id INTEGER NOT NULL REFERENCES thread_links (id) ON DELETE CASCADE,
    PRIMARY KEY (change_id, link_id)
);
CREATE INDEX link_change_links_link ON link_change_links (link_id)
