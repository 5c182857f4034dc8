-- Content notes: per-scope policies and support lines, warnings moderators put on threads
-- (they apply to every later unroll, in every room), and a log of every moderator action.
CREATE TABLE note_policies (
    scope TEXT NOT NULL,            -- the settings scope (Discord server, Matrix room)
    category TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('show', 'note', 'warn', 'hide')),
    updated_at REAL NOT NULL,
    PRIMARY KEY (scope, category)
);

CREATE TABLE note_support_lines (
    scope TEXT PRIMARY KEY,
    text TEXT NOT NULL,             -- the server's own words, shown with suicide/self-harm notes
    updated_at REAL NOT NULL
);

CREATE TABLE thread_warnings (
    thread_key TEXT NOT NULL,       -- the thread's root post id, or its link when unresolved
    category TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    thread_url TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (thread_key, category)
);

CREATE TABLE note_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    adapter TEXT NOT NULL,
    scope TEXT NOT NULL,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,           -- warning-added, warning-removed, policy, support
    detail TEXT NOT NULL
);
CREATE INDEX note_actions_scope ON note_actions (scope, at);
