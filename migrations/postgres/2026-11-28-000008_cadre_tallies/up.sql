-- How many cadres of each status hold each value of each dimension the statistics count, kept in
-- step with cadres by triggers in the writing transaction. The statistics of a whole status
-- (the register without other filters) read these few thousand rows instead of grouping every
-- cadre: at a million cadres the grouped pass takes seconds on PostgreSQL.
-- Values are text: '' stands for no education or no unit; birth dates are YYYY-MM-DD.
CREATE TABLE cadre_tallies (
    status TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    cadre_count BIGINT NOT NULL,
    PRIMARY KEY (status, dimension, value)
);

-- The (dimension, value) pairs one cadre counts under.
CREATE FUNCTION cadre_dimensions(c cadres) RETURNS TABLE (dimension TEXT, value TEXT)
LANGUAGE sql STABLE AS $$
    VALUES ('party', c.party), ('gender', c.gender), ('ethnicity', c.ethnicity),
           ('level', c.level), ('education', COALESCE(c.education, '')),
           ('unit', COALESCE(c.unit_id::text, '')), ('category_mask', c.category_mask::text),
           ('birth_date', to_char(c.birth_date, 'YYYY-MM-DD'))
$$;

-- Statement-level: a multi-row statement adds its rows' counts in one grouped upsert. Rows are
-- upserted in key order, so concurrent writers take the tally rows' locks in the same order and
-- cannot deadlock on them. A transaction that inserts many cadres one statement at a time (an
-- import, the demo seed) would update the same tally rows once per cadre, and each update of a
-- row already updated in the transaction walks all its earlier versions: such a transaction sets
-- tongxin.tallies_paused and adds its cadres' counts itself before it commits
-- (cadres::tallies).
CREATE FUNCTION cadre_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tongxin.tallies_paused', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cadre_tallies AS t (status, dimension, value, cadre_count)
        SELECT r.status, d.dimension, d.value, COUNT(*)
        FROM new_rows r CROSS JOIN LATERAL cadre_dimensions(r) d
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (status, dimension, value)
        DO UPDATE SET cadre_count = t.cadre_count + excluded.cadre_count;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO cadre_tallies AS t (status, dimension, value, cadre_count)
        SELECT status, dimension, value, SUM(delta)
        FROM (
            SELECT r.status, d.dimension, d.value, 1 AS delta
            FROM new_rows r CROSS JOIN LATERAL cadre_dimensions(r) d
            UNION ALL
            SELECT r.status, d.dimension, d.value, -1
            FROM old_rows r CROSS JOIN LATERAL cadre_dimensions(r) d
        ) changes
        GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (status, dimension, value)
        DO UPDATE SET cadre_count = t.cadre_count + excluded.cadre_count;
    ELSE
        INSERT INTO cadre_tallies AS t (status, dimension, value, cadre_count)
        SELECT r.status, d.dimension, d.value, -COUNT(*)
        FROM old_rows r CROSS JOIN LATERAL cadre_dimensions(r) d
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (status, dimension, value)
        DO UPDATE SET cadre_count = t.cadre_count + excluded.cadre_count;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cadre_tallies_after_insert AFTER INSERT ON cadres
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cadre_tallies_follow();
CREATE TRIGGER cadre_tallies_after_update AFTER UPDATE ON cadres
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION cadre_tallies_follow();
CREATE TRIGGER cadre_tallies_after_delete AFTER DELETE ON cadres
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cadre_tallies_follow();

INSERT INTO cadre_tallies (status, dimension, value, cadre_count)
SELECT r.status, d.dimension, d.value, COUNT(*)
FROM cadres r CROSS JOIN LATERAL cadre_dimensions(r) d
GROUP BY 1, 2, 3;
