-- Adapter state handed between processes (see 0009_adapter_state.sql).
CREATE TABLE adapter_state (
    adapter text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    owner text,
    updated_at double precision NOT NULL,
    PRIMARY KEY (adapter, key)
);
