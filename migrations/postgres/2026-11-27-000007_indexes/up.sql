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
