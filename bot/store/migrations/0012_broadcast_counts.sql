-- How many recipients of each broadcast stand in each state, kept by triggers, so that a
-- job's progress (/broadcast status, the console's broadcasts page) is a few rows
-- whatever the number of people it reaches, instead of a count over its recipients.
CREATE TABLE broadcast_counts (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts ON DELETE CASCADE,
    state        TEXT    NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, state)
) WITHOUT ROWID;

CREATE TRIGGER broadcast_count_in AFTER INSERT ON broadcast_recipients
BEGIN
    INSERT INTO broadcast_counts (broadcast_id, state, n) VALUES (NEW.broadcast_id, NEW.state, 1)
    ON CONFLICT (broadcast_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER broadcast_count_moved AFTER UPDATE OF state ON broadcast_recipients
WHEN OLD.state != NEW.state
BEGIN
    UPDATE broadcast_counts SET n = n - 1
    WHERE broadcast_id = OLD.broadcast_id AND state = OLD.state;
    INSERT INTO broadcast_counts (broadcast_id, state, n) VALUES (NEW.broadcast_id, NEW.state, 1)
    ON CONFLICT (broadcast_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER broadcast_count_out AFTER DELETE ON broadcast_recipients
BEGIN
    UPDATE broadcast_counts SET n = n - 1
    WHERE broadcast_id = OLD.broadcast_id AND state = OLD.state;
END;

INSERT INTO broadcast_counts (broadcast_id, state, n)
SELECT broadcast_id, state, count(*) FROM broadcast_recipients GROUP BY broadcast_id, state;
