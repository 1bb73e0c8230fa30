-- Users, their conversation state, per-stage progress and an event log.
CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    first_name  TEXT    NOT NULL DEFAULT '',
    lang        TEXT    NOT NULL,
    reminders   INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE conversations (
    user_id        INTEGER PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    flow           TEXT,
    node           TEXT,
    node_version   TEXT NOT NULL DEFAULT '',
    vars           TEXT NOT NULL DEFAULT '{}',
    pending        TEXT,
    dialog_version TEXT NOT NULL DEFAULT ''
);

CREATE TABLE milestones (
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    milestone  TEXT    NOT NULL,
    stage      TEXT,
    reached_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, milestone)
) WITHOUT ROWID;

CREATE TABLE stages_completed (
    user_id      INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    stage        TEXT    NOT NULL,
    completed_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, stage)
) WITHOUT ROWID;

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    at      TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    data    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_user ON events(user_id, id);
CREATE INDEX events_by_name ON events(name, at);
