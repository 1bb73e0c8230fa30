-- VIE Coach schema for PostgreSQL 15: the final state of the SQLite migrations 0001..0008
-- (bot/store/migrations), same tables, columns, indexes and views, and triggers that
-- keep the same rows. INTEGER is bigint, booleans stay 0/1, JSON stays text (cast to
-- json/jsonb inside), conversation times stay ISO-8601 text, outbox times ms (bigint).
-- Every counter moves by `n = n + x` in one statement: several workers write at once.
-- The file holds no question mark and no percent sign, so that a driver may run it as is.

-- == How SQLite reads an ISO-8601 time =======================================================
-- julianday() keeps whole milliseconds, the seconds of the minute (a double: whole seconds
-- plus the fraction as written) times 1000 plus 0.5, truncated; text without an offset is
-- UTC. The same arithmetic on float8 gives the same bits, so that the bucket of a span
-- (funnel_durations) falls on the same side of an edge as in SQLite.
CREATE FUNCTION iso_ms(iso text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET timezone TO 'UTC' AS $$
    SELECT (extract(epoch FROM date_trunc('minute', t)) * 1000)::bigint
         + trunc((floor(s)::float8 + ((s - floor(s)) * 1000000)::float8 / 1000000.0) * 1000
                 + 0.5)::bigint
    FROM (SELECT x.t, extract(second FROM x.t) AS s FROM (SELECT iso::timestamptz AS t) x) y
$$;

-- julianday(iso): the day number as a double, from the same milliseconds.
CREATE FUNCTION iso_julianday(iso text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (iso_ms(iso) + 210866760000000)::float8 / 86400000.0
$$;

-- date(iso): the UTC day. SQLite takes it from the text's own fields when the offset is
-- zero (the store writes UTC times), so the exact time is used, not the rounded ms. (With
-- a non-zero offset SQLite goes through the rounded ms: a time within half a millisecond
-- of UTC midnight would then fall on the next day there, not here.)
CREATE FUNCTION iso_day(iso text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET timezone TO 'UTC' AS $$
    SELECT to_char(iso::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD')
$$;

-- json_extract's value as a TEXT column stores it: a string unquoted, an object or array
-- as its JSON text (json, not jsonb, keeps the text as written: the store writes it
-- compact, as SQLite renders it), true/false as 1/0, null as NULL.
CREATE FUNCTION json_text(v json) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE json_typeof(v) WHEN 'string' THEN v #>> '{}' WHEN 'null' THEN NULL
                WHEN 'boolean' THEN CASE WHEN v::text = 'true' THEN '1' ELSE '0' END
                ELSE v::text END
$$;

-- The ids of a JSON array of ids (a referral path, alerts acknowledged), as bigint.
CREATE FUNCTION json_ids(a text) RETURNS TABLE (id bigint, pos bigint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT e.v::bigint, e.pos FROM jsonb_array_elements_text(a::jsonb) WITH ORDINALITY AS e(v, pos)
$$;

-- == Tables (0001) ===========================================================================
CREATE TABLE users (
    user_id     bigint  PRIMARY KEY,
    first_name  text    NOT NULL DEFAULT '',
    lang        text    NOT NULL,
    reminders   bigint  NOT NULL DEFAULT 1,
    created_at  text    NOT NULL,
    updated_at  text    NOT NULL,
    blocked     bigint  NOT NULL DEFAULT 0,
    timezone    text    NOT NULL DEFAULT '',    -- IANA name from /timezone; '' = by language
    nudges_sent text    NOT NULL DEFAULT '[]',  -- JSON ms of the last 7 days' nudges
    ignored_in_a_row bigint NOT NULL DEFAULT 0,
    active_at    text,                          -- last own action (0002)
    shares       bigint NOT NULL DEFAULT 1,     -- /privacy: progress
    public       bigint NOT NULL DEFAULT 0,     -- /privacy: leaderboard
    alerts       bigint NOT NULL DEFAULT 1,     -- /alerts
    invite_tries bigint NOT NULL DEFAULT 0,
    watch_ms     bigint,                        -- dormancy check due
    alerts_sent  text   NOT NULL DEFAULT '[]',
    digest_ms    bigint,
    finished     bigint NOT NULL DEFAULT 0,     -- the journey is finished (0003)
    funnel_lang  text,                          -- the language at the start (0006)
    funnel_back  bigint NOT NULL DEFAULT 0      -- reminders they came back after
);

CREATE TABLE conversations (
    user_id        bigint PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    flow           text,
    node           text,
    node_version   text   NOT NULL DEFAULT '',
    vars           text   NOT NULL DEFAULT '{}',
    pending        text,
    dialog_version text   NOT NULL DEFAULT '',
    nudge_step     bigint NOT NULL DEFAULT 0,
    next_nudge_ms  bigint
);

CREATE TABLE milestones (
    user_id    bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    milestone  text   NOT NULL,
    stage      text,
    reached_at text   NOT NULL,
    PRIMARY KEY (user_id, milestone)
);

CREATE TABLE stages_completed (
    user_id      bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    stage        text   NOT NULL,
    completed_at text   NOT NULL,
    PRIMARY KEY (user_id, stage)
);

CREATE TABLE events (
    id      bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    at      text   NOT NULL,
    name    text   NOT NULL,
    data    text   NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_user ON events(user_id, id);
CREATE INDEX events_by_name ON events(name, at);

CREATE TABLE group_chats (
    chat_id bigint PRIMARY KEY,
    told_at text   NOT NULL
);

CREATE TABLE nudges (
    due_ms   bigint NOT NULL,
    user_id  bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    key      text   NOT NULL,
    lease_ms bigint NOT NULL DEFAULT 0,  -- 0: pending; else in flight until then
    attempts bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (due_ms, user_id, key)
);
CREATE UNIQUE INDEX nudges_by_user ON nudges(user_id, key);

-- == Advocates (0002) ========================================================================
CREATE TABLE invites (
    payload     text   PRIMARY KEY,
    code        text   NOT NULL UNIQUE,
    advocate_id bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    name        text   NOT NULL DEFAULT '',
    name_key    text   NOT NULL DEFAULT '',
    created_ms  bigint NOT NULL,
    revoked_ms  bigint,
    joined      bigint NOT NULL DEFAULT 0
);
CREATE INDEX invites_by_advocate ON invites(advocate_id, name_key);
CREATE INDEX invites_by_name ON invites(name_key) WHERE revoked_ms IS NULL AND name_key <> '';

CREATE TABLE referrals (
    friend_id   bigint PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    advocate_id bigint REFERENCES users(user_id) ON DELETE SET NULL,  -- NULL: they left
    payload     text   NOT NULL,
    path        text   NOT NULL,  -- JSON [advocate ids], nearest first
    joined_ms   bigint NOT NULL
);
CREATE INDEX referrals_by_advocate ON referrals(advocate_id, joined_ms, friend_id);

CREATE TABLE advocates (
    user_id       bigint PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    friends       bigint NOT NULL DEFAULT 0,
    finished      bigint NOT NULL DEFAULT 0,
    tree          bigint NOT NULL DEFAULT 0,
    tree_finished bigint NOT NULL DEFAULT 0,
    depth         bigint NOT NULL DEFAULT 0,
    since_ms      bigint NOT NULL
);
CREATE INDEX advocates_by_score ON advocates(tree_finished DESC, finished DESC, since_ms)
    WHERE tree_finished > 0;

CREATE TABLE alerts (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    advocate_id bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    friend_id   bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    kind        text   NOT NULL,  -- joined | stage | dormant
    stage       text,
    at_ms       bigint NOT NULL
);
CREATE INDEX alerts_by_advocate ON alerts(advocate_id, id);
CREATE INDEX alerts_by_friend ON alerts(friend_id);

-- == Texts not understood (0003), inbox and outbox (0004), dialog versions (0005) ==========
CREATE TABLE unknown_texts (
    id       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id  bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node     text   NOT NULL,
    lang     text   NOT NULL,
    text     text   NOT NULL,
    text_key text   NOT NULL,
    at_ms    bigint NOT NULL
);
CREATE INDEX unknown_texts_by_time ON unknown_texts(at_ms);
CREATE INDEX unknown_texts_by_user ON unknown_texts(user_id);

CREATE TABLE inbox (
    update_id   bigint PRIMARY KEY,
    owner       bigint,
    body        text,
    received_ms bigint NOT NULL,
    done_ms     bigint
);
CREATE INDEX inbox_waiting ON inbox(update_id) WHERE done_ms IS NULL;
CREATE INDEX inbox_done ON inbox(done_ms) WHERE done_ms IS NOT NULL;
CREATE INDEX inbox_by_owner ON inbox(owner);

CREATE TABLE poison_updates (
    update_id bigint PRIMARY KEY,
    body      text   NOT NULL,
    error     text   NOT NULL,
    at_ms     bigint NOT NULL
);

-- Ids never go back (SQLite: AUTOINCREMENT): "rows after the last one seen" finds every
-- new row.
CREATE TABLE outbox (
    id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    chat_id    bigint NOT NULL,
    kind       text   NOT NULL,
    body       text   NOT NULL,
    created_ms bigint NOT NULL
);
CREATE INDEX outbox_by_chat ON outbox(chat_id, id);
CREATE INDEX outbox_background ON outbox(kind) WHERE kind IN ('nudge', 'broadcast');

CREATE TABLE dialog_files (
    version text PRIMARY KEY,
    files   text NOT NULL
);

CREATE TABLE dialog_served (
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    version   text   NOT NULL REFERENCES dialog_files(version),
    served_ms bigint NOT NULL,
    reason    text   NOT NULL
);

-- == Funnel counters (0006), exposures (0007), broadcasts (0008) ===========================
CREATE TABLE funnel_counts (
    day    text   NOT NULL,
    lang   text   NOT NULL,  -- '' for everyone
    metric text   NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (day, lang, metric)
);

CREATE TABLE funnel_advocates (
    day      text   NOT NULL,
    advocate bigint NOT NULL,  -- the direct advocate's user id; 0 nobody, -1 left
    metric   text   NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (day, advocate, metric)
);
CREATE INDEX funnel_advocates_by_advocate ON funnel_advocates(advocate);

CREATE TABLE funnel_nodes (
    day  text   NOT NULL,
    node text   NOT NULL,
    n    bigint NOT NULL,
    PRIMARY KEY (day, node)
);

CREATE TABLE funnel_spots (
    day      text   NOT NULL,
    last_day text   NOT NULL,
    node     text   NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (day, last_day, node)
);

CREATE TABLE exposures (
    experiment text   NOT NULL,
    user_id    bigint NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    arm        text   NOT NULL,
    outcome    text   NOT NULL,
    at_ms      bigint NOT NULL,
    PRIMARY KEY (experiment, user_id)
);
CREATE INDEX exposures_by_arm ON exposures(experiment, arm, outcome, at_ms);
CREATE INDEX exposures_by_user ON exposures(user_id);

CREATE TABLE broadcast_drafts (
    admin_id   bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    texts      text   NOT NULL,
    updated_ms bigint NOT NULL
);

CREATE TABLE broadcasts (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    texts        text   NOT NULL,
    default_lang text   NOT NULL,
    state        text   NOT NULL,  -- running, paused, done, cancelled
    per_second   double precision NOT NULL,
    total        bigint NOT NULL DEFAULT 0,
    created_ms   bigint NOT NULL,
    finished_ms  bigint
);
CREATE INDEX broadcasts_active ON broadcasts(state) WHERE state IN ('running', 'paused');

CREATE TABLE broadcast_recipients (
    broadcast_id bigint NOT NULL REFERENCES broadcasts ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    state        text   NOT NULL DEFAULT 'waiting',
    PRIMARY KEY (broadcast_id, user_id)
);
CREATE INDEX broadcast_todo ON broadcast_recipients(broadcast_id, state, user_id);
CREATE INDEX broadcast_by_user ON broadcast_recipients(user_id);

-- == The funnel's views (0006): what one person contributes ================================
CREATE VIEW funnel_spans (user_id, stage, other, hours) AS
SELECT s.user_id, s.stage, NULL::text,
       (iso_julianday(s.completed_at) - iso_julianday(u.created_at)) * 24
FROM stages_completed s JOIN users u ON u.user_id = s.user_id
UNION ALL
SELECT a.user_id, a.stage, b.stage,
       (iso_julianday(b.completed_at) - iso_julianday(a.completed_at)) * 24
FROM stages_completed a JOIN stages_completed b ON b.user_id = a.user_id
 AND b.stage = CASE a.stage WHEN 'V' THEN 'I' WHEN 'I' THEN 'E' END  -- bot.core.model.STAGES
WHERE iso_julianday(b.completed_at) >= iso_julianday(a.completed_at);

CREATE VIEW funnel_durations (user_id, stage, other, metric) AS
SELECT user_id, stage, other,
       CASE WHEN other IS NULL THEN 'h:' || stage ELSE 'g:' || stage || '>' || other END || ':'
       || CASE WHEN hours < 1 THEN 0 WHEN hours < 3 THEN 1 WHEN hours < 6 THEN 2
               WHEN hours < 12 THEN 3 WHEN hours < 24 THEN 4 WHEN hours < 48 THEN 5
               WHEN hours < 72 THEN 6 WHEN hours < 120 THEN 7 WHEN hours < 168 THEN 8
               WHEN hours < 336 THEN 9 WHEN hours < 720 THEN 10 WHEN hours < 1440 THEN 11
               ELSE 12 END
FROM funnel_spans;

CREATE VIEW funnel_standing (user_id, day, last_day, node) AS
SELECT u.user_id, iso_day(u.created_at), iso_day(coalesce(u.active_at, u.created_at)),
       coalesce(c.flow || '.' || c.node, '-')
FROM users u JOIN conversations c ON c.user_id = u.user_id WHERE u.finished = 0;

CREATE VIEW funnel_person (user_id, metric, n) AS
SELECT user_id, 'started'::text, 1::bigint FROM users
UNION ALL SELECT user_id, 'off', 1 FROM users WHERE reminders = 0
UNION ALL SELECT user_id, 'back', funnel_back FROM users WHERE funnel_back <> 0
UNION ALL SELECT user_id, 'w:' || last_day, 1 FROM funnel_standing
UNION ALL SELECT user_id, 'm:' || milestone, 1 FROM milestones
UNION ALL SELECT user_id, 's:' || stage, 1 FROM stages_completed
UNION ALL SELECT user_id, metric, 1 FROM funnel_durations
UNION ALL SELECT user_id, 'nudges', count(*) FROM events WHERE name = 'nudge_sent'
          GROUP BY user_id;

CREATE VIEW funnel_keys (user_id, day, lang, advocate) AS
SELECT u.user_id, iso_day(u.created_at), coalesce(u.funnel_lang, u.lang),
       CASE WHEN r.friend_id IS NULL THEN 0 ELSE coalesce(r.advocate_id, -1) END
FROM users u LEFT JOIN referrals r ON r.friend_id = u.user_id;

-- SQLite's helper views with an INSTEAD OF trigger (funnel_add, funnel_place,
-- funnel_returns) are functions here. funnel_add: n more for the person's keys. The
-- language row and the everyone row are two statements, as SQLite adds them row by row
-- (a person whose language is '' counts twice there, and here).
CREATE FUNCTION funnel_add(p_user bigint, p_metric text, p_n bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_day text; v_lang text; v_advocate bigint;
BEGIN
    SELECT k.day, k.lang, k.advocate INTO v_day, v_lang, v_advocate
    FROM funnel_keys k WHERE k.user_id = p_user;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO funnel_counts AS t (day, lang, metric, n) VALUES (v_day, v_lang, p_metric, p_n)
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = t.n + excluded.n;
    INSERT INTO funnel_counts AS t (day, lang, metric, n) VALUES (v_day, '', p_metric, p_n)
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = t.n + excluded.n;
    INSERT INTO funnel_advocates AS t (day, advocate, metric, n)
    VALUES (v_day, v_advocate, p_metric, p_n)
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = t.n + excluded.n;
END $$;

-- Concurrency. Every counter moves by `n = n + x` in one statement, so no update is lost.
-- But a turn updates many shared counter rows, all keyed by the person's cohort day, in
-- an order set by its statements: two turns of the same cohort day could each hold a row
-- the other wants (a deadlock: a second's wait, then one is aborted). Each turn takes its
-- cohort day's lock first (/forget: every day it touches, in order), so that turns of one
-- cohort day take their turns while other days go on. A transaction that saves several
-- turns should save them in cohort day order. Key space: "VIFD", day as yyyymmdd.
CREATE FUNCTION funnel_lock(p_day text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(1447642692, replace(p_day, '-', '')::integer)
$$;

-- funnel_place: n more (or fewer) people stand there; a row that falls to zero goes.
CREATE FUNCTION funnel_place(p_day text, p_last_day text, p_node text, p_n bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO funnel_spots AS t (day, last_day, node, n) VALUES (p_day, p_last_day, p_node, p_n)
    ON CONFLICT (day, last_day, node) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM funnel_spots
    WHERE day = p_day AND last_day = p_last_day AND node = p_node AND n = 0;
END $$;

-- == Advocates' counters (0003) ==============================================================
-- A friend credited: the chain above counts them (and their finish, if they arrive
-- finished and share it); depth is the friend's generation under each advocate.
CREATE FUNCTION referral_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_finished bigint;
BEGIN
    INSERT INTO advocates (user_id, since_ms)
    SELECT p.id, NEW.joined_ms FROM json_ids(NEW.path) p
    WHERE p.id IN (SELECT user_id FROM users) ORDER BY p.pos
    ON CONFLICT DO NOTHING;
    SELECT (u.finished <> 0 AND u.shares <> 0)::int INTO v_finished
    FROM users u WHERE u.user_id = NEW.friend_id;
    UPDATE advocates SET friends = friends + 1, finished = finished + v_finished
    WHERE user_id = NEW.advocate_id;
    UPDATE invites SET joined = joined + 1 WHERE payload = NEW.payload;
    UPDATE advocates a SET tree = a.tree + 1, tree_finished = a.tree_finished + v_finished,
        depth = greatest(a.depth, (SELECT min(p.pos) FROM json_ids(NEW.path) p
                                   WHERE p.id = a.user_id))
    WHERE a.user_id IN (SELECT id FROM json_ids(NEW.path));
    RETURN NULL;
END $$;

-- Finishing the journey counts for every advocate up the chain, if the friend shares.
CREATE FUNCTION journey_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE advocates SET finished = finished + 1
    WHERE user_id = (SELECT advocate_id FROM referrals WHERE friend_id = NEW.user_id);
    UPDATE advocates SET tree_finished = tree_finished + 1
    WHERE user_id IN (SELECT id FROM json_ids(
        (SELECT path FROM referrals WHERE friend_id = NEW.user_id)));
    RETURN NULL;
END $$;

-- Switching sharing off (or on again) after finishing takes the finish out of (or back
-- into) the counts.
CREATE FUNCTION sharing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_step bigint := CASE WHEN NEW.shares <> 0 THEN 1 ELSE -1 END;
BEGIN
    UPDATE advocates SET finished = finished + v_step
    WHERE user_id = (SELECT advocate_id FROM referrals WHERE friend_id = NEW.user_id);
    UPDATE advocates SET tree_finished = tree_finished + v_step
    WHERE user_id IN (SELECT id FROM json_ids(
        (SELECT path FROM referrals WHERE friend_id = NEW.user_id)));
    RETURN NULL;
END $$;

-- /forget touches the person's cohort day, and their friends' (funnel_forget moves the
-- friends' rows to "an advocate who left"): each day's lock, in day order.
CREATE FUNCTION funnel_lock_forgotten(p_old users) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_day text;
BEGIN
    FOR v_day IN SELECT iso_day(p_old.created_at)
                 UNION SELECT day FROM funnel_advocates WHERE advocate = p_old.user_id
                 ORDER BY 1 LOOP
        PERFORM funnel_lock(v_day);
    END LOOP;
END $$;

-- /forget: the counters forget the person (before the cascade removes their rows), and
-- their id leaves the chains of the people they brought in. The chain is rewritten
-- compact, as SQLite's json_group_array writes it. Rare, so a scan is fine.
CREATE FUNCTION forget_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_advocate bigint; v_payload text; v_path text;
    v_finished bigint := (OLD.shares <> 0 AND OLD.finished <> 0)::int;
BEGIN
    PERFORM funnel_lock_forgotten(OLD);
    SELECT advocate_id, payload, path INTO v_advocate, v_payload, v_path
    FROM referrals WHERE friend_id = OLD.user_id;
    UPDATE invites SET joined = joined - 1 WHERE payload = v_payload;
    UPDATE advocates SET
        friends = friends - (user_id IS NOT DISTINCT FROM v_advocate)::int,
        finished = finished - ((user_id IS NOT DISTINCT FROM v_advocate) AND v_finished <> 0)::int,
        tree = tree - 1,
        tree_finished = tree_finished - v_finished
    WHERE user_id IN (SELECT id FROM json_ids(v_path));
    UPDATE referrals SET path = (
        SELECT '[' || coalesce(string_agg(e.v, ',' ORDER BY e.pos), '') || ']'
        FROM json_array_elements_text(referrals.path::json) WITH ORDINALITY AS e(v, pos)
        WHERE e.v::bigint <> OLD.user_id)
    WHERE path::jsonb @> to_jsonb(OLD.user_id);
    RETURN OLD;
END $$;

-- == Funnel counters (0006) ==================================================================
-- Someone new: started (with their language, kept as the cohort's).
CREATE FUNCTION funnel_started() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET funnel_lang = NEW.lang WHERE user_id = NEW.user_id;
    PERFORM funnel_add(NEW.user_id, 'started', 1);
    IF NEW.reminders = 0 THEN
        PERFORM funnel_add(NEW.user_id, 'off', 1);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION funnel_milestone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM funnel_add(NEW.user_id, 'm:' || NEW.milestone, 1);
    RETURN NULL;
END $$;

-- A stage completed, its time from the start, and from the stage before it (or to the
-- stage after it, completed in the same turn: the turn inserts stages one statement at a
-- time, in name order, so that each of these sees only the stages before it, as in SQLite).
CREATE FUNCTION funnel_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM funnel_add(NEW.user_id, 's:' || NEW.stage, 1);
    PERFORM funnel_add(d.user_id, d.metric, 1) FROM funnel_durations d
    WHERE d.user_id = NEW.user_id AND (d.stage = NEW.stage OR d.other = NEW.stage);
    RETURN NULL;
END $$;

CREATE FUNCTION funnel_reminders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM funnel_add(NEW.user_id, 'off', CASE WHEN NEW.reminders = 0 THEN 1 ELSE -1 END);
    RETURN NULL;
END $$;

CREATE FUNCTION funnel_nudge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM funnel_add(NEW.user_id, 'nudges', 1);
    RETURN NULL;
END $$;

-- The person acted again: each reminder sent since their previous action, at most a day
-- before this one, was followed by a return (SQLite's funnel_returns view, inlined).
CREATE FUNCTION funnel_came_back() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_from numeric := coalesce(iso_ms(OLD.active_at), 0);
    v_to numeric := iso_ms(NEW.active_at);
    v_k bigint;
BEGIN
    SELECT count(*) INTO v_k FROM jsonb_array_elements_text(NEW.nudges_sent::jsonb) s
    WHERE s::numeric > v_from AND s::numeric <= v_to AND s::numeric >= v_to - 86400000;
    IF v_k > 0 THEN
        PERFORM funnel_add(NEW.user_id, 'back', v_k);
        UPDATE users SET funnel_back = funnel_back + v_k WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END $$;

-- Where people stand. The turn writes the users row, then the conversation: a new day of
-- activity moves the person's spot (and w:) before the conversation says where they are
-- now; finishing takes them out.
CREATE FUNCTION funnel_new_day() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_old text := iso_day(coalesce(OLD.active_at, OLD.created_at));
    v_new text := iso_day(NEW.active_at);
    v_day text;
    v_node text;
BEGIN
    IF v_old IS NOT DISTINCT FROM v_new THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(flow || '.' || node, '-') INTO v_node
    FROM conversations WHERE user_id = NEW.user_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_day := iso_day(NEW.created_at);
    PERFORM funnel_place(v_day, v_old, v_node, -1);
    PERFORM funnel_place(v_day, v_new, v_node, 1);
    PERFORM funnel_add(NEW.user_id, 'w:' || v_old, -1);
    PERFORM funnel_add(NEW.user_id, 'w:' || v_new, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION funnel_finished() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text := iso_day(NEW.created_at);
    v_last text;
    v_node text;
    v_n bigint := CASE WHEN NEW.finished <> 0 THEN -1 ELSE 1 END;
BEGIN
    SELECT coalesce(flow || '.' || node, '-') INTO v_node
    FROM conversations WHERE user_id = NEW.user_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_last := CASE WHEN NEW.finished <> 0 THEN iso_day(coalesce(OLD.active_at, OLD.created_at))
                   ELSE iso_day(coalesce(NEW.active_at, NEW.created_at)) END;
    PERFORM funnel_place(v_day, v_last, v_node, v_n);
    INSERT INTO funnel_nodes AS t (day, node, n) VALUES (v_day, v_node, v_n)
    ON CONFLICT (day, node) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM funnel_nodes WHERE day = v_day AND n = 0;
    PERFORM funnel_add(NEW.user_id, 'w:' || v_last, v_n);
    RETURN NULL;
END $$;

-- The first conversation row: the person is now counted by the day of their last own
-- action (funnel_moved counts where they stand).
CREATE FUNCTION funnel_first_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM conversations WHERE user_id = NEW.user_id)
       AND (SELECT finished FROM users WHERE user_id = NEW.user_id) = 0 THEN
        PERFORM funnel_add(NEW.user_id, 'w:' || iso_day(coalesce(active_at, created_at)), 1)
        FROM users WHERE user_id = NEW.user_id;
    END IF;
    RETURN NEW;
END $$;

-- Every turn rewrites the conversation: when the node changed, the person moves from the
-- old node to the new one (from nowhere, the first time). Rows left at zero stay. The two
-- rows go in node order, so that two people crossing between the same nodes lock them in
-- the same order (no deadlock).
CREATE FUNCTION funnel_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_new text := coalesce(NEW.flow || '.' || NEW.node, '-');
    v_old text;
    v_finished bigint; v_day text; v_last text;
BEGIN
    SELECT coalesce(flow || '.' || node, '-') INTO v_old
    FROM conversations WHERE user_id = NEW.user_id;
    IF v_new IS NOT DISTINCT FROM v_old THEN
        RETURN NEW;
    END IF;
    SELECT finished, iso_day(created_at), iso_day(coalesce(active_at, created_at))
    INTO v_finished, v_day, v_last FROM users WHERE user_id = NEW.user_id;
    IF v_finished IS DISTINCT FROM 0 THEN
        RETURN NEW;
    END IF;
    INSERT INTO funnel_spots AS t (day, last_day, node, n)
    SELECT v_day, v_last, m.node, m.n FROM (VALUES (v_old, -1), (v_new, 1)) m(node, n)
    WHERE m.node IS NOT NULL ORDER BY m.node
    ON CONFLICT (day, last_day, node) DO UPDATE SET n = t.n + excluded.n;
    INSERT INTO funnel_nodes AS t (day, node, n)
    SELECT v_day, m.node, m.n FROM (VALUES (v_old, -1), (v_new, 1)) m(node, n)
    WHERE m.node IS NOT NULL ORDER BY m.node
    ON CONFLICT (day, node) DO UPDATE SET n = t.n + excluded.n;
    RETURN NEW;
END $$;

-- Credited to an advocate (at the start or later): the person's counts move from
-- "nobody invited" to that advocate.
CREATE FUNCTION funnel_referral() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO funnel_advocates AS t (day, advocate, metric, n)
    SELECT k.day, a.advocate, p.metric, a.sign * sum(p.n)
    FROM funnel_person p, funnel_keys k,
         (VALUES (0::bigint, -1), (coalesce(NEW.advocate_id, -1), 1)) a(advocate, sign)
    WHERE p.user_id = NEW.friend_id AND k.user_id = NEW.friend_id
    GROUP BY k.day, a.advocate, a.sign, p.metric ORDER BY 2, 3
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM funnel_advocates WHERE n = 0 AND advocate = 0
        AND day = (SELECT iso_day(created_at) FROM users WHERE user_id = NEW.friend_id);
    RETURN NULL;
END $$;

-- /forget: the person leaves every figure (their rows are still there, before the
-- cascade) and one anonymous erasure is counted for their cohort day and language; the
-- people they invited are counted under "an advocate who left" from now on.
CREATE FUNCTION funnel_forget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text := iso_day(OLD.created_at);
BEGIN
    PERFORM funnel_lock_forgotten(OLD);  -- already held: forget_counts fires first
    INSERT INTO funnel_counts AS t (day, lang, metric, n)
    SELECT k.day, l.lang, p.metric, -sum(p.n)
    FROM funnel_person p, funnel_keys k, (SELECT k2.lang FROM funnel_keys k2
                                          WHERE k2.user_id = OLD.user_id
                                          UNION ALL SELECT '') l
    WHERE p.user_id = OLD.user_id AND k.user_id = OLD.user_id
    GROUP BY k.day, l.lang, p.metric ORDER BY 3, 2 DESC
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = t.n + excluded.n;
    INSERT INTO funnel_advocates AS t (day, advocate, metric, n)
    SELECT k.day, k.advocate, p.metric, -sum(p.n)
    FROM funnel_person p, funnel_keys k WHERE p.user_id = OLD.user_id AND k.user_id = OLD.user_id
    GROUP BY k.day, k.advocate, p.metric ORDER BY 3
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = t.n + excluded.n;
    -- two statements: a person whose language is '' is erased twice from the '' row, as
    -- SQLite's two-row upsert does
    INSERT INTO funnel_counts AS t (day, lang, metric, n)
    VALUES (v_day, coalesce(OLD.funnel_lang, OLD.lang), 'erased', 1)
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = t.n + 1;
    INSERT INTO funnel_counts AS t (day, lang, metric, n) VALUES (v_day, '', 'erased', 1)
    ON CONFLICT (day, lang, metric) DO UPDATE SET n = t.n + 1;
    PERFORM funnel_place(s.day, s.last_day, s.node, -1)
    FROM funnel_standing s WHERE s.user_id = OLD.user_id;
    INSERT INTO funnel_nodes AS t (day, node, n)
    SELECT s.day, s.node, -1 FROM funnel_standing s WHERE s.user_id = OLD.user_id
    ON CONFLICT (day, node) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM funnel_nodes WHERE day = v_day AND n = 0;
    DELETE FROM funnel_counts WHERE day = v_day AND n = 0;
    DELETE FROM funnel_advocates WHERE day = v_day AND n = 0;
    INSERT INTO funnel_advocates AS t (day, advocate, metric, n)
    SELECT f.day, -1, f.metric, f.n FROM funnel_advocates f WHERE f.advocate = OLD.user_id
    ORDER BY f.day, f.metric
    ON CONFLICT (day, advocate, metric) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM funnel_advocates WHERE advocate = OLD.user_id;
    RETURN OLD;
END $$;

-- == Exposures (0007) and broadcasts (0008) ==================================================
-- The first exposure wins; an event whose data is not JSON, or lacks a key, is skipped
-- rather than refused (the turn must never fail on it). (A JSON text that jsonb refuses,
-- a \u0000 escape, is skipped here where SQLite would keep it.)
CREATE FUNCTION exposure_first() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_data jsonb;
BEGIN
    BEGIN
        v_data := NEW.data::jsonb;
    EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
        RETURN NULL;
    END;
    INSERT INTO exposures (experiment, user_id, arm, outcome, at_ms)
    SELECT e.experiment, NEW.user_id, e.arm, e.outcome, iso_ms(NEW.at)
    FROM (SELECT v_data ->> 'experiment' AS experiment, v_data ->> 'arm' AS arm,
                 v_data ->> 'outcome' AS outcome) e
    WHERE e.experiment IS NOT NULL AND e.arm IS NOT NULL AND e.outcome IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- A broadcast row leaving the outbox without being dropped was accepted by Telegram: its
-- recipient is sent.
CREATE FUNCTION broadcast_delivered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE broadcast_recipients SET state = 'sent'
    WHERE broadcast_id = (OLD.body::jsonb ->> 'broadcast')::bigint AND user_id = OLD.chat_id
      AND state = 'queued';
    RETURN NULL;
END $$;

-- SQLite fires the triggers of one event newest first, PostgreSQL by name: the triggers
-- sharing an event here touch disjoint rows, so their order changes nothing.
CREATE TRIGGER funnel_started AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION funnel_started();
CREATE TRIGGER journey_finished AFTER UPDATE OF finished ON users
    FOR EACH ROW WHEN (NEW.finished <> 0 AND OLD.finished = 0 AND NEW.shares <> 0)
    EXECUTE FUNCTION journey_finished();
CREATE TRIGGER sharing_changed AFTER UPDATE OF shares ON users
    FOR EACH ROW WHEN (OLD.shares <> NEW.shares AND NEW.finished <> 0 AND OLD.finished <> 0)
    EXECUTE FUNCTION sharing_changed();
CREATE TRIGGER funnel_reminders AFTER UPDATE OF reminders ON users
    FOR EACH ROW WHEN ((OLD.reminders = 0) <> (NEW.reminders = 0))
    EXECUTE FUNCTION funnel_reminders();
CREATE TRIGGER funnel_came_back AFTER UPDATE OF active_at ON users
    FOR EACH ROW WHEN (OLD.active_at IS DISTINCT FROM NEW.active_at
                       AND NEW.active_at IS NOT NULL AND NEW.nudges_sent <> '[]')
    EXECUTE FUNCTION funnel_came_back();
CREATE TRIGGER funnel_new_day AFTER UPDATE OF active_at ON users
    FOR EACH ROW WHEN (NEW.active_at IS NOT NULL AND OLD.finished = 0 AND NEW.finished = 0)
    EXECUTE FUNCTION funnel_new_day();
CREATE TRIGGER funnel_finished AFTER UPDATE OF finished ON users
    FOR EACH ROW WHEN ((OLD.finished = 0) <> (NEW.finished = 0))
    EXECUTE FUNCTION funnel_finished();
CREATE TRIGGER forget_counts BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION forget_counts();
CREATE TRIGGER funnel_forget BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION funnel_forget();
CREATE TRIGGER funnel_first_place BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION funnel_first_place();
CREATE TRIGGER funnel_moved BEFORE INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION funnel_moved();
CREATE TRIGGER funnel_milestone AFTER INSERT ON milestones
    FOR EACH ROW EXECUTE FUNCTION funnel_milestone();
CREATE TRIGGER funnel_stage AFTER INSERT ON stages_completed
    FOR EACH ROW EXECUTE FUNCTION funnel_stage();
CREATE TRIGGER funnel_nudge AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.name = 'nudge_sent') EXECUTE FUNCTION funnel_nudge();
CREATE TRIGGER exposure_first AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.name = 'exposure') EXECUTE FUNCTION exposure_first();
CREATE TRIGGER referral_counts AFTER INSERT ON referrals
    FOR EACH ROW EXECUTE FUNCTION referral_counts();
CREATE TRIGGER funnel_referral AFTER INSERT ON referrals
    FOR EACH ROW EXECUTE FUNCTION funnel_referral();
CREATE TRIGGER broadcast_delivered AFTER DELETE ON outbox
    FOR EACH ROW WHEN (OLD.kind = 'broadcast') EXECUTE FUNCTION broadcast_delivered();

-- == The turn statement ======================================================================
-- One processed event is saved by ONE statement, an INSERT into this write-only view,
-- whose trigger writes every table (bot/store/rows.py names the columns). Typed, so that
-- bound parameters need no casts: ids, flags and ms are bigint, the rest text (JSON as
-- text). JSON arrays: milestones [[milestone, stage]], stages [stage], events [[name,
-- {data}]], nudge_ops [[key, due_ms or null]], unknown [[node, lang, text, text_key]],
-- notify [[advocate_id, kind, stage, due_ms]], invite_ops [["create", payload, code,
-- name, name_key] | ["revoke", payload]], alerts_ack [id], replies [[chat_id, kind,
-- {body}]]; referral {"advocate", "payload", "path"} or NULL; nudge_done [key, due_ms]
-- or NULL.
CREATE VIEW turns AS SELECT
    NULL::bigint AS user_id, NULL::text AS first_name, NULL::text AS lang,
    NULL::bigint AS reminders, NULL::bigint AS blocked, NULL::text AS created_at,
    NULL::text AS updated_at, NULL::text AS flow, NULL::text AS node,
    NULL::text AS node_version, NULL::text AS vars, NULL::text AS pending,
    NULL::text AS dialog_version, NULL::text AS milestones, NULL::text AS stages,
    NULL::text AS events, NULL::bigint AS update_id, NULL::text AS timezone,
    NULL::text AS nudges_sent, NULL::bigint AS ignored_in_a_row, NULL::bigint AS nudge_step,
    NULL::bigint AS next_nudge_ms, NULL::text AS nudge_ops, NULL::text AS active_at,
    NULL::bigint AS shares, NULL::bigint AS public, NULL::bigint AS alerts,
    NULL::bigint AS invite_tries, NULL::bigint AS watch_ms, NULL::text AS alerts_sent,
    NULL::bigint AS digest_ms, NULL::bigint AS finished, NULL::text AS unknown,
    NULL::bigint AS now_ms, NULL::text AS referral, NULL::text AS notify,
    NULL::text AS invite_ops, NULL::text AS alerts_ack, NULL::text AS replies,
    NULL::text AS nudge_done
WHERE false;

-- The same statements as SQLite's save_turn (0004), in the same order, after the cohort
-- day's lock (funnel_lock). SQLite's INSERT OR IGNORE also skips a row with a NULL in a
-- NOT NULL column: the WHERE clauses below say so. An empty list ('[]') is not parsed.
CREATE FUNCTION save_turn() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_stage text;
BEGIN
    PERFORM funnel_lock(iso_day(coalesce(
        (SELECT created_at FROM users WHERE user_id = NEW.user_id), NEW.created_at)));
    INSERT INTO users AS u (user_id, first_name, lang, reminders, blocked, created_at,
                            updated_at, timezone, nudges_sent, ignored_in_a_row, active_at,
                            shares, public, alerts, invite_tries, watch_ms, alerts_sent,
                            digest_ms, finished)
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
    -- SQLite: INSERT OR REPLACE, which puts a column's default for a NULL in a NOT NULL
    -- column (the coalesce calls); the BEFORE INSERT triggers see the old row either way
    INSERT INTO conversations AS c (user_id, flow, node, node_version, vars, pending,
                                    dialog_version, nudge_step, next_nudge_ms)
    VALUES (NEW.user_id, NEW.flow, NEW.node, coalesce(NEW.node_version, ''),
            coalesce(NEW.vars, '{}'), NEW.pending, coalesce(NEW.dialog_version, ''),
            coalesce(NEW.nudge_step, 0), NEW.next_nudge_ms)
    ON CONFLICT (user_id) DO UPDATE SET
        flow = excluded.flow, node = excluded.node, node_version = excluded.node_version,
        vars = excluded.vars, pending = excluded.pending,
        dialog_version = excluded.dialog_version, nudge_step = excluded.nudge_step,
        next_nudge_ms = excluded.next_nudge_ms;
    -- a friend credited in the turn they finish counts at once: referral_counts reads
    -- users.finished, written just above
    IF NEW.referral IS NOT NULL THEN
        INSERT INTO referrals (friend_id, advocate_id, payload, path, joined_ms)
        SELECT NEW.user_id, r.advocate, r.payload, r.path, NEW.now_ms
        FROM (SELECT (j ->> 'advocate')::bigint AS advocate, j ->> 'payload' AS payload,
                     json_text(j -> 'path') AS path
              FROM (SELECT NEW.referral::json AS j) x) r
        WHERE r.advocate IN (SELECT user_id FROM users)
          AND r.payload IS NOT NULL AND r.path IS NOT NULL AND NEW.now_ms IS NOT NULL
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.milestones <> '[]' THEN
        INSERT INTO milestones (user_id, milestone, stage, reached_at)
        SELECT NEW.user_id, m ->> 0, m ->> 1, NEW.updated_at
        FROM json_array_elements(NEW.milestones::json) WITH ORDINALITY AS e(m, pos)
        WHERE m ->> 0 IS NOT NULL ORDER BY pos
        ON CONFLICT DO NOTHING;
    END IF;
    -- one statement per stage: SQLite fires funnel_stage after each row, before the next
    -- (a statement here fires its row triggers at its end)
    IF NEW.stages <> '[]' THEN
        FOR v_stage IN
            SELECT s FROM json_array_elements_text(NEW.stages::json) WITH ORDINALITY AS e(s, pos)
            WHERE s IS NOT NULL ORDER BY pos
        LOOP
            INSERT INTO stages_completed (user_id, stage, completed_at)
            VALUES (NEW.user_id, v_stage, NEW.updated_at) ON CONFLICT DO NOTHING;
        END LOOP;
    END IF;
    IF NEW.events <> '[]' THEN
        INSERT INTO events (user_id, at, name, data)
        SELECT NEW.user_id, NEW.updated_at, json_text(v -> 0), json_text(v -> 1)
        FROM json_array_elements(NEW.events::json) WITH ORDINALITY AS e(v, pos) ORDER BY pos;
    END IF;
    -- the update this turn answered is done: its text goes, its id stays (redeliveries)
    IF NEW.update_id IS NOT NULL THEN
        UPDATE inbox SET body = NULL, done_ms = NEW.now_ms WHERE update_id = NEW.update_id;
    END IF;
    -- the claimed nudge this turn handled (not a row rescheduled meanwhile), before the
    -- turn's own schedule below
    IF NEW.nudge_done IS NOT NULL THEN
        DELETE FROM nudges WHERE user_id = NEW.user_id
            AND key = NEW.nudge_done::json ->> 0
            AND due_ms = (NEW.nudge_done::json ->> 1)::bigint AND lease_ms > 0;
    END IF;
    IF NEW.nudge_ops <> '[]' THEN
        DELETE FROM nudges WHERE user_id = NEW.user_id
            AND key IN (SELECT o ->> 0 FROM json_array_elements(NEW.nudge_ops::json) o);
        INSERT INTO nudges (user_id, key, due_ms)
        SELECT NEW.user_id, o ->> 0, (o ->> 1)::bigint
        FROM json_array_elements(NEW.nudge_ops::json) WITH ORDINALITY AS e(o, pos)
        WHERE o ->> 1 IS NOT NULL ORDER BY pos;
    END IF;
    IF NEW.invite_ops <> '[]' THEN
        INSERT INTO invites (payload, code, advocate_id, name, name_key, created_ms)
        SELECT i ->> 1, i ->> 2, NEW.user_id, i ->> 3, i ->> 4, NEW.now_ms
        FROM json_array_elements(NEW.invite_ops::json) WITH ORDINALITY AS e(i, pos)
        WHERE i ->> 0 = 'create' ORDER BY pos;
        UPDATE invites SET revoked_ms = NEW.now_ms
        WHERE advocate_id = NEW.user_id AND revoked_ms IS NULL AND payload IN (
            SELECT i ->> 1 FROM json_array_elements(NEW.invite_ops::json) i
            WHERE i ->> 0 = 'revoke');
    END IF;
    IF NEW.unknown <> '[]' THEN
        INSERT INTO unknown_texts (user_id, node, lang, text, text_key, at_ms)
        SELECT NEW.user_id, k ->> 0, k ->> 1, k ->> 2, k ->> 3, NEW.now_ms
        FROM json_array_elements(NEW.unknown::json) WITH ORDINALITY AS e(k, pos) ORDER BY pos;
    END IF;
    IF NEW.alerts_ack <> '[]' THEN
        DELETE FROM alerts WHERE advocate_id = NEW.user_id
            AND id IN (SELECT a.id FROM json_ids(NEW.alerts_ack) a);
    END IF;
    IF NEW.notify <> '[]' THEN
        INSERT INTO alerts (advocate_id, friend_id, kind, stage, at_ms)
        SELECT (a ->> 0)::bigint, NEW.user_id, a ->> 1, a ->> 2, NEW.now_ms
        FROM json_array_elements(NEW.notify::json) WITH ORDINALITY AS e(a, pos)
        WHERE (a ->> 0)::bigint IN (SELECT user_id FROM users) ORDER BY pos;
        -- The advocate's alert delivery: a row in the same outbox as nudges. A pending row
        -- keeps its time (it may be held for the daily digest); a row in flight is made
        -- pending again, so that the alert just added is not lost when it completes.
        INSERT INTO nudges AS n (user_id, key, due_ms)
        SELECT (a ->> 0)::bigint, 'alerts', min((a ->> 3)::bigint)
        FROM json_array_elements(NEW.notify::json) a
        WHERE (a ->> 0)::bigint IN (SELECT user_id FROM users)
        GROUP BY (a ->> 0)::bigint ORDER BY 1
        ON CONFLICT (user_id, key) DO UPDATE SET
            due_ms = CASE WHEN n.lease_ms = 0 THEN n.due_ms ELSE excluded.due_ms END,
            lease_ms = 0;
    END IF;
    IF NEW.replies <> '[]' THEN
        INSERT INTO outbox (chat_id, kind, body, created_ms)
        SELECT (v ->> 0)::bigint, v ->> 1, json_text(v -> 2), NEW.now_ms
        FROM json_array_elements(NEW.replies::json) WITH ORDINALITY AS e(v, pos) ORDER BY pos;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER save_turn INSTEAD OF INSERT ON turns
    FOR EACH ROW EXECUTE FUNCTION save_turn();
