-- Substring search served by a trigram index. The search text is stored twice: marked (a 'ǂ'
-- after every character but spaces), so that two-character queries such as most Chinese names
-- have trigrams too, then plain, for the longer queries (see text::search_text).
-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

UPDATE cadres SET search_text = plain.marked || ' ' || plain.text
FROM (
    SELECT id, text, regexp_replace(text, '(\S)', '\1ǂ', 'g') AS marked
    FROM (
        SELECT id, trim(regexp_replace(replace(search_text, 'ǂ', ''), '\s+', ' ', 'g')) AS text
        FROM cadres
    ) folded
) plain
WHERE cadres.id = plain.id;

CREATE INDEX cadres_search_text_trgm_idx ON cadres USING gin (search_text gin_trgm_ops);

-- Lists of every status sorted by name (the status index serves one status at a time).
CREATE INDEX cadres_sort_key_idx ON cadres (sort_key, id);

-- The statistics: every single-valued dimension grouped in one pass, and ages from the birth
-- dates, read from indexes that hold every column they need (no table rows read).
CREATE INDEX cadres_stats_idx ON cadres (status, party, gender, ethnicity, level, education, unit_id);
CREATE INDEX cadres_status_birth_date_idx ON cadres (status, birth_date);
