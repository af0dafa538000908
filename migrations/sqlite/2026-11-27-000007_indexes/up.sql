-- Substring search served by an FTS5 trigram index over cadres.search_text (an external-content
-- table: the text is stored once, in cadres), kept in step by triggers in the writing
-- transaction. The search text is stored twice: marked (a 'ǂ' after every character but
-- spaces), so that two-character queries such as most Chinese names have trigrams too, then
-- plain, for the longer queries (see text::search_text).

UPDATE cadres SET search_text = (
    WITH RECURSIVE marked (rest, done) AS (
        SELECT replace(cadres.search_text, 'ǂ', ''), ''
        UNION ALL
        SELECT substr(rest, 2),
               done || CASE WHEN substr(rest, 1, 1) = ' ' THEN ' ' ELSE substr(rest, 1, 1) || 'ǂ' END
        FROM marked WHERE rest <> ''
    )
    SELECT done || ' ' || replace(cadres.search_text, 'ǂ', '') FROM marked WHERE rest = ''
);

CREATE VIRTUAL TABLE cadre_search USING fts5 (
    search_text, content = 'cadres', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO cadre_search (cadre_search) VALUES ('rebuild');

CREATE TRIGGER cadre_search_after_insert AFTER INSERT ON cadres BEGIN
    INSERT INTO cadre_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER cadre_search_after_update AFTER UPDATE OF search_text ON cadres
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO cadre_search (cadre_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO cadre_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER cadre_search_after_delete AFTER DELETE ON cadres BEGIN
    INSERT INTO cadre_search (cadre_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;

-- Lists of every status sorted by name (the status index serves one status at a time).
CREATE INDEX cadres_sort_key_idx ON cadres (sort_key, id);

-- A cadre's categories as one bit each (cadres::vocab::Category::bit), kept by the service with
-- the tags, so that the statistics count categories in the same index-only pass as the other
-- dimensions instead of joining every category tag to its cadre.
ALTER TABLE cadres ADD COLUMN category_mask INTEGER NOT NULL DEFAULT 0;
UPDATE cadres SET category_mask = COALESCE((
    SELECT SUM(CASE t.tag
        WHEN 'democratic_party_member' THEN 1
        WHEN 'non_party_personage' THEN 2
        WHEN 'non_party_intellectual' THEN 4
        WHEN 'ethnic_minority' THEN 8
        WHEN 'religious' THEN 16
        WHEN 'non_public_economy' THEN 32
        WHEN 'new_social_strata' THEN 64
        WHEN 'returned_overseas_student' THEN 128
        WHEN 'hong_kong_macao' THEN 256
        WHEN 'taiwan' THEN 512
        WHEN 'overseas_chinese' THEN 1024
        WHEN 'other' THEN 2048
        ELSE 0 END)
    FROM cadre_tags t WHERE t.cadre_id = cadres.id AND t.kind = 'category'
), 0);

-- The statistics: every single-valued dimension grouped in one pass, and ages from the birth
-- dates (also under a filter on those dimensions), read from indexes that hold every column
-- they need: no table rows are read.
CREATE INDEX cadres_stats_idx ON cadres (status, party, gender, ethnicity, level, education, unit_id, category_mask, birth_date);
CREATE INDEX cadres_status_birth_date_idx ON cadres (status, birth_date);
