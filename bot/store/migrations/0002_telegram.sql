-- Telegram delivery: blocked users, processed update ids (webhook redelivery), group notices.
ALTER TABLE users ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;

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

DROP TRIGGER save_turn;
DROP VIEW turns;

CREATE VIEW turns (
    user_id, first_name, lang, reminders, blocked, created_at, updated_at,
    flow, node, node_version, vars, pending, dialog_version,
    milestones,  -- JSON [[milestone, stage], ...] newly reached
    stages,      -- JSON [stage, ...] newly completed
    events,      -- JSON [[name, {data}], ...] for the event log
    update_key   -- the Telegram update processed, or NULL
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL
WHERE 0;

CREATE TRIGGER save_turn INSTEAD OF INSERT ON turns
BEGIN
    INSERT INTO users (user_id, first_name, lang, reminders, blocked, created_at, updated_at)
    VALUES (NEW.user_id, NEW.first_name, NEW.lang, NEW.reminders, NEW.blocked, NEW.created_at,
            NEW.updated_at)
    ON CONFLICT (user_id) DO UPDATE SET
        first_name = excluded.first_name, lang = excluded.lang, reminders = excluded.reminders,
        blocked = excluded.blocked, updated_at = excluded.updated_at;
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
    INSERT OR IGNORE INTO processed_updates (update_key, user_id, at)
    SELECT NEW.update_key, NEW.user_id, NEW.updated_at WHERE NEW.update_key IS NOT NULL;
END;
