-- What a chat adapter keeps across restarts and hands to a standby process (the Matrix
-- sync token and device), one JSON value per adapter and key.
CREATE TABLE adapter_state (
    adapter TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (adapter, key)
);
