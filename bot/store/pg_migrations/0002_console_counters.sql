-- The console's counters: as SQLite's migration 0009 (the same rows), triggers as
-- functions. funnel_reach is keyed by cohort day: every write to it takes that day's
-- lock (funnel_lock), already held by the turn (save_turn) or by /forget, so that two
-- workers never wait on each other's rows in opposite orders. unknown_counts is keyed by
-- text: a turn touches one or two of its rows; two workers' batches meeting there in
-- opposite orders are a deadlock the store retries (bot/store/postgres.py). Text columns
-- compared for order are COLLATE "C": code point order, as SQLite.
-- (No question mark and no percent sign in this file: it is run as is.)
CREATE TABLE reached_nodes (
    user_id bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node    text   NOT NULL,
    acted   bigint NOT NULL DEFAULT 0,  -- 1: an event named it; 0: only standing there
    PRIMARY KEY (user_id, node)
);

CREATE TABLE funnel_reach (
    day  text   NOT NULL,
    node text   NOT NULL,
    n    bigint NOT NULL,
    PRIMARY KEY (day, node)
);

CREATE TABLE unknown_counts (
    node     text COLLATE "C" NOT NULL,
    lang     text COLLATE "C" NOT NULL,
    text_key text   NOT NULL,
    text     text COLLATE "C" NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (node, lang, text_key)
);
CREATE INDEX unknown_counts_by_n ON unknown_counts(n DESC, node, text, lang);
CREATE INDEX unknown_counts_by_node ON unknown_counts(node, n DESC, text, lang);
CREATE INDEX unknown_texts_by_key ON unknown_texts(node, lang, text_key, text COLLATE "C");

-- History (before the triggers). The node in an event's JSON as bot/store/reach.py reads
-- it here: only data shaped like an object; a text jsonb refuses is skipped.
CREATE FUNCTION reach_node(p_data text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    IF left(p_data, 1) <> '{' OR right(p_data, 1) <> '}' THEN
        RETURN NULL;
    END IF;
    RETURN p_data::jsonb ->> 'node';
EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
    RETURN NULL;
END $$;

INSERT INTO reached_nodes (user_id, node, acted)
SELECT user_id, key, max(acted) FROM (
    SELECT user_id, reach_node(data) AS key, 1 AS acted FROM events
    WHERE name IN ('press', 'text_press', 'text_match', 'text_heard', 'fallback', 'meant',
                   'answer', 'answer_refused')
    UNION ALL
    SELECT user_id, flow || '.' || node, 0 FROM conversations
    WHERE flow IS NOT NULL AND node IS NOT NULL
) r WHERE key IS NOT NULL AND key <> '' GROUP BY user_id, key;
INSERT INTO funnel_reach (day, node, n)
SELECT iso_day(u.created_at), r.node, count(*)
FROM reached_nodes r JOIN users u ON u.user_id = r.user_id GROUP BY 1, 2;
INSERT INTO unknown_counts (node, lang, text_key, text, n)
SELECT node, lang, text_key, min(text COLLATE "C"), count(*) FROM unknown_texts GROUP BY 1, 2, 3;

CREATE FUNCTION reach_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text := (SELECT iso_day(created_at) FROM users WHERE user_id = NEW.user_id);
BEGIN
    IF v_day IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM funnel_lock(v_day);  -- held already: the turn took it
    INSERT INTO funnel_reach AS t (day, node, n) VALUES (v_day, NEW.node, 1)
    ON CONFLICT (day, node) DO UPDATE SET n = t.n + 1;
    RETURN NULL;
END $$;

-- Under /forget the cascade runs once the users row is gone: reach_forget counted it.
CREATE FUNCTION reach_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text := (SELECT iso_day(created_at) FROM users WHERE user_id = OLD.user_id);
BEGIN
    IF v_day IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM funnel_lock(v_day);
    UPDATE funnel_reach SET n = n - 1 WHERE day = v_day AND node = OLD.node;
    DELETE FROM funnel_reach WHERE day = v_day AND node = OLD.node AND n = 0;
    RETURN NULL;
END $$;

CREATE FUNCTION reach_forget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text := iso_day(OLD.created_at);
BEGIN
    PERFORM funnel_lock(v_day);  -- held already: forget_counts fires first
    INSERT INTO funnel_reach AS t (day, node, n)
    SELECT v_day, r.node, -1 FROM reached_nodes r WHERE r.user_id = OLD.user_id ORDER BY r.node
    ON CONFLICT (day, node) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM funnel_reach WHERE day = v_day AND n = 0;
    RETURN OLD;
END $$;

CREATE FUNCTION reach_by_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_node text := reach_node(NEW.data);
BEGIN
    IF v_node IS NOT NULL AND v_node <> '' THEN
        INSERT INTO reached_nodes AS r (user_id, node, acted) VALUES (NEW.user_id, v_node, 1)
        ON CONFLICT (user_id, node) DO UPDATE SET acted = 1 WHERE r.acted = 0;
    END IF;
    RETURN NULL;
END $$;

-- The spot the person leaves goes unless they acted there (BEFORE INSERT: the turn's
-- upsert, which sees the old row, as SQLite's REPLACE does).
CREATE FUNCTION reach_left() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reached_nodes r USING conversations c
    WHERE c.user_id = NEW.user_id AND r.user_id = NEW.user_id AND r.acted = 0
      AND r.node = c.flow || '.' || c.node
      AND r.node IS DISTINCT FROM NEW.flow || '.' || NEW.node;
    RETURN NEW;
END $$;

CREATE FUNCTION reach_stood() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reached_nodes (user_id, node, acted)
    VALUES (NEW.user_id, NEW.flow || '.' || NEW.node, 0) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- Texts not understood. A deleted min is looked up again in a statement of its own,
-- after the counter row is locked: a text added meanwhile by another worker is seen.
CREATE FUNCTION unknown_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO unknown_counts AS t (node, lang, text_key, text, n)
    VALUES (NEW.node, NEW.lang, NEW.text_key, NEW.text, 1)
    ON CONFLICT (node, lang, text_key) DO UPDATE SET n = t.n + 1,
        text = least(t.text, excluded.text);
    RETURN NULL;
END $$;

CREATE FUNCTION unknown_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_n bigint; v_text text;
BEGIN
    UPDATE unknown_counts SET n = n - 1
    WHERE node = OLD.node AND lang = OLD.lang AND text_key = OLD.text_key
    RETURNING n, text INTO v_n, v_text;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_n <= 0 THEN
        DELETE FROM unknown_counts
        WHERE node = OLD.node AND lang = OLD.lang AND text_key = OLD.text_key;
    ELSIF v_text = OLD.text COLLATE "C" THEN
        UPDATE unknown_counts SET text = coalesce(
            (SELECT min(u.text COLLATE "C") FROM unknown_texts u WHERE u.node = OLD.node
             AND u.lang = OLD.lang AND u.text_key = OLD.text_key), text)
        WHERE node = OLD.node AND lang = OLD.lang AND text_key = OLD.text_key;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reach_counted AFTER INSERT ON reached_nodes
    FOR EACH ROW EXECUTE FUNCTION reach_counted();
CREATE TRIGGER reach_uncounted AFTER DELETE ON reached_nodes
    FOR EACH ROW EXECUTE FUNCTION reach_uncounted();
CREATE TRIGGER reach_forget BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION reach_forget();
CREATE TRIGGER reach_by_event AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.name IN ('press', 'text_press', 'text_match', 'text_heard',
                                    'fallback', 'meant', 'answer', 'answer_refused'))
    EXECUTE FUNCTION reach_by_event();
CREATE TRIGGER reach_left BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION reach_left();
CREATE TRIGGER reach_stood AFTER INSERT OR UPDATE OF flow, node ON conversations
    FOR EACH ROW WHEN (NEW.flow IS NOT NULL AND NEW.node IS NOT NULL)
    EXECUTE FUNCTION reach_stood();
CREATE TRIGGER unknown_counted AFTER INSERT ON unknown_texts
    FOR EACH ROW EXECUTE FUNCTION unknown_counted();
CREATE TRIGGER unknown_uncounted AFTER DELETE ON unknown_texts
    FOR EACH ROW EXECUTE FUNCTION unknown_uncounted();
