DROP INDEX cadres_status_birth_date_idx;
DROP INDEX cadres_stats_idx;
ALTER TABLE cadres DROP COLUMN category_mask;
DROP INDEX cadres_sort_key_idx;
DROP TRIGGER cadre_search_after_delete;
DROP TRIGGER cadre_search_after_update;
DROP TRIGGER cadre_search_after_insert;
DROP TABLE cadre_search;
-- Back to the plain text: the plain half is the last (length - 1 - marks) / 2 characters.
UPDATE cadres SET search_text = substr(search_text,
    length(search_text) - (length(search_text) - 1 - (length(search_text) - length(replace(search_text, 'ǂ', '')))) / 2 + 1);
