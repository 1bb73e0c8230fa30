-- Funnel analytics (`vie-coach stats`, /stats): counters kept by triggers on the base
-- tables, so that the funnel of the last 30 days reads a few thousand counter rows
-- whatever the number of people (docs/analytics.md). The turn statement (`turns`,
-- `save_turn`) is not touched. Nothing anyone wrote is read: only milestones, stages,
-- the reminder flag, times, and where a person stands (flow.node).
--
-- funnel_counts is keyed by the person's cohort day (the UTC date of users.created_at)
-- and their language at the start, plus a row for everyone (lang ''); funnel_advocates
-- by cohort day and direct advocate (0: nobody invited them, -1: their advocate erased
-- their data). Metrics (all but w: sort before 'w:'):
--   started · m:<milestone> · s:<stage> · off (reminders stopped) · nudges (reminders
--   sent) · back (reminders followed by the person's own action within a day) ·
--   h:<stage>:<bucket> (from the start to completing the stage) · g:<stage>><next>:<bucket>
--   (from completing V to completing I, I to E, done in that order) · erased (/forget,
--   anonymous, funnel_counts only) · w:<YYYY-MM-DD> (not finished, last own action then).
-- A bucket is a range of hours (edges 1 3 6 12 24 48 72 120 168 336 720 1440: bucket 0
-- under an hour, 12 sixty days or more; bot/store/funnel_sql.py names them).
-- funnel_nodes and funnel_spots say where the people not finished stand, by cohort day
-- (and day of their last own action): the drop-off is the first minus the recently active.

ALTER TABLE users ADD COLUMN funnel_lang TEXT;  -- the language at the start (the cohort's)
ALTER TABLE users ADD COLUMN funnel_back INTEGER NOT NULL DEFAULT 0;  -- reminders they came back after

CREATE TABLE funnel_counts (
    day    TEXT    NOT NULL,
    lang   TEXT    NOT NULL,  -- '' for everyone
    metric TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (day, lang, metric)
) WITHOUT ROWID;

CREATE TABLE funnel_advocates (
    day      TEXT    NOT NULL,
    advocate INTEGER NOT NULL,  -- the direct advocate's user id; 0 nobody, -1 left
    metric   TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (day, advocate, metric)
) WITHOUT ROWID;
CREATE INDEX funnel_advocates_by_advocate ON funnel_advocates(advocate);

CREATE TABLE funnel_nodes (  -- people not finished, by cohort day and flow.node
    day  TEXT    NOT NULL,
    node TEXT    NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (day, node)
) WITHOUT ROWID;

CREATE TABLE funnel_spots (  -- the same, by the day of their last own action too
    day      TEXT    NOT NULL,
    last_day TEXT    NOT NULL,
    node     TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (day, last_day, node)
) WITHOUT ROWID;

-- What one person contributes, computed from their rows: the one definition that the
-- backfill, /forget, a late referral and `stats --by variant` share (the triggers below
-- keep the same figures incrementally; a test compares). Queried `WHERE user_id = ?`,
-- SQLite pushes the condition into each part (primary keys).
CREATE VIEW funnel_spans (user_id, stage, other, hours) AS
SELECT s.user_id, s.stage, NULL, (julianday(s.completed_at) - julianday(u.created_at)) * 24
FROM stages_completed s JOIN users u ON u.user_id = s.user_id
UNION ALL
SELECT a.user_id, a.stage, b.stage, (julianday(b.completed_at) - julianday(a.completed_at)) * 24
FROM stages_completed a JOIN stages_completed b ON b.user_id = a.user_id
 AND b.stage = CASE a.stage WHEN 'V' THEN 'I' WHEN 'I' THEN 'E' END  -- bot.core.model.STAGES
WHERE julianday(b.completed_at) >= julianday(a.completed_at);

CREATE VIEW funnel_durations (user_id, stage, other, metric) AS
SELECT user_id, stage, other,
       CASE WHEN other IS NULL THEN 'h:' || stage ELSE 'g:' || stage || '>' || other END || ':'
       || CASE WHEN hours < 1 THEN 0 WHEN hours < 3 THEN 1 WHEN hours < 6 THEN 2
               WHEN hours < 12 THEN 3 WHEN hours < 24 THEN 4 WHEN hours < 48 THEN 5
               WHEN hours < 72 THEN 6 WHEN hours < 120 THEN 7 WHEN hours < 168 THEN 8
               WHEN hours < 336 THEN 9 WHEN hours < 720 THEN 10 WHEN hours < 1440 THEN 11
               ELSE 12 END
FROM funnel_spans;

-- Where a person not finished stands: cohort day, day of their last own action, node.
CREATE VIEW funnel_standing (user_id, day, last_day, node) AS
SELECT u.user_id, date(u.created_at), date(coalesce(u.active_at, u.created_at)),
       coalesce(c.flow || '.' || c.node, '-')
FROM users u JOIN conversations c ON c.user_id = u.user_id WHERE NOT u.finished;

CREATE VIEW funnel_person (user_id, metric, n) AS
SELECT user_id, 'started', 1 FROM users
UNION ALL SELECT user_id, 'off', 1 FROM users WHERE reminders = 0
UNION ALL SELECT user_id, 'back', funnel_back FROM users WHERE funnel_back != 0
UNION ALL SELECT user_id, 'w:' || last_day, 1 FROM funnel_standing
UNION ALL SELECT user_id, 'm:' || milestone, 1 FROM milestones
UNION ALL SELECT user_id, 's:' || stage, 1 FROM stages_completed
UNION ALL SELECT user_id, metric, 1 FROM funnel_durations
UNION ALL SELECT user_id, 'nudges', count(*) FROM events WHERE name = 'nudge_sent'
          GROUP BY user_id;

-- A person's keys: cohort day, language at the start, direct advocate.
CREATE VIEW funnel_keys (user_id, day, lang, advocate) AS
SELECT u.user_id, date(u.created_at), coalesce(u.funnel_lang, u.lang),
       CASE WHEN r.friend_id IS NULL THEN 0 ELSE coalesce(r.advocate_id, -1) END
FROM users u LEFT JOIN referrals r ON r.friend_id = u.user_id;

-- `INSERT INTO funnel_add VALUES (user, metric, n)`: n more for the person's keys.
CREATE VIEW funnel_add (user_id, metric, n) AS SELECT NULL, NULL, NULL WHERE 0;
CREATE TRIGGER funnel_add_counts INSTEAD OF INSERT ON funnel_add
BEGIN
    INSERT INTO funnel_counts (day, lang, metric, n)
    SELECT day, lang, NEW.metric, NEW.n FROM funnel_keys WHERE user_id = NEW.user_id
    UNION ALL SELECT day, '', NEW.metric, NEW.n FROM funnel_keys WHERE user_id = NEW.user_id
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = n + excluded.n;
    INSERT INTO funnel_advocates (day, advocate, metric, n)
    SELECT day, advocate, NEW.metric, NEW.n FROM funnel_keys WHERE user_id = NEW.user_id
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = n + excluded.n;
END;

-- `INSERT INTO funnel_place VALUES (day, last_day, node, n)`: n more (or fewer) people
-- stand there; a row that falls to zero goes.
CREATE VIEW funnel_place (day, last_day, node, n) AS SELECT NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER funnel_place_counts INSTEAD OF INSERT ON funnel_place
BEGIN
    INSERT INTO funnel_spots (day, last_day, node, n)
    VALUES (NEW.day, NEW.last_day, NEW.node, NEW.n)
    ON CONFLICT (day, last_day, node) DO UPDATE SET n = n + excluded.n;
    DELETE FROM funnel_spots
    WHERE day = NEW.day AND last_day = NEW.last_day AND node = NEW.node AND n = 0;
END;

-- History: everyone already there is counted (their language now stands for the one
-- they started with; returns after reminders were not recorded before this version).
UPDATE users SET funnel_lang = lang;
INSERT INTO funnel_counts (day, lang, metric, n)
SELECT k.day, k.lang, p.metric, sum(p.n)
FROM funnel_person p JOIN funnel_keys k ON k.user_id = p.user_id GROUP BY 1, 2, 3
UNION ALL
SELECT k.day, '', p.metric, sum(p.n)
FROM funnel_person p JOIN funnel_keys k ON k.user_id = p.user_id GROUP BY 1, 3;
INSERT INTO funnel_advocates (day, advocate, metric, n)
SELECT k.day, k.advocate, p.metric, sum(p.n)
FROM funnel_person p JOIN funnel_keys k ON k.user_id = p.user_id GROUP BY 1, 2, 3;
INSERT INTO funnel_nodes (day, node, n)
SELECT day, node, count(*) FROM funnel_standing GROUP BY 1, 2;
INSERT INTO funnel_spots (day, last_day, node, n)
SELECT day, last_day, node, count(*) FROM funnel_standing GROUP BY 1, 2, 3;

-- Someone new: started (with their language, kept as the cohort's).
CREATE TRIGGER funnel_started AFTER INSERT ON users
BEGIN
    UPDATE users SET funnel_lang = NEW.lang WHERE user_id = NEW.user_id;
    INSERT INTO funnel_add VALUES (NEW.user_id, 'started', 1);
    INSERT INTO funnel_add SELECT NEW.user_id, 'off', 1 WHERE NEW.reminders = 0;
END;

CREATE TRIGGER funnel_milestone AFTER INSERT ON milestones
BEGIN
    INSERT INTO funnel_add VALUES (NEW.user_id, 'm:' || NEW.milestone, 1);
END;

-- A stage completed, its time from the start, and from the stage before it (or to the
-- stage after it, completed in the same turn: stages are inserted in name order).
CREATE TRIGGER funnel_stage AFTER INSERT ON stages_completed
BEGIN
    INSERT INTO funnel_add VALUES (NEW.user_id, 's:' || NEW.stage, 1);
    INSERT INTO funnel_add SELECT user_id, metric, 1 FROM funnel_durations
    WHERE user_id = NEW.user_id AND (stage = NEW.stage OR other = NEW.stage);
END;

CREATE TRIGGER funnel_reminders AFTER UPDATE OF reminders ON users
WHEN (OLD.reminders = 0) != (NEW.reminders = 0)
BEGIN
    INSERT INTO funnel_add
    VALUES (NEW.user_id, 'off', CASE WHEN NEW.reminders = 0 THEN 1 ELSE -1 END);
END;

CREATE TRIGGER funnel_nudge AFTER INSERT ON events
WHEN NEW.name = 'nudge_sent'
BEGIN
    INSERT INTO funnel_add VALUES (NEW.user_id, 'nudges', 1);
END;

-- The person acted again: each reminder sent since their previous action, at most a day
-- before this one, was followed by a return (users.nudges_sent: ms of the week's nudges).
CREATE VIEW funnel_returns (user_id, k) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER funnel_return INSTEAD OF INSERT ON funnel_returns
BEGIN
    INSERT INTO funnel_add VALUES (NEW.user_id, 'back', NEW.k);
    UPDATE users SET funnel_back = funnel_back + NEW.k WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER funnel_came_back AFTER UPDATE OF active_at ON users
WHEN OLD.active_at IS NOT NEW.active_at AND NEW.active_at IS NOT NULL
 AND NEW.nudges_sent != '[]'
BEGIN
    INSERT INTO funnel_returns (user_id, k)
    SELECT NEW.user_id, count(*) FROM json_each(NEW.nudges_sent)
    WHERE value > coalesce(round((julianday(OLD.active_at) - 2440587.5) * 86400000), 0)
      AND value <= round((julianday(NEW.active_at) - 2440587.5) * 86400000)
      AND value >= round((julianday(NEW.active_at) - 2440587.5) * 86400000) - 86400000
    HAVING count(*) > 0;
END;

-- Where people stand. The turn writes the users row, then the conversation (INSERT OR
-- REPLACE): a new day of activity moves the person's spot in funnel_spots (and w:)
-- before the conversation says where they are now; finishing takes them out.
CREATE TRIGGER funnel_new_day AFTER UPDATE OF active_at ON users
WHEN NEW.active_at IS NOT NULL  -- a row saved without an own action (imports, tests)
 AND date(coalesce(OLD.active_at, OLD.created_at)) IS NOT date(NEW.active_at)
 AND NOT OLD.finished AND NOT NEW.finished
 AND EXISTS (SELECT 1 FROM conversations WHERE user_id = NEW.user_id)
BEGIN
    INSERT INTO funnel_place
    SELECT date(NEW.created_at), date(coalesce(OLD.active_at, OLD.created_at)),
           coalesce(flow || '.' || node, '-'), -1
    FROM conversations WHERE user_id = NEW.user_id
    UNION ALL
    SELECT date(NEW.created_at), date(NEW.active_at), coalesce(flow || '.' || node, '-'), 1
    FROM conversations WHERE user_id = NEW.user_id;
    INSERT INTO funnel_add VALUES
        (NEW.user_id, 'w:' || date(coalesce(OLD.active_at, OLD.created_at)), -1),
        (NEW.user_id, 'w:' || date(NEW.active_at), 1);
END;

CREATE TRIGGER funnel_finished AFTER UPDATE OF finished ON users
WHEN (NOT OLD.finished) != (NOT NEW.finished)
 AND EXISTS (SELECT 1 FROM conversations WHERE user_id = NEW.user_id)
BEGIN
    INSERT INTO funnel_place
    SELECT date(NEW.created_at),
           CASE WHEN NEW.finished THEN date(coalesce(OLD.active_at, OLD.created_at))
                ELSE date(coalesce(NEW.active_at, NEW.created_at)) END,
           coalesce(flow || '.' || node, '-'), CASE WHEN NEW.finished THEN -1 ELSE 1 END
    FROM conversations WHERE user_id = NEW.user_id;
    INSERT INTO funnel_nodes (day, node, n)
    SELECT date(NEW.created_at), coalesce(flow || '.' || node, '-'),
           CASE WHEN NEW.finished THEN -1 ELSE 1 END
    FROM conversations WHERE user_id = NEW.user_id
    ON CONFLICT (day, node) DO UPDATE SET n = n + excluded.n;
    DELETE FROM funnel_nodes WHERE day = date(NEW.created_at) AND n = 0;
    INSERT INTO funnel_add VALUES (
        NEW.user_id,
        'w:' || CASE WHEN NEW.finished THEN date(coalesce(OLD.active_at, OLD.created_at))
                     ELSE date(coalesce(NEW.active_at, NEW.created_at)) END,
        CASE WHEN NEW.finished THEN -1 ELSE 1 END);
END;

-- The first conversation row: the person is now counted by the day of their last own
-- action (funnel_moved below counts where they stand).
CREATE TRIGGER funnel_first_place BEFORE INSERT ON conversations
WHEN NOT EXISTS (SELECT 1 FROM conversations WHERE user_id = NEW.user_id)
 AND NOT (SELECT finished FROM users WHERE user_id = NEW.user_id)
BEGIN
    INSERT INTO funnel_add
    SELECT NEW.user_id, 'w:' || date(coalesce(active_at, created_at)), 1
    FROM users WHERE user_id = NEW.user_id;
END;

-- Every turn rewrites the conversation: when the node changed (the common case, so kept
-- to two statements, each sub-select evaluated once), the person moves from the old node
-- to the new one (from nowhere, the first time). Rows left at zero stay (a few per node
-- and day): deleting them would cost every turn two more statements.
CREATE TRIGGER funnel_moved BEFORE INSERT ON conversations
WHEN coalesce(NEW.flow || '.' || NEW.node, '-') IS NOT (SELECT coalesce(flow || '.' || node, '-') FROM conversations WHERE user_id = NEW.user_id)
 AND NOT (SELECT finished FROM users WHERE user_id = NEW.user_id)
BEGIN
    INSERT INTO funnel_spots (day, last_day, node, n)
    SELECT (SELECT date(created_at) FROM users WHERE user_id = NEW.user_id), (SELECT date(coalesce(active_at, created_at)) FROM users WHERE user_id = NEW.user_id), m.node, m.n
    FROM (SELECT (SELECT coalesce(flow || '.' || node, '-') FROM conversations WHERE user_id = NEW.user_id) AS node, -1 AS n UNION ALL SELECT coalesce(NEW.flow || '.' || NEW.node, '-'), 1) m
    WHERE m.node IS NOT NULL
    ON CONFLICT (day, last_day, node) DO UPDATE SET n = n + excluded.n;
    INSERT INTO funnel_nodes (day, node, n)
    SELECT (SELECT date(created_at) FROM users WHERE user_id = NEW.user_id), m.node, m.n
    FROM (SELECT (SELECT coalesce(flow || '.' || node, '-') FROM conversations WHERE user_id = NEW.user_id) AS node, -1 AS n UNION ALL SELECT coalesce(NEW.flow || '.' || NEW.node, '-'), 1) m
    WHERE m.node IS NOT NULL
    ON CONFLICT (day, node) DO UPDATE SET n = n + excluded.n;
END;

-- Credited to an advocate (at the start or later): the person's counts move from
-- "nobody invited" to that advocate.
CREATE TRIGGER funnel_referral AFTER INSERT ON referrals
BEGIN
    INSERT INTO funnel_advocates (day, advocate, metric, n)
    SELECT k.day, a.advocate, p.metric, a.sign * sum(p.n)
    FROM funnel_person p, funnel_keys k,
         (SELECT 0 AS advocate, -1 AS sign
          UNION ALL SELECT coalesce(NEW.advocate_id, -1), 1) a
    WHERE p.user_id = NEW.friend_id AND k.user_id = NEW.friend_id
    GROUP BY a.advocate, p.metric
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = n + excluded.n;
    DELETE FROM funnel_advocates WHERE n = 0 AND advocate = 0
        AND day = (SELECT date(created_at) FROM users WHERE user_id = NEW.friend_id);
END;

-- /forget: the person leaves every figure (their rows are still there, before the
-- cascade) and one anonymous erasure is counted for their cohort day and language; the
-- people they invited are counted under "an advocate who left" from now on.
CREATE TRIGGER funnel_forget BEFORE DELETE ON users
BEGIN
    INSERT INTO funnel_counts (day, lang, metric, n)
    SELECT k.day, l.lang, p.metric, -sum(p.n)
    FROM funnel_person p, funnel_keys k, (SELECT k2.lang FROM funnel_keys k2
                                          WHERE k2.user_id = OLD.user_id
                                          UNION ALL SELECT '') l
    WHERE p.user_id = OLD.user_id AND k.user_id = OLD.user_id GROUP BY l.lang, p.metric
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = n + excluded.n;
    INSERT INTO funnel_advocates (day, advocate, metric, n)
    SELECT k.day, k.advocate, p.metric, -sum(p.n)
    FROM funnel_person p, funnel_keys k WHERE p.user_id = OLD.user_id AND k.user_id = OLD.user_id
    GROUP BY p.metric
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = n + excluded.n;
    INSERT INTO funnel_counts (day, lang, metric, n)
    VALUES (date(OLD.created_at), coalesce(OLD.funnel_lang, OLD.lang), 'erased', 1),
           (date(OLD.created_at), '', 'erased', 1)
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = n + 1;
    INSERT INTO funnel_place
    SELECT day, last_day, node, -1 FROM funnel_standing WHERE user_id = OLD.user_id;
    INSERT INTO funnel_nodes (day, node, n)
    SELECT day, node, -1 FROM funnel_standing WHERE user_id = OLD.user_id
    ON CONFLICT (day, node) DO UPDATE SET n = n + excluded.n;
    DELETE FROM funnel_nodes WHERE day = date(OLD.created_at) AND n = 0;
    DELETE FROM funnel_counts WHERE day = date(OLD.created_at) AND n = 0;
    DELETE FROM funnel_advocates WHERE day = date(OLD.created_at) AND n = 0;
    INSERT INTO funnel_advocates (day, advocate, metric, n)
    SELECT day, -1, metric, n FROM funnel_advocates WHERE advocate = OLD.user_id
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = n + excluded.n;
    DELETE FROM funnel_advocates WHERE advocate = OLD.user_id;
END;
