-- Packed layout: one chat message may hold several posts (see 0006_packed_layout.sql).
ALTER TABLE delivery_messages ADD COLUMN post_ids text;   -- JSON list of item keys; NULL: post_id alone
ALTER TABLE deliveries ADD COLUMN layout text NOT NULL DEFAULT 'per-post';

CREATE TABLE room_layouts (
    scope text PRIMARY KEY,         -- the settings scope (Discord server, Matrix room)
    layout text NOT NULL CHECK (layout IN ('packed', 'per-post')),
    updated_by text NOT NULL,
    updated_at double precision NOT NULL
);
