-- What the bot posted where: the outbox that makes delivery resumable, edits possible
-- (content warnings applied later) and repeated unrolls link to the existing chat thread.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    adapter TEXT NOT NULL,
    scope TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_root TEXT NOT NULL,
    thread_url TEXT NOT NULL,
    header_message TEXT,            -- message id of the header
    chat_thread TEXT,               -- chat thread id the posts went into
    state TEXT NOT NULL DEFAULT 'pending',   -- pending, sent, failed
    origin TEXT NOT NULL DEFAULT 'command',  -- command, subscription
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX deliveries_thread ON deliveries (thread_root, adapter, channel);
CREATE INDEX deliveries_state ON deliveries (state);

CREATE TABLE delivery_messages (
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,             -- header, post, notice
    post_id TEXT,
    message_ids TEXT,               -- JSON list of the chunks' message ids, once sent
    sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (delivery_id, position)
);
CREATE INDEX delivery_messages_post ON delivery_messages (post_id);
