-- How many cadres of each status hold each value of each dimension the statistics count, kept in
-- step with cadres by triggers in the writing transaction. The statistics of a whole status
-- (the register without other filters) read these few thousand rows instead of grouping every
-- cadre. Values are text: '' stands for no education or no unit; birth dates are YYYY-MM-DD.
CREATE TABLE cadre_tallies (
    status TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    cadre_count BIGINT NOT NULL,
    PRIMARY KEY (status, dimension, value)
) WITHOUT ROWID;

CREATE TRIGGER cadre_tallies_after_insert AFTER INSERT ON cadres BEGIN
    INSERT INTO cadre_tallies (status, dimension, value, cadre_count)
    SELECT new.status, dimension, value, 1
    FROM (SELECT 'party' AS dimension, new.party AS value
          UNION ALL SELECT 'gender', new.gender UNION ALL SELECT 'ethnicity', new.ethnicity
          UNION ALL SELECT 'level', new.level UNION ALL SELECT 'education', COALESCE(new.education, '')
          UNION ALL SELECT 'unit', COALESCE(CAST(new.unit_id AS TEXT), '')
          UNION ALL SELECT 'category_mask', CAST(new.category_mask AS TEXT)
          UNION ALL SELECT 'birth_date', new.birth_date)
    WHERE true
    ON CONFLICT (status, dimension, value) DO UPDATE SET cadre_count = cadre_count + excluded.cadre_count;
END;

-- Only the values that changed move: the old one loses the cadre, the new one gains it.
CREATE TRIGGER cadre_tallies_after_update
AFTER UPDATE OF status, party, gender, ethnicity, level, education, unit_id, category_mask, birth_date
ON cadres BEGIN
    INSERT INTO cadre_tallies (status, dimension, value, cadre_count)
    SELECT status, dimension, value, SUM(delta)
    FROM (
        SELECT new.status AS status, dimension, value, 1 AS delta
        FROM (SELECT 'party' AS dimension, new.party AS value
          UNION ALL SELECT 'gender', new.gender UNION ALL SELECT 'ethnicity', new.ethnicity
          UNION ALL SELECT 'level', new.level UNION ALL SELECT 'education', COALESCE(new.education, '')
          UNION ALL SELECT 'unit', COALESCE(CAST(new.unit_id AS TEXT), '')
          UNION ALL SELECT 'category_mask', CAST(new.category_mask AS TEXT)
          UNION ALL SELECT 'birth_date', new.birth_date)
        UNION ALL
        SELECT old.status, dimension, value, -1
        FROM (SELECT 'party' AS dimension, old.party AS value
          UNION ALL SELECT 'gender', old.gender UNION ALL SELECT 'ethnicity', old.ethnicity
          UNION ALL SELECT 'level', old.level UNION ALL SELECT 'education', COALESCE(old.education, '')
          UNION ALL SELECT 'unit', COALESCE(CAST(old.unit_id AS TEXT), '')
          UNION ALL SELECT 'category_mask', CAST(old.category_mask AS TEXT)
          UNION ALL SELECT 'birth_date', old.birth_date)
    )
    WHERE true
    GROUP BY status, dimension, value HAVING SUM(delta) <> 0
    ON CONFLICT (status, dimension, value) DO UPDATE SET cadre_count = cadre_count + excluded.cadre_count;
END;

CREATE TRIGGER cadre_tallies_after_delete AFTER DELETE ON cadres BEGIN
    INSERT INTO cadre_tallies (status, dimension, value, cadre_count)
    SELECT old.status, dimension, value, -1
    FROM (SELECT 'party' AS dimension, old.party AS value
          UNION ALL SELECT 'gender', old.gender UNION ALL SELECT 'ethnicity', old.ethnicity
          UNION ALL SELECT 'level', old.level UNION ALL SELECT 'education', COALESCE(old.education, '')
          UNION ALL SELECT 'unit', COALESCE(CAST(old.unit_id AS TEXT), '')
          UNION ALL SELECT 'category_mask', CAST(old.category_mask AS TEXT)
          UNION ALL SELECT 'birth_date', old.birth_date)
    WHERE true
    ON CONFLICT (status, dimension, value) DO UPDATE SET cadre_count = cadre_count + excluded.cadre_count;
END;

INSERT INTO cadre_tallies (status, dimension, value, cadre_count)
SELECT status, 'party', party, COUNT(*) FROM cadres GROUP BY status, party
UNION ALL SELECT status, 'gender', gender, COUNT(*) FROM cadres GROUP BY status, gender
UNION ALL SELECT status, 'ethnicity', ethnicity, COUNT(*) FROM cadres GROUP BY status, ethnicity
UNION ALL SELECT status, 'level', level, COUNT(*) FROM cadres GROUP BY status, level
UNION ALL SELECT status, 'education', COALESCE(education, ''), COUNT(*) FROM cadres GROUP BY 1, 3
UNION ALL SELECT status, 'unit', COALESCE(CAST(unit_id AS TEXT), ''), COUNT(*) FROM cadres GROUP BY 1, 3
UNION ALL SELECT status, 'category_mask', CAST(category_mask AS TEXT), COUNT(*) FROM cadres GROUP BY 1, 3
UNION ALL SELECT status, 'birth_date', birth_date, COUNT(*) FROM cadres GROUP BY status, birth_date;
