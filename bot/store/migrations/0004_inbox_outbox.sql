-- Nothing lost: a durable inbox of Telegram updates and a reply outbox.
--
-- inbox: an update is stored before Telegram is told it arrived (the polling offset
-- moves, the webhook answers 200). A redelivered update_id is ignored by the insert
-- itself (the primary key); the row of a processed update keeps its id (two days, for
-- redeliveries) but loses its body. It replaces processed_updates.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    owner       INTEGER,          -- the user (else chat) whose updates keep their order
    body        TEXT,             -- the raw update while it waits; NULL once processed
    received_ms INTEGER NOT NULL,
    done_ms     INTEGER           -- NULL: waiting
);
CREATE INDEX inbox_waiting ON inbox(update_id) WHERE done_ms IS NULL;
CREATE INDEX inbox_done ON inbox(done_ms) WHERE done_ms IS NOT NULL;
CREATE INDEX inbox_by_owner ON inbox(owner);

INSERT INTO inbox (update_id, owner, body, received_ms, done_ms)
SELECT CAST(substr(update_key, 4) AS INTEGER), user_id, NULL,
       CAST(strftime('%s', at) AS INTEGER) * 1000, CAST(strftime('%s', at) AS INTEGER) * 1000
FROM processed_updates WHERE update_key LIKE 'tg:%';
DROP TABLE processed_updates;

-- Updates that could not be read (an unknown shape): kept aside by id for the operator
-- (`vie-coach poison`), never in the way of the others. Pruned like unknown texts.
CREATE TABLE poison_updates (
    update_id INTEGER PRIMARY KEY,
    body      TEXT    NOT NULL,
    error     TEXT    NOT NULL,  -- the kind of error, never the update's content
    at_ms     INTEGER NOT NULL
);

-- outbox: what the bot has to send, written in the same statement as the turn that
-- decided it; a sender delivers each chat's rows in id order and deletes each one once
-- Telegram has accepted it. AUTOINCREMENT: ids never go back, so "rows after the last
-- one seen" finds every new row.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,  -- reply, mark, notice, nudge (reminders and alerts)
    body       TEXT    NOT NULL,  -- JSON: {"text", "buttons"} or {"mark", "label"}
    created_ms INTEGER NOT NULL
);
CREATE INDEX outbox_by_chat ON outbox(chat_id, id);

-- The turn statement: the same write-only view and one trigger, with the update id,
-- the replies and the nudge handled.
DROP TRIGGER save_turn;
DROP VIEW turns;
CREATE VIEW turns (
    user_id, first_name, lang, reminders, blocked, created_at, updated_at,
    flow, node, node_version, vars, pending, dialog_version,
    milestones,  -- JSON [[milestone, stage], ...] newly reached
    stages,      -- JSON [stage, ...] newly completed
    events,      -- JSON [[name, {data}], ...] for the event log
    update_id,   -- the Telegram update processed (its inbox row is done), or NULL
    timezone, nudges_sent, ignored_in_a_row, nudge_step, next_nudge_ms,
    nudge_ops,   -- JSON [[key, due_ms or null], ...]: schedule (replace) or cancel
    active_at, shares, public, alerts, invite_tries, watch_ms, alerts_sent, digest_ms,
    finished,    -- 1 once the journey is finished (the engine says which stage that is)
    unknown,     -- JSON [[node, lang, text, text_key], ...] not understood, or '[]'
    now_ms,      -- updated_at in milliseconds
    referral,    -- JSON {"advocate": id, "payload": ..., "path": [...]} or NULL
    notify,      -- JSON [[advocate_id, kind, stage, due_ms], ...]
    invite_ops,  -- JSON [["create", payload, code, name, name_key] | ["revoke", payload]]
    alerts_ack,  -- JSON [alert id, ...] told or dropped
    replies,     -- JSON [[chat_id, kind, {body}], ...] for the reply outbox, in order
    nudge_done   -- JSON [key, due_ms] of the claimed nudge this turn handled, or NULL
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
WHERE 0;

CREATE TRIGGER save_turn INSTEAD OF INSERT ON turns
BEGIN
    INSERT INTO users (user_id, first_name, lang, reminders, blocked, created_at, updated_at,
                       timezone, nudges_sent, ignored_in_a_row, active_at, shares, public,
                       alerts, invite_tries, watch_ms, alerts_sent, digest_ms, finished)
    VALUES (NEW.user_id, NEW.first_name, NEW.lang, NEW.reminders, NEW.blocked, NEW.created_at,
            NEW.updated_at, NEW.timezone, NEW.nudges_sent, NEW.ignored_in_a_row, NEW.active_at,
            NEW.shares, NEW.public, NEW.alerts, NEW.invite_tries, NEW.watch_ms,
            NEW.alerts_sent, NEW.digest_ms, NEW.finished)
    ON CONFLICT (user_id) DO UPDATE SET
        first_name = excluded.first_name, lang = excluded.lang, reminders = excluded.reminders,
        blocked = excluded.blocked, updated_at = excluded.updated_at,
        timezone = excluded.timezone, nudges_sent = excluded.nudges_sent,
        ignored_in_a_row = excluded.ignored_in_a_row, active_at = excluded.active_at,
        shares = excluded.shares, public = excluded.public, alerts = excluded.alerts,
        invite_tries = excluded.invite_tries, watch_ms = excluded.watch_ms,
        alerts_sent = excluded.alerts_sent, digest_ms = excluded.digest_ms,
        finished = excluded.finished;
    INSERT OR REPLACE INTO conversations
        (user_id, flow, node, node_version, vars, pending, dialog_version, nudge_step, next_nudge_ms)
    VALUES (NEW.user_id, NEW.flow, NEW.node, NEW.node_version, NEW.vars, NEW.pending,
            NEW.dialog_version, NEW.nudge_step, NEW.next_nudge_ms);
    -- a friend credited in the turn they finish counts at once: referral_counts reads
    -- users.finished, written just above
    INSERT OR IGNORE INTO referrals (friend_id, advocate_id, payload, path, joined_ms)
    SELECT NEW.user_id, json_extract(NEW.referral, '$.advocate'),
           json_extract(NEW.referral, '$.payload'), json_extract(NEW.referral, '$.path'),
           NEW.now_ms
    WHERE NEW.referral IS NOT NULL
      AND json_extract(NEW.referral, '$.advocate') IN (SELECT user_id FROM users);
    INSERT OR IGNORE INTO milestones (user_id, milestone, stage, reached_at)
    SELECT NEW.user_id, json_extract(value, '$[0]'), json_extract(value, '$[1]'), NEW.updated_at
    FROM json_each(NEW.milestones);
    INSERT OR IGNORE INTO stages_completed (user_id, stage, completed_at)
    SELECT NEW.user_id, value, NEW.updated_at FROM json_each(NEW.stages);
    INSERT INTO events (user_id, at, name, data)
    SELECT NEW.user_id, NEW.updated_at, json_extract(value, '$[0]'), json_extract(value, '$[1]')
    FROM json_each(NEW.events);
    -- the update this turn answered is done: its text goes, its id stays (redeliveries)
    UPDATE inbox SET body = NULL, done_ms = NEW.now_ms
    WHERE NEW.update_id IS NOT NULL AND update_id = NEW.update_id;
    -- the claimed nudge this turn handled (not a row rescheduled meanwhile), before the
    -- turn's own schedule below
    DELETE FROM nudges WHERE NEW.nudge_done IS NOT NULL AND user_id = NEW.user_id
        AND key = json_extract(NEW.nudge_done, '$[0]')
        AND due_ms = json_extract(NEW.nudge_done, '$[1]') AND lease_ms > 0;
    DELETE FROM nudges WHERE user_id = NEW.user_id
        AND key IN (SELECT json_extract(value, '$[0]') FROM json_each(NEW.nudge_ops));
    INSERT INTO nudges (user_id, key, due_ms)
    SELECT NEW.user_id, json_extract(value, '$[0]'), json_extract(value, '$[1]')
    FROM json_each(NEW.nudge_ops) WHERE json_extract(value, '$[1]') IS NOT NULL;
    INSERT INTO invites (payload, code, advocate_id, name, name_key, created_ms)
    SELECT json_extract(value, '$[1]'), json_extract(value, '$[2]'), NEW.user_id,
           json_extract(value, '$[3]'), json_extract(value, '$[4]'), NEW.now_ms
    FROM json_each(NEW.invite_ops) WHERE json_extract(value, '$[0]') = 'create';
    UPDATE invites SET revoked_ms = NEW.now_ms
    WHERE advocate_id = NEW.user_id AND revoked_ms IS NULL AND payload IN (
        SELECT json_extract(value, '$[1]') FROM json_each(NEW.invite_ops)
        WHERE json_extract(value, '$[0]') = 'revoke');
    INSERT INTO unknown_texts (user_id, node, lang, text, text_key, at_ms)
    SELECT NEW.user_id, json_extract(value, '$[0]'), json_extract(value, '$[1]'),
           json_extract(value, '$[2]'), json_extract(value, '$[3]'), NEW.now_ms
    FROM json_each(NEW.unknown);
    DELETE FROM alerts WHERE advocate_id = NEW.user_id
        AND id IN (SELECT value FROM json_each(NEW.alerts_ack));
    INSERT INTO alerts (advocate_id, friend_id, kind, stage, at_ms)
    SELECT json_extract(value, '$[0]'), NEW.user_id, json_extract(value, '$[1]'),
           json_extract(value, '$[2]'), NEW.now_ms
    FROM json_each(NEW.notify)
    WHERE json_extract(value, '$[0]') IN (SELECT user_id FROM users);
    -- The advocate's alert delivery: a row in the same outbox as nudges. A pending row
    -- keeps its time (it may be held for the daily digest); a row in flight is made
    -- pending again, so that the alert just added is not lost when it completes.
    INSERT INTO nudges (user_id, key, due_ms)
    SELECT json_extract(value, '$[0]'), 'alerts', min(json_extract(value, '$[3]'))
    FROM json_each(NEW.notify)
    WHERE json_extract(value, '$[0]') IN (SELECT user_id FROM users)
    GROUP BY json_extract(value, '$[0]')
    ON CONFLICT (user_id, key) DO UPDATE SET
        due_ms = CASE WHEN nudges.lease_ms = 0 THEN nudges.due_ms ELSE excluded.due_ms END,
        lease_ms = 0;
    INSERT INTO outbox (chat_id, kind, body, created_ms)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
           json_extract(value, '$[2]'), NEW.now_ms
    FROM json_each(NEW.replies);
END;
