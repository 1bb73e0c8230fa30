-- A/B experiments' tallies, for the operators' console: per cohort day (the UTC date of
-- users.created_at, as the funnel's counters), experiment, arm and outcome, the people
-- whose first exposure was to that arm (exposed), those of them who reached the outcome
-- strictly after it (converted) or at or before it (already), and the earliest and latest
-- of their first exposures. The figures of bot/store/experiments.py's recount
-- (`experiment_counts`), summed over days; kept by triggers, so that an experiment's page
-- reads a few rows per cohort day whatever the number of people. Keyed by cohort day so
-- that, on PostgreSQL, the turn's cohort-day lock (funnel_lock) covers every row it moves.
--
-- The invariant: the table is always the recount of the rows there now. Each trigger
-- moves it by what its row changes, against the other tables as they stand, so deletes in
-- any order give the same figures. /forget deletes the person's exposures before the
-- cascade (experiment_forget); the cascade's deletes then find nothing to count. A row
-- falling to no one exposed goes. first_ms and last_ms are RECOMPUTED when the exposure
-- leaving held one of them (the min and max of those left, as the recount says): the
-- arm's index walked from that time to the next person of the same cohort day.
-- Nothing updates exposures, milestones, stages_completed or users.created_at in place.
CREATE TABLE experiment_tallies (
    day        TEXT    NOT NULL,
    experiment TEXT    NOT NULL,
    arm        TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    exposed    INTEGER NOT NULL,
    converted  INTEGER NOT NULL,
    already    INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    PRIMARY KEY (day, experiment, arm, outcome)
) WITHOUT ROWID;
-- An experiment's page reads its rows of every day.
CREATE INDEX experiment_tallies_by_experiment ON experiment_tallies(experiment);

-- Each first exposure with the moment its outcome was reached (NULL: not yet), in ms as
-- exposures.at_ms is: the one definition the triggers and the backfill share.
CREATE VIEW experiment_reached (experiment, user_id, arm, outcome, at_ms, reached_ms) AS
SELECT e.experiment, e.user_id, e.arm, e.outcome, e.at_ms,
       CAST(round((julianday(CASE
           WHEN substr(e.outcome, 1, 10) = 'milestone:' THEN (
               SELECT m.reached_at FROM milestones m
               WHERE m.user_id = e.user_id AND m.milestone = substr(e.outcome, 11))
           WHEN substr(e.outcome, 1, 6) = 'stage:' THEN (
               SELECT s.completed_at FROM stages_completed s
               WHERE s.user_id = e.user_id AND s.stage = substr(e.outcome, 7))
       END) - 2440587.5) * 86400000) AS INTEGER)
FROM exposures e;

-- History.
INSERT INTO experiment_tallies
    (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
SELECT date(u.created_at), x.experiment, x.arm, x.outcome, count(*),
       sum(coalesce(x.reached_ms > x.at_ms, 0)), sum(coalesce(x.reached_ms <= x.at_ms, 0)),
       min(x.at_ms), max(x.at_ms)
FROM experiment_reached x JOIN users u ON u.user_id = x.user_id
GROUP BY 1, 2, 3, 4;

-- A first exposure (the turn inserts milestones and stages before its events: an outcome
-- reached in the same turn is at the same moment, so `already`).
CREATE TRIGGER experiment_exposed AFTER INSERT ON exposures
BEGIN
    INSERT INTO experiment_tallies
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT date(u.created_at), x.experiment, x.arm, x.outcome, 1,
           coalesce(x.reached_ms > x.at_ms, 0), coalesce(x.reached_ms <= x.at_ms, 0),
           x.at_ms, x.at_ms
    FROM experiment_reached x JOIN users u ON u.user_id = x.user_id
    WHERE x.experiment = NEW.experiment AND x.user_id = NEW.user_id
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        exposed = exposed + 1, converted = converted + excluded.converted,
        already = already + excluded.already, first_ms = min(first_ms, excluded.first_ms),
        last_ms = max(last_ms, excluded.last_ms);
END;

-- An outcome reached: each of the person's experiments with that outcome.
CREATE TRIGGER experiment_milestone AFTER INSERT ON milestones
BEGIN
    INSERT INTO experiment_tallies
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT date(u.created_at), e.experiment, e.arm, e.outcome, 0,
           coalesce(r.ms > e.at_ms, 0), coalesce(r.ms <= e.at_ms, 0), e.at_ms, e.at_ms
    FROM exposures e JOIN users u ON u.user_id = e.user_id,
         (SELECT CAST(round((julianday(NEW.reached_at) - 2440587.5) * 86400000)
                      AS INTEGER) AS ms) r
    WHERE e.user_id = NEW.user_id AND e.outcome = 'milestone:' || NEW.milestone
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        converted = converted + excluded.converted, already = already + excluded.already;
END;

CREATE TRIGGER experiment_stage AFTER INSERT ON stages_completed
BEGIN
    INSERT INTO experiment_tallies
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT date(u.created_at), e.experiment, e.arm, e.outcome, 0,
           coalesce(r.ms > e.at_ms, 0), coalesce(r.ms <= e.at_ms, 0), e.at_ms, e.at_ms
    FROM exposures e JOIN users u ON u.user_id = e.user_id,
         (SELECT CAST(round((julianday(NEW.completed_at) - 2440587.5) * 86400000)
                      AS INTEGER) AS ms) r
    WHERE e.user_id = NEW.user_id AND e.outcome = 'stage:' || NEW.stage
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        converted = converted + excluded.converted, already = already + excluded.already;
END;

-- An outcome row deleted while the person stays (the cascade of a /forget finds no
-- users row: experiment_forget did it).
CREATE TRIGGER experiment_milestone_gone AFTER DELETE ON milestones
BEGIN
    INSERT INTO experiment_tallies
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT date(u.created_at), e.experiment, e.arm, e.outcome, 0,
           -coalesce(r.ms > e.at_ms, 0), -coalesce(r.ms <= e.at_ms, 0), e.at_ms, e.at_ms
    FROM exposures e JOIN users u ON u.user_id = e.user_id,
         (SELECT CAST(round((julianday(OLD.reached_at) - 2440587.5) * 86400000)
                      AS INTEGER) AS ms) r
    WHERE e.user_id = OLD.user_id AND e.outcome = 'milestone:' || OLD.milestone
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        converted = converted + excluded.converted, already = already + excluded.already;
END;

CREATE TRIGGER experiment_stage_gone AFTER DELETE ON stages_completed
BEGIN
    INSERT INTO experiment_tallies
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT date(u.created_at), e.experiment, e.arm, e.outcome, 0,
           -coalesce(r.ms > e.at_ms, 0), -coalesce(r.ms <= e.at_ms, 0), e.at_ms, e.at_ms
    FROM exposures e JOIN users u ON u.user_id = e.user_id,
         (SELECT CAST(round((julianday(OLD.completed_at) - 2440587.5) * 86400000)
                      AS INTEGER) AS ms) r
    WHERE e.user_id = OLD.user_id AND e.outcome = 'stage:' || OLD.stage
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        converted = converted + excluded.converted, already = already + excluded.already;
END;

-- An exposure deleted while the person stays: BEFORE, so that experiment_reached still
-- holds it (its outcome as it stands now) and the bounds can skip it by person.
CREATE TRIGGER experiment_unexposed BEFORE DELETE ON exposures
BEGIN
    INSERT INTO experiment_tallies
        (day, experiment, arm, outcome, exposed, converted, already, first_ms, last_ms)
    SELECT date(u.created_at), x.experiment, x.arm, x.outcome, -1,
           -coalesce(x.reached_ms > x.at_ms, 0), -coalesce(x.reached_ms <= x.at_ms, 0),
           x.at_ms, x.at_ms
    FROM experiment_reached x JOIN users u ON u.user_id = x.user_id
    WHERE x.experiment = OLD.experiment AND x.user_id = OLD.user_id
    ON CONFLICT (day, experiment, arm, outcome) DO UPDATE SET
        exposed = exposed + excluded.exposed, converted = converted + excluded.converted,
        already = already + excluded.already;
    DELETE FROM experiment_tallies WHERE exposed = 0
        AND day = (SELECT date(created_at) FROM users WHERE user_id = OLD.user_id);
    UPDATE experiment_tallies SET
        first_ms = CASE WHEN first_ms = OLD.at_ms THEN coalesce((
            SELECT e.at_ms FROM exposures e JOIN users u ON u.user_id = e.user_id
            WHERE e.experiment = experiment_tallies.experiment
              AND e.arm = experiment_tallies.arm AND e.outcome = experiment_tallies.outcome
              AND e.at_ms >= experiment_tallies.first_ms AND e.user_id <> OLD.user_id
              AND date(u.created_at) = experiment_tallies.day
            ORDER BY e.at_ms LIMIT 1), first_ms) ELSE first_ms END,
        last_ms = CASE WHEN last_ms = OLD.at_ms THEN coalesce((
            SELECT e.at_ms FROM exposures e JOIN users u ON u.user_id = e.user_id
            WHERE e.experiment = experiment_tallies.experiment
              AND e.arm = experiment_tallies.arm AND e.outcome = experiment_tallies.outcome
              AND e.at_ms <= experiment_tallies.last_ms AND e.user_id <> OLD.user_id
              AND date(u.created_at) = experiment_tallies.day
            ORDER BY e.at_ms DESC LIMIT 1), last_ms) ELSE last_ms END
    WHERE day = (SELECT date(created_at) FROM users WHERE user_id = OLD.user_id)
      AND experiment = OLD.experiment AND arm = OLD.arm AND outcome = OLD.outcome
      AND OLD.at_ms IN (first_ms, last_ms);
END;

-- /forget: the person's exposures go first, while the person is still there (each counted
-- out by experiment_unexposed, with its outcome as it stands); the cascade then deletes
-- their milestones and stages, which find no exposure left.
CREATE TRIGGER experiment_forget BEFORE DELETE ON users
BEGIN
    DELETE FROM exposures WHERE user_id = OLD.user_id;
END;
