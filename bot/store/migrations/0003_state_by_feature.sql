-- State by feature, and one place for the rule "finishing stage E finishes the journey".
-- The engine now says in each turn whether the journey is finished (users.finished); the
-- counter triggers read that flag instead of knowing which stage finishes it. Open
-- questions are stored as "feature:question", the feature that asked owning the answer.
ALTER TABLE users ADD COLUMN finished INTEGER NOT NULL DEFAULT 0;
-- History: until this version the journey's last stage was E.
UPDATE users SET finished = 1
WHERE user_id IN (SELECT user_id FROM stages_completed WHERE stage = 'E');
UPDATE conversations SET pending = CASE pending
    WHEN 'forget' THEN 'privacy:forget'
    WHEN 'language' THEN 'basics:language'
    WHEN 'referrer' THEN 'advocates:referrer'
    ELSE NULL END
WHERE pending IS NOT NULL;

DROP TRIGGER referral_counts;
DROP TRIGGER journey_finished;
DROP TRIGGER sharing_changed;
DROP TRIGGER forget_counts;

-- A friend who arrives already finished (an old account credited late) counts at once.
CREATE TRIGGER referral_counts AFTER INSERT ON referrals
BEGIN
    INSERT OR IGNORE INTO advocates (user_id, since_ms)
    SELECT value, NEW.joined_ms FROM json_each(NEW.path)
    WHERE value IN (SELECT user_id FROM users);
    UPDATE advocates SET friends = friends + 1,
        finished = finished + (SELECT finished AND shares FROM users WHERE user_id = NEW.friend_id)
    WHERE user_id = NEW.advocate_id;
    UPDATE invites SET joined = joined + 1 WHERE payload = NEW.payload;
    UPDATE advocates SET tree = tree + 1,
        tree_finished = tree_finished
            + (SELECT finished AND shares FROM users WHERE user_id = NEW.friend_id),
        depth = max(depth, (SELECT j.key + 1 FROM json_each(NEW.path) j
                            WHERE j.value = advocates.user_id LIMIT 1))
    WHERE user_id IN (SELECT value FROM json_each(NEW.path));
END;

-- Finishing the journey counts for every advocate up the chain, if the friend shares.
CREATE TRIGGER journey_finished AFTER UPDATE OF finished ON users
WHEN NEW.finished AND NOT OLD.finished AND NEW.shares
BEGIN
    UPDATE advocates SET finished = finished + 1
    WHERE user_id = (SELECT advocate_id FROM referrals WHERE friend_id = NEW.user_id);
    UPDATE advocates SET tree_finished = tree_finished + 1
    WHERE user_id IN (SELECT value FROM json_each(
        (SELECT path FROM referrals WHERE friend_id = NEW.user_id)));
END;

-- Switching sharing off (or on again) after finishing takes the finish out of (or back
-- into) the counts.
CREATE TRIGGER sharing_changed AFTER UPDATE OF shares ON users
WHEN OLD.shares != NEW.shares AND NEW.finished AND OLD.finished
BEGIN
    UPDATE advocates SET finished = finished + (CASE WHEN NEW.shares THEN 1 ELSE -1 END)
    WHERE user_id = (SELECT advocate_id FROM referrals WHERE friend_id = NEW.user_id);
    UPDATE advocates SET tree_finished = tree_finished + (CASE WHEN NEW.shares THEN 1 ELSE -1 END)
    WHERE user_id IN (SELECT value FROM json_each(
        (SELECT path FROM referrals WHERE friend_id = NEW.user_id)));
END;

-- /forget: the counters forget the person too (before the cascade removes their rows),
-- and their id leaves the chains of the people they brought in.
CREATE TRIGGER forget_counts BEFORE DELETE ON users
BEGIN
    UPDATE invites SET joined = joined - 1
    WHERE payload = (SELECT payload FROM referrals WHERE friend_id = OLD.user_id);
    UPDATE advocates SET
        friends = friends - (user_id IS (SELECT advocate_id FROM referrals WHERE friend_id = OLD.user_id)),
        finished = finished - (user_id IS (SELECT advocate_id FROM referrals WHERE friend_id = OLD.user_id)
                               AND OLD.shares AND OLD.finished),
        tree = tree - 1,
        tree_finished = tree_finished - (OLD.shares AND OLD.finished)
    WHERE user_id IN (SELECT value FROM json_each(
        (SELECT path FROM referrals WHERE friend_id = OLD.user_id)));
    UPDATE referrals SET path = (SELECT json_group_array(value) FROM json_each(referrals.path)
                                 WHERE value != OLD.user_id)
    WHERE EXISTS (SELECT 1 FROM json_each(referrals.path) WHERE value = OLD.user_id);
END;

-- What the bot did not understand, for the operators (`vie-coach unknown`): the text,
-- where it was typed, and when. The person's id is kept only so that /forget erases it
-- with the rest; nothing shows it. Old rows are pruned (`store.keep_unknown`).
CREATE TABLE unknown_texts (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node     TEXT    NOT NULL,
    lang     TEXT    NOT NULL,
    text     TEXT    NOT NULL,
    text_key TEXT    NOT NULL,  -- the text normalised: what is counted together
    at_ms    INTEGER NOT NULL
);
CREATE INDEX unknown_texts_by_time ON unknown_texts(at_ms);
CREATE INDEX unknown_texts_by_user ON unknown_texts(user_id);

-- The turn statement: the same write-only view and one trigger, with the new columns.
DROP TRIGGER save_turn;
DROP VIEW turns;
CREATE VIEW turns (
    user_id, first_name, lang, reminders, blocked, created_at, updated_at,
    flow, node, node_version, vars, pending, dialog_version,
    milestones,  -- JSON [[milestone, stage], ...] newly reached
    stages,      -- JSON [stage, ...] newly completed
    events,      -- JSON [[name, {data}], ...] for the event log
    update_key,  -- the Telegram update processed, or NULL
    timezone, nudges_sent, ignored_in_a_row, nudge_step, next_nudge_ms,
    nudge_ops,   -- JSON [[key, due_ms or null], ...]: schedule (replace) or cancel
    active_at, shares, public, alerts, invite_tries, watch_ms, alerts_sent, digest_ms,
    finished,    -- 1 once the journey is finished (the engine says which stage that is)
    unknown,     -- JSON [[node, lang, text, text_key], ...] not understood, or '[]'
    now_ms,      -- updated_at in milliseconds
    referral,    -- JSON {"advocate": id, "payload": ..., "path": [...]} or NULL
    notify,      -- JSON [[advocate_id, kind, stage, due_ms], ...]
    invite_ops,  -- JSON [["create", payload, code, name, name_key] | ["revoke", payload]]
    alerts_ack   -- JSON [alert id, ...] told or dropped
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
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
    INSERT OR IGNORE INTO processed_updates (update_key, user_id, at)
    SELECT NEW.update_key, NEW.user_id, NEW.updated_at WHERE NEW.update_key IS NOT NULL;
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
END;
