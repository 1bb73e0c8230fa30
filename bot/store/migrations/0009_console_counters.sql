-- The operators' console reads counters, never the event log (docs/console.md): per node
-- the people who reached it, and the texts not understood by how often, kept by
-- triggers so that a page costs the same at 1,000 or 100,000 people.
--
-- reached_nodes: who reached which node ("flow.node"), as bot/store/reach.py defines it:
-- an event of NODE_EVENTS whose data names the node (acted = 1: kept until /forget), or
-- standing there now (acted = 0: the row goes when the person moves on without having
-- acted there, e.g. by /restart, as reach.py's recount then stops counting them).
-- funnel_reach: those people by cohort day (the funnel's: date(users.created_at)) and
-- node; a row at zero goes. unknown_counts: always equal to
--   SELECT node, lang, text_key, min(text), count(*) FROM unknown_texts GROUP BY 1, 2, 3
-- (every kept row: pruning and /forget delete rows, and the counts with them).
CREATE TABLE reached_nodes (
    user_id INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node    TEXT    NOT NULL,
    acted   INTEGER NOT NULL DEFAULT 0,  -- 1: an event named it; 0: only standing there
    PRIMARY KEY (user_id, node)
) WITHOUT ROWID;

CREATE TABLE funnel_reach (
    day  TEXT    NOT NULL,
    node TEXT    NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (day, node)
) WITHOUT ROWID;

CREATE TABLE unknown_counts (
    node     TEXT    NOT NULL,
    lang     TEXT    NOT NULL,
    text_key TEXT    NOT NULL,
    text     TEXT    NOT NULL,  -- min(text) of the group: one way it was written
    n        INTEGER NOT NULL,
    PRIMARY KEY (node, lang, text_key)
) WITHOUT ROWID;
-- the console's ORDER BY n DESC, node, text, lang LIMIT k, overall and for one node
CREATE INDEX unknown_counts_by_n ON unknown_counts(n DESC, node, text, lang);
CREATE INDEX unknown_counts_by_node ON unknown_counts(node, n DESC, text, lang);
-- the new min(text) of one group when its min is deleted: a seek, not a scan
CREATE INDEX unknown_texts_by_key ON unknown_texts(node, lang, text_key, text);

-- History: the same definitions over the rows already there (before the triggers exist).
-- The names are bot/store/reach.py's NODE_EVENTS (a test compares).
INSERT INTO reached_nodes (user_id, node, acted)
SELECT user_id, key, max(acted) FROM (
    SELECT user_id, CAST(json_extract(data, '$.node') AS TEXT) AS key, 1 AS acted FROM events
    WHERE name IN ('press', 'text_press', 'text_match', 'text_heard', 'fallback', 'meant',
                   'answer', 'answer_refused') AND json_valid(data)
    UNION ALL
    SELECT user_id, flow || '.' || node, 0 FROM conversations
    WHERE flow IS NOT NULL AND node IS NOT NULL
) WHERE key IS NOT NULL AND key != '' GROUP BY user_id, key;
INSERT INTO funnel_reach (day, node, n)
SELECT date(u.created_at), r.node, count(*)
FROM reached_nodes r JOIN users u ON u.user_id = r.user_id GROUP BY 1, 2;
INSERT INTO unknown_counts (node, lang, text_key, text, n)
SELECT node, lang, text_key, min(text), count(*) FROM unknown_texts GROUP BY 1, 2, 3;

-- A person reached a node: one more for their cohort day.
CREATE TRIGGER reach_counted AFTER INSERT ON reached_nodes
BEGIN
    INSERT INTO funnel_reach (day, node, n)
    SELECT date(created_at), NEW.node, 1 FROM users WHERE user_id = NEW.user_id
    ON CONFLICT (day, node) DO UPDATE SET n = n + 1;
END;

-- One fewer when a row goes while the person is still there (they moved on); under
-- /forget the cascade runs once the users row is gone, and reach_forget counted it.
CREATE TRIGGER reach_uncounted AFTER DELETE ON reached_nodes
BEGIN
    UPDATE funnel_reach SET n = n - 1
    WHERE day = (SELECT date(created_at) FROM users WHERE user_id = OLD.user_id)
      AND node = OLD.node;
    DELETE FROM funnel_reach
    WHERE day = (SELECT date(created_at) FROM users WHERE user_id = OLD.user_id)
      AND node = OLD.node AND n = 0;
END;

CREATE TRIGGER reach_forget BEFORE DELETE ON users
BEGIN
    INSERT INTO funnel_reach (day, node, n)
    SELECT date(OLD.created_at), node, -1 FROM reached_nodes WHERE user_id = OLD.user_id
    ON CONFLICT (day, node) DO UPDATE SET n = n + excluded.n;
    DELETE FROM funnel_reach WHERE day = date(OLD.created_at) AND n = 0;
END;

-- An event naming where the person was when they acted.
CREATE TRIGGER reach_by_event AFTER INSERT ON events
WHEN NEW.name IN ('press', 'text_press', 'text_match', 'text_heard', 'fallback', 'meant',
                  'answer', 'answer_refused')
 AND json_valid(NEW.data)
BEGIN
    INSERT INTO reached_nodes (user_id, node, acted)
    SELECT NEW.user_id, k.node, 1
    FROM (SELECT CAST(json_extract(NEW.data, '$.node') AS TEXT) AS node) k
    WHERE k.node IS NOT NULL AND k.node != ''
    ON CONFLICT (user_id, node) DO UPDATE SET acted = 1 WHERE acted = 0;
END;

-- Where the person stands. The turn writes its conversation row by INSERT OR REPLACE
-- (whose policy would override a trigger's own conflict clause: hence NOT EXISTS). The
-- BEFORE trigger still sees the old row: the spot they leave goes unless they acted
-- there. (The turn's events come after: an event at the spot left adds it back.)
CREATE TRIGGER reach_left BEFORE INSERT ON conversations
BEGIN
    DELETE FROM reached_nodes WHERE user_id = NEW.user_id AND acted = 0
        AND node = (SELECT flow || '.' || node FROM conversations WHERE user_id = NEW.user_id)
        AND node IS NOT (NEW.flow || '.' || NEW.node);
END;

CREATE TRIGGER reach_stood AFTER INSERT ON conversations
WHEN NEW.flow IS NOT NULL AND NEW.node IS NOT NULL
BEGIN
    INSERT INTO reached_nodes (user_id, node, acted)
    SELECT NEW.user_id, NEW.flow || '.' || NEW.node, 0
    WHERE NOT EXISTS (SELECT 1 FROM reached_nodes
                      WHERE user_id = NEW.user_id AND node = NEW.flow || '.' || NEW.node);
END;

-- Texts not understood: one more of the group, its text the smaller one.
CREATE TRIGGER unknown_counted AFTER INSERT ON unknown_texts
BEGIN
    INSERT INTO unknown_counts (node, lang, text_key, text, n)
    VALUES (NEW.node, NEW.lang, NEW.text_key, NEW.text, 1)
    ON CONFLICT (node, lang, text_key) DO UPDATE SET n = n + 1, text = min(text, excluded.text);
END;

-- One fewer (pruned or forgotten); the group's min is looked up again only when it was
-- the text deleted (unknown_texts_by_key); a group left empty goes.
CREATE TRIGGER unknown_uncounted AFTER DELETE ON unknown_texts
BEGIN
    UPDATE unknown_counts SET n = n - 1,
        text = CASE WHEN text = OLD.text THEN coalesce(
            (SELECT min(u.text) FROM unknown_texts u WHERE u.node = OLD.node
             AND u.lang = OLD.lang AND u.text_key = OLD.text_key), text) ELSE text END
    WHERE node = OLD.node AND lang = OLD.lang AND text_key = OLD.text_key;
    DELETE FROM unknown_counts
    WHERE node = OLD.node AND lang = OLD.lang AND text_key = OLD.text_key AND n <= 0;
END;
