-- VIE Coach schema. Times of the conversation are ISO-8601 UTC text; times of the nudge
-- outbox are integer milliseconds since the epoch (they sort and compare exactly).
CREATE TABLE users (
    user_id     INTEGER PRIMARY KEY,
    first_name  TEXT    NOT NULL DEFAULT '',
    lang        TEXT    NOT NULL,
    reminders   INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    blocked     INTEGER NOT NULL DEFAULT 0,
    timezone    TEXT    NOT NULL DEFAULT '',    -- IANA name from /timezone; '' = by language
    nudges_sent TEXT    NOT NULL DEFAULT '[]',  -- JSON ms of the last 7 days' nudges
    ignored_in_a_row INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE conversations (
    user_id        INTEGER PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    flow           TEXT,
    node           TEXT,
    node_version   TEXT NOT NULL DEFAULT '',
    vars           TEXT NOT NULL DEFAULT '{}',
    pending        TEXT,
    dialog_version TEXT NOT NULL DEFAULT '',
    nudge_step     INTEGER NOT NULL DEFAULT 0,
    next_nudge_ms  INTEGER
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

-- Telegram delivery: update ids already processed (webhook redelivery), and the group
-- chats already told (once) that the bot only talks in private.
CREATE TABLE processed_updates (
    update_key TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    at         TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX processed_updates_by_time ON processed_updates(at);
CREATE INDEX processed_updates_by_user ON processed_updates(user_id);

-- Groups the bot has already told (once) that it only talks in private.
CREATE TABLE group_chats (
    chat_id INTEGER PRIMARY KEY,
    told_at TEXT    NOT NULL
);

-- Rows are stored in due order (WITHOUT ROWID, due time first in the key), and "in
-- flight" is a lease time that is not part of any index: claiming the earliest batch
-- reads and rewrites a few neighbouring pages, whatever the number of pending nudges.
CREATE TABLE nudges (
    due_ms      INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    lease_ms    INTEGER NOT NULL DEFAULT 0,  -- 0: pending; else in flight until then
    attempts    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (due_ms, user_id, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX nudges_by_user ON nudges(user_id, key);

-- One processed event is saved by ONE statement: an INSERT into this write-only view,
-- whose trigger writes every table. A single statement is atomic on its own, and it
-- costs one round trip to the database thread instead of one per table.
CREATE VIEW turns (
    user_id, first_name, lang, reminders, blocked, created_at, updated_at,
    flow, node, node_version, vars, pending, dialog_version,
    milestones,  -- JSON [[milestone, stage], ...] newly reached
    stages,      -- JSON [stage, ...] newly completed
    events,      -- JSON [[name, {data}], ...] for the event log
    update_key,  -- the Telegram update processed, or NULL
    timezone, nudges_sent, ignored_in_a_row, nudge_step, next_nudge_ms,
    nudge_ops    -- JSON [[key, due_ms or null], ...]: schedule (replace) or cancel
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
WHERE 0;

CREATE TRIGGER save_turn INSTEAD OF INSERT ON turns
BEGIN
    INSERT INTO users (user_id, first_name, lang, reminders, blocked, created_at, updated_at,
                       timezone, nudges_sent, ignored_in_a_row)
    VALUES (NEW.user_id, NEW.first_name, NEW.lang, NEW.reminders, NEW.blocked, NEW.created_at,
            NEW.updated_at, NEW.timezone, NEW.nudges_sent, NEW.ignored_in_a_row)
    ON CONFLICT (user_id) DO UPDATE SET
        first_name = excluded.first_name, lang = excluded.lang, reminders = excluded.reminders,
        blocked = excluded.blocked, updated_at = excluded.updated_at,
        timezone = excluded.timezone, nudges_sent = excluded.nudges_sent,
        ignored_in_a_row = excluded.ignored_in_a_row;
    INSERT OR REPLACE INTO conversations
        (user_id, flow, node, node_version, vars, pending, dialog_version, nudge_step, next_nudge_ms)
    VALUES (NEW.user_id, NEW.flow, NEW.node, NEW.node_version, NEW.vars, NEW.pending,
            NEW.dialog_version, NEW.nudge_step, NEW.next_nudge_ms);
    INSERT OR IGNORE INTO milestones (user_id, milestone, stage, reached_at)
    SELECT NEW.user_id, json_extract(value, '$[0]'), json_extract(value, '$[1]'), NEW.updated_at
    FROM json_each(NEW.milestones);
    INSERT OR IGNORE INTO stages_completed (user_id, stage, completed_at)
    SELECT NEW.user_id, value, NEW.updated_at FROM json_each(NEW.stages);
    INSERT INTO events (user_id, at, name, data)
    SELECT NEW.user_id, NEW.updated_at, json_extract(value, '$[0]'), json_extract(value, '$[1]')
    FROM json_each(NEW.events);
    INSERT OR IGNORE INTO processed_updates (update_key, user_id, at)
    SELECT NEW.update_key, NEW.user_id, NEW.updated_at WHERE NEW.update_key IS NOT NULL;
    DELETE FROM nudges WHERE user_id = NEW.user_id
        AND key IN (SELECT json_extract(value, '$[0]') FROM json_each(NEW.nudge_ops));
    INSERT INTO nudges (user_id, key, due_ms)
    SELECT NEW.user_id, json_extract(value, '$[0]'), json_extract(value, '$[1]')
    FROM json_each(NEW.nudge_ops) WHERE json_extract(value, '$[1]') IS NOT NULL;
END;
