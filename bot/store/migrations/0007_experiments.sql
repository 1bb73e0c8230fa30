-- A/B experiments: each person's arm of each experiment, and when they first saw it.
-- The turn records an `exposure` event each time a text with variants is shown; the
-- first one is the person's arm (assignment is sticky, so later ones agree), and the
-- moment a conversion must come after. Kept by a trigger on the event log, so that the
-- turn statement (the `turns` view and `save_turn`) stays as it is, and the report reads
-- one row per person instead of scanning every exposure event.
CREATE TABLE exposures (
    experiment TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,  -- /forget
    arm        TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,  -- what counts as converting: milestone:<name> | stage:<V|I|E>
    at_ms      INTEGER NOT NULL,  -- the first exposure, ms since the epoch
    PRIMARY KEY (experiment, user_id)
) WITHOUT ROWID;
-- The report counts people and conversions by arm and outcome, from this index alone (it
-- holds user_id too, the table's key); the conversions are then looked up by person in
-- milestones and stages_completed, through their primary keys.
CREATE INDEX exposures_by_arm ON exposures(experiment, arm, outcome, at_ms);
-- Erasing a person finds their rows (the cascade), and `stats --by variant` joins by person.
CREATE INDEX exposures_by_user ON exposures(user_id);

-- INSERT OR IGNORE: the first exposure wins; an event without its keys (not written by
-- this version) is skipped rather than refused (the turn must never fail on it). `at` is
-- ISO-8601 text; julianday reads its offset and fraction, rounded to the millisecond
-- like the store's to_ms.
CREATE TRIGGER exposure_first AFTER INSERT ON events
WHEN NEW.name = 'exposure'
BEGIN
    INSERT OR IGNORE INTO exposures (experiment, user_id, arm, outcome, at_ms)
    SELECT json_extract(NEW.data, '$.experiment'), NEW.user_id,
           json_extract(NEW.data, '$.arm'), json_extract(NEW.data, '$.outcome'),
           CAST(round((julianday(NEW.at) - 2440587.5) * 86400000) AS INTEGER)
    WHERE json_valid(NEW.data);
END;

-- Exposures already in the log (none before this version, but a copy of a test database
-- may hold some): the earliest of each person's, by event id (the log's order).
INSERT OR IGNORE INTO exposures (experiment, user_id, arm, outcome, at_ms)
SELECT json_extract(data, '$.experiment'), user_id, json_extract(data, '$.arm'),
       json_extract(data, '$.outcome'),
       CAST(round((julianday(at) - 2440587.5) * 86400000) AS INTEGER)
FROM events WHERE name = 'exposure' AND json_valid(data)
ORDER BY id;
