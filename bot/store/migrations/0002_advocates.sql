-- Advocates: invite links, who invited whom (the referral tree), counters for /friends
-- and /leaderboard kept by triggers (so that both read a handful of rows whatever the
-- number of users), and the alerts queued for advocates.
ALTER TABLE users ADD COLUMN active_at    TEXT;                        -- last own action
ALTER TABLE users ADD COLUMN shares       INTEGER NOT NULL DEFAULT 1;  -- /privacy: progress
ALTER TABLE users ADD COLUMN public       INTEGER NOT NULL DEFAULT 0;  -- /privacy: leaderboard
ALTER TABLE users ADD COLUMN alerts       INTEGER NOT NULL DEFAULT 1;  -- /alerts
ALTER TABLE users ADD COLUMN invite_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN watch_ms     INTEGER;                     -- dormancy check due
ALTER TABLE users ADD COLUMN alerts_sent  TEXT    NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN digest_ms    INTEGER;

CREATE TABLE invites (
    payload     TEXT    PRIMARY KEY,              -- in the deep link; unguessable
    code        TEXT    NOT NULL UNIQUE,          -- the same invitation, short enough to type
    advocate_id INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    name        TEXT    NOT NULL DEFAULT '',      -- "Marie" for /invite Marie
    name_key    TEXT    NOT NULL DEFAULT '',      -- the name normalised, for lookups
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER,
    joined      INTEGER NOT NULL DEFAULT 0         -- friends who arrived through it
) WITHOUT ROWID;
CREATE INDEX invites_by_advocate ON invites(advocate_id, name_key);
CREATE INDEX invites_by_name ON invites(name_key) WHERE revoked_ms IS NULL AND name_key != '';

-- One row per invited friend: who brought them (first touch), through which link, and
-- the chain of advocates above (JSON, nearest first), so that a tree counter is updated
-- without walking the tree.
CREATE TABLE referrals (
    friend_id   INTEGER PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    advocate_id INTEGER REFERENCES users(user_id) ON DELETE SET NULL,  -- NULL: they left
    payload     TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    joined_ms   INTEGER NOT NULL
);
CREATE INDEX referrals_by_advocate ON referrals(advocate_id, joined_ms, friend_id);

-- Per advocate: direct friends, and friends who finished the journey (Eduquer done),
-- directly and anywhere down their tree, and how many generations the tree has. Only
-- friends who share their progress count as finished: a count must not reveal what a
-- friend chose to keep private.
CREATE TABLE advocates (
    user_id       INTEGER PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    friends       INTEGER NOT NULL DEFAULT 0,
    finished      INTEGER NOT NULL DEFAULT 0,
    tree          INTEGER NOT NULL DEFAULT 0,
    tree_finished INTEGER NOT NULL DEFAULT 0,
    depth         INTEGER NOT NULL DEFAULT 0,
    since_ms      INTEGER NOT NULL
);
CREATE INDEX advocates_by_score ON advocates(tree_finished DESC, finished DESC, since_ms)
    WHERE tree_finished > 0;

CREATE TRIGGER referral_counts AFTER INSERT ON referrals
BEGIN
    INSERT OR IGNORE INTO advocates (user_id, since_ms)
    SELECT value, NEW.joined_ms FROM json_each(NEW.path)
    WHERE value IN (SELECT user_id FROM users);
    UPDATE advocates SET friends = friends + 1 WHERE user_id = NEW.advocate_id;
    UPDATE invites SET joined = joined + 1 WHERE payload = NEW.payload;
    UPDATE advocates SET tree = tree + 1,
        depth = max(depth, (SELECT j.key + 1 FROM json_each(NEW.path) j
                            WHERE j.value = advocates.user_id LIMIT 1))
    WHERE user_id IN (SELECT value FROM json_each(NEW.path));
END;

-- Finishing the journey (the Eduquer stage) counts for every advocate up the chain.
CREATE TRIGGER journey_finished AFTER INSERT ON stages_completed
WHEN NEW.stage = 'E' AND (SELECT shares FROM users WHERE user_id = NEW.user_id) = 1
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
WHEN OLD.shares != NEW.shares
 AND EXISTS (SELECT 1 FROM stages_completed WHERE user_id = NEW.user_id AND stage = 'E')
BEGIN
    UPDATE advocates SET finished = finished + (CASE WHEN NEW.shares THEN 1 ELSE -1 END)
    WHERE user_id = (SELECT advocate_id FROM referrals WHERE friend_id = NEW.user_id);
    UPDATE advocates SET tree_finished = tree_finished + (CASE WHEN NEW.shares THEN 1 ELSE -1 END)
    WHERE user_id IN (SELECT value FROM json_each(
        (SELECT path FROM referrals WHERE friend_id = NEW.user_id)));
END;

-- /forget: the counters forget the person too (before the cascade removes their rows),
-- and their id leaves the chains of the people they brought in, directly or not (their
-- direct friends' rows keep the friend, without an advocate). Rare, so a scan is fine.
CREATE TRIGGER forget_counts BEFORE DELETE ON users
BEGIN
    UPDATE invites SET joined = joined - 1
    WHERE payload = (SELECT payload FROM referrals WHERE friend_id = OLD.user_id);
    UPDATE advocates SET
        friends = friends - (user_id IS (SELECT advocate_id FROM referrals WHERE friend_id = OLD.user_id)),
        finished = finished - (user_id IS (SELECT advocate_id FROM referrals WHERE friend_id = OLD.user_id)
                               AND OLD.shares AND EXISTS (SELECT 1 FROM stages_completed
                                           WHERE user_id = OLD.user_id AND stage = 'E')),
        tree = tree - 1,
        tree_finished = tree_finished - (OLD.shares AND EXISTS (SELECT 1 FROM stages_completed
                                                WHERE user_id = OLD.user_id AND stage = 'E'))
    WHERE user_id IN (SELECT value FROM json_each(
        (SELECT path FROM referrals WHERE friend_id = OLD.user_id)));
    UPDATE referrals SET path = (SELECT json_group_array(value) FROM json_each(referrals.path)
                                 WHERE value != OLD.user_id)
    WHERE EXISTS (SELECT 1 FROM json_each(referrals.path) WHERE value = OLD.user_id);
END;

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    advocate_id INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    friend_id   INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,  -- joined | stage | dormant
    stage       TEXT,
    at_ms       INTEGER NOT NULL
);
CREATE INDEX alerts_by_advocate ON alerts(advocate_id, id);
CREATE INDEX alerts_by_friend ON alerts(friend_id);

-- The turn statement grows the advocate columns: same write-only view, same one trigger.
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
    now_ms,      -- updated_at in milliseconds
    referral,    -- JSON {"advocate": id, "payload": ..., "path": [...]} or NULL
    notify,      -- JSON [[advocate_id, kind, stage, due_ms], ...]
    invite_ops,  -- JSON [["create", payload, code, name, name_key] | ["revoke", payload]]
    alerts_ack   -- JSON [alert id, ...] told or dropped
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
WHERE 0;

CREATE TRIGGER save_turn INSTEAD OF INSERT ON turns
BEGIN
    INSERT INTO users (user_id, first_name, lang, reminders, blocked, created_at, updated_at,
                       timezone, nudges_sent, ignored_in_a_row, active_at, shares, public,
                       alerts, invite_tries, watch_ms, alerts_sent, digest_ms)
    VALUES (NEW.user_id, NEW.first_name, NEW.lang, NEW.reminders, NEW.blocked, NEW.created_at,
            NEW.updated_at, NEW.timezone, NEW.nudges_sent, NEW.ignored_in_a_row, NEW.active_at,
            NEW.shares, NEW.public, NEW.alerts, NEW.invite_tries, NEW.watch_ms,
            NEW.alerts_sent, NEW.digest_ms)
    ON CONFLICT (user_id) DO UPDATE SET
        first_name = excluded.first_name, lang = excluded.lang, reminders = excluded.reminders,
        blocked = excluded.blocked, updated_at = excluded.updated_at,
        timezone = excluded.timezone, nudges_sent = excluded.nudges_sent,
        ignored_in_a_row = excluded.ignored_in_a_row, active_at = excluded.active_at,
        shares = excluded.shares, public = excluded.public, alerts = excluded.alerts,
        invite_tries = excluded.invite_tries, watch_ms = excluded.watch_ms,
        alerts_sent = excluded.alerts_sent, digest_ms = excluded.digest_ms;
    INSERT OR REPLACE INTO conversations
        (user_id, flow, node, node_version, vars, pending, dialog_version, nudge_step, next_nudge_ms)
    VALUES (NEW.user_id, NEW.flow, NEW.node, NEW.node_version, NEW.vars, NEW.pending,
            NEW.dialog_version, NEW.nudge_step, NEW.next_nudge_ms);
    -- the referral before the stages: finishing in the same turn then counts upstream
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
