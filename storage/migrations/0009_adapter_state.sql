-- What a chat adapter keeps across restarts and hands to a standby process (the Matrix
-- sync token and device), one JSON value per adapter and key (the Matrix account). owner
-- names the process that holds the session (storage.leases.process_owner): only it may
-- write the value, so a process that lost the session cannot put an older token back.
CREATE TABLE adapter_state (
    adapter TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    owner TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (adapter, key)
);
