-- Each broadcast's recipients by state, kept by a trigger: as SQLite's migration 0012.
CREATE TABLE broadcast_counts (
    broadcast_id bigint NOT NULL REFERENCES broadcasts ON DELETE CASCADE,
    state        text   NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (broadcast_id, state)
);

CREATE FUNCTION broadcast_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE broadcast_counts SET n = n - 1
        WHERE broadcast_id = OLD.broadcast_id AND state = OLD.state;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO broadcast_counts (broadcast_id, state, n)
        VALUES (NEW.broadcast_id, NEW.state, 1)
        ON CONFLICT (broadcast_id, state) DO UPDATE SET n = broadcast_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER broadcast_count_in AFTER INSERT ON broadcast_recipients
    FOR EACH ROW EXECUTE FUNCTION broadcast_count();
CREATE TRIGGER broadcast_count_moved AFTER UPDATE OF state ON broadcast_recipients
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION broadcast_count();
CREATE TRIGGER broadcast_count_out AFTER DELETE ON broadcast_recipients
    FOR EACH ROW EXECUTE FUNCTION broadcast_count();

INSERT INTO broadcast_counts (broadcast_id, state, n)
SELECT broadcast_id, state, count(*) FROM broadcast_recipients GROUP BY broadcast_id, state;
