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

-- One processed event is saved by ONE statement: an INSERT into this write-only view,
-- whose trigger writes every table. A single statement is atomic on its own, and it
-- costs one round trip to the database thread instead of one per table.
CREATE VIEW turns (
    user_id, first_name, lang, reminders, created_at, updated_at,
    flow, node, node_version, vars, pending, dialog_version,
    milestones,  -- JSON [[milestone, stage], ...] newly reached
    stages,      -- JSON [stage, ...] newly completed
    events       -- JSON [[name, {data}], ...] for the event log
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
WHERE 0;

CREATE TRIGGER save_turn INSTEAD OF INSERT ON turns
BEGIN
    INSERT INTO users (user_id, first_name, lang, reminders, created_at, updated_at)
    VALUES (NEW.user_id, NEW.first_name, NEW.lang, NEW.reminders, NEW.created_at, NEW.updated_at)
    ON CONFLICT (user_id) DO UPDATE SET
        first_name = excluded.first_name, lang = excluded.lang,
        reminders = excluded.reminders, updated_at = excluded.updated_at;
    INSERT OR REPLACE INTO conversations
        (user_id, flow, node, node_version, vars, pending, dialog_version)
    VALUES (NEW.user_id, NEW.flow, NEW.node, NEW.node_version, NEW.vars, NEW.pending, NEW.dialog_version);
    INSERT OR IGNORE INTO milestones (user_id, milestone, stage, reached_at)
    SELECT NEW.user_id, json_extract(value, '$[0]'), json_extract(value, '$[1]'), NEW.updated_at
    FROM json_each(NEW.milestones);
    INSERT OR IGNORE INTO stages_completed (user_id, stage, completed_at)
    SELECT NEW.user_id, value, NEW.updated_at FROM json_each(NEW.stages);
    INSERT INTO events (user_id, at, name, data)
    SELECT NEW.user_id, NEW.updated_at, json_extract(value, '$[0]'), json_extract(value, '$[1]')
    FROM json_each(NEW.events);
END;
