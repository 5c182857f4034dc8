-- Packed layout: one chat message may hold several posts. Each planned message lists the
-- posts (and notices) it holds, so a resume after a crash, a post appended later and an
-- edit in place all find the message that holds a post. A delivery keeps the layout it
-- was planned with; rooms choose theirs.
ALTER TABLE delivery_messages ADD COLUMN post_ids TEXT;   -- JSON list of item keys; NULL: post_id alone
ALTER TABLE deliveries ADD COLUMN layout TEXT NOT NULL DEFAULT 'per-post';

CREATE TABLE room_layouts (
    scope TEXT PRIMARY KEY,         -- the settings scope (Discord server, Matrix room)
    layout TEXT NOT NULL CHECK (layout IN ('packed', 'per-post')),
    updated_by TEXT NOT NULL,
    updated_at REAL NOT NULL
);
