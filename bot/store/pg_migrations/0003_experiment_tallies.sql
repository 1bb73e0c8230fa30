-- A/B experiments' tallies (SQLite migration 0010_experiment_tallies.sql says what they
-- are): the same table, view, index and triggers, giving the same rows. Every row a
-- trigger moves is keyed by the person's cohort day: the turn holds that day's lock
-- (funnel_lock) already; a write outside a turn takes it here (/forget: every day it
-- touches, in day order, as forget_counts does). The file holds no question mark and no
-- percent sign, so that a driver may run it as is.
CREATE TABLE experiment_tallies (
    day        text   NOT NULL,
    experiment text   NOT NULL,
    arm        text   NOT NULL,
    outcome    text   NOT NULL,
    exposed    bigint NOT NULL,
    converted  bigint NOT NULL,
    already    bigint NOT NULL,
    first_ms   bigint NOT NULL,
    last_ms    bigint NOT NULL,
    PRIMARY KEY (day, experiment, arm, outcome)
);
CREATE INDEX experiment_tallies_by_experiment ON experiment_tallies(experiment);

-- Each first exposure with the moment its outcome was reached (NULL: not yet), in ms as
-- exposures.at_ms is (iso_ms reads the text as SQLite's julianday does).
CREATE VIEW experiment_reached (experiment, user_id, arm, outcome, at_ms, reached_ms) AS
SELECT e.experiment, e.user_id, e.arm, e.outcome, e.at_ms,
       iso_ms(CASE
           WHEN substr(e.outcome, 1, 10) = 'milestone:' THEN (
               SELECT m.reached_at FROM milestones m
               WHERE m.user_id = e.user_id AND m.milestone = substr(e.outcome, 11))
           WHEN substr(e.outcome, 1, 6) = 'stage:' THEN (
               SELECT s.completed_at FROM stages_completed s
               WHERE s.user_id = e.user_id AND s.stage = substr(e.outcome, 7))
       END)
FROM exposures e;

-- History.
INSERT INTO experiment_tallies
    (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
SELECT iso_day(u.created_at), x.experiment, x.arm, x.outcome, count(*),
       coalesce(sum((x.reached_ms > x.at_ms)::int), 0),
       coalesce(sum((x.reached_ms <= x.at_ms)::int), 0), min(x.at_ms), max(x.at_ms)
FROM experiment_reached x JOIN users u ON u.user_id = x.user_id
GROUP BY 1, 2, 3, 4;

-- A first exposure (the turn inserts milestones and stages before its events).
CREATE FUNCTION experiment_exposed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text;
BEGIN
    SELECT iso_day(created_at) INTO v_day FROM users WHERE user_id = NEW.user_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM funnel_lock(v_day);
    INSERT INTO experiment_tallies AS t
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT v_day, x.experiment, x.arm, x.outcome, 1,
           coalesce((x.reached_ms > x.at_ms)::int, 0), coalesce((x.reached_ms <= x.at_ms)::int, 0),
           x.at_ms, x.at_ms
    FROM experiment_reached x WHERE x.experiment = NEW.experiment AND x.user_id = NEW.user_id
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        exposed = t.exposed + 1, converted = t.converted + excluded.converted,
        already = t.already + excluded.already, first_ms = least(t.first_ms, excluded.first_ms),
        last_ms = greatest(t.last_ms, excluded.last_ms);
    RETURN NULL;
END $$;

-- An outcome reached (p_sign 1) or its row deleted while the person stays (p_sign -1):
-- each of the person's experiments with that outcome moves by what it changes.
CREATE FUNCTION experiment_outcome(p_user bigint, p_outcome text, p_at text, p_sign int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_day text;
    v_ms bigint := iso_ms(p_at);
BEGIN
    SELECT iso_day(created_at) INTO v_day FROM users WHERE user_id = p_user;
    IF NOT FOUND THEN
        RETURN;  -- the cascade of a /forget: experiment_forget counted the person out
    END IF;
    PERFORM funnel_lock(v_day);
    INSERT INTO experiment_tallies AS t
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT v_day, e.experiment, e.arm, e.outcome, 0,
           p_sign * coalesce((v_ms > e.at_ms)::int, 0), p_sign * coalesce((v_ms <= e.at_ms)::int, 0),
           e.at_ms, e.at_ms
    FROM exposures e WHERE e.user_id = p_user AND e.outcome = p_outcome
    ORDER BY e.experiment
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        converted = t.converted + excluded.converted, already = t.already + excluded.already;
END $$;

CREATE FUNCTION experiment_milestone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM experiment_outcome(NEW.user_id, 'milestone:' || NEW.milestone, NEW.reached_at, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION experiment_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM experiment_outcome(NEW.user_id, 'stage:' || NEW.stage, NEW.completed_at, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION experiment_milestone_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM experiment_outcome(OLD.user_id, 'milestone:' || OLD.milestone, OLD.reached_at, -1);
    RETURN NULL;
END $$;

CREATE FUNCTION experiment_stage_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM experiment_outcome(OLD.user_id, 'stage:' || OLD.stage, OLD.completed_at, -1);
    RETURN NULL;
END $$;

-- An exposure deleted while the person stays: BEFORE, so that experiment_reached still
-- holds it; a row left with no one goes; a bound it held is recomputed from the others of
-- its cohort day (walking the arm's index from its time).
CREATE FUNCTION experiment_unexposed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_day text;
BEGIN
    SELECT iso_day(created_at) INTO v_day FROM users WHERE user_id = OLD.user_id;
    IF NOT FOUND THEN
        RETURN OLD;  -- the cascade of a /forget: experiment_forget counted the person out
    END IF;
    PERFORM funnel_lock(v_day);
    INSERT INTO experiment_tallies AS t
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT v_day, x.experiment, x.arm, x.outcome, -1,
           -coalesce((x.reached_ms > x.at_ms)::int, 0), -coalesce((x.reached_ms <= x.at_ms)::int, 0),
           x.at_ms, x.at_ms
    FROM experiment_reached x WHERE x.experiment = OLD.experiment AND x.user_id = OLD.user_id
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        exposed = t.exposed + excluded.exposed, converted = t.converted + excluded.converted,
        already = t.already + excluded.already;
    DELETE FROM experiment_tallies WHERE exposed = 0 AND day = v_day;
    UPDATE experiment_tallies t SET
        first_ms = CASE WHEN t.first_ms = OLD.at_ms THEN coalesce((
            SELECT e.at_ms FROM exposures e JOIN users u ON u.user_id = e.user_id
            WHERE e.experiment = t.experiment AND e.arm = t.arm AND e.outcome = t.outcome
              AND e.at_ms >= t.first_ms AND e.user_id <> OLD.user_id
              AND iso_day(u.created_at) = t.day
            ORDER BY e.at_ms LIMIT 1), t.first_ms) ELSE t.first_ms END,
        last_ms = CASE WHEN t.last_ms = OLD.at_ms THEN coalesce((
            SELECT e.at_ms FROM exposures e JOIN users u ON u.user_id = e.user_id
            WHERE e.experiment = t.experiment AND e.arm = t.arm AND e.outcome = t.outcome
              AND e.at_ms <= t.last_ms AND e.user_id <> OLD.user_id
              AND iso_day(u.created_at) = t.day
            ORDER BY e.at_ms DESC LIMIT 1), t.last_ms) ELSE t.last_ms END
    WHERE t.day = v_day AND t.experiment = OLD.experiment AND t.arm = OLD.arm
      AND t.outcome = OLD.outcome AND OLD.at_ms IN (t.first_ms, t.last_ms);
    RETURN OLD;
END $$;

-- /forget: the person's exposures go first, while the person is still there (each counted
-- out by experiment_unexposed); the cascade then deletes their milestones and stages,
-- which find no users row. The days' locks first, in forget_counts' order (this trigger
-- fires before it: by name).
CREATE FUNCTION experiment_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM funnel_lock_forgotten(OLD);
    DELETE FROM exposures WHERE user_id = OLD.user_id;
    RETURN OLD;
END $$;

CREATE TRIGGER experiment_exposed AFTER INSERT ON exposures
    FOR EACH ROW EXECUTE FUNCTION experiment_exposed();
CREATE TRIGGER experiment_unexposed BEFORE DELETE ON exposures
    FOR EACH ROW EXECUTE FUNCTION experiment_unexposed();
CREATE TRIGGER experiment_milestone AFTER INSERT ON milestones
    FOR EACH ROW EXECUTE FUNCTION experiment_milestone();
CREATE TRIGGER experiment_milestone_gone AFTER DELETE ON milestones
    FOR EACH ROW EXECUTE FUNCTION experiment_milestone_gone();
CREATE TRIGGER experiment_stage AFTER INSERT ON stages_completed
    FOR EACH ROW EXECUTE FUNCTION experiment_stage();
CREATE TRIGGER experiment_stage_gone AFTER DELETE ON stages_completed
    FOR EACH ROW EXECUTE FUNCTION experiment_stage_gone();
CREATE TRIGGER experiment_forget BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION experiment_forget();
