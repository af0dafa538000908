DROP INDEX cadres_status_birth_date_idx;
DROP INDEX cadres_stats_idx;
DROP INDEX cadres_sort_key_idx;
DROP TRIGGER cadre_search_after_delete;
DROP TRIGGER cadre_search_after_update;
DROP TRIGGER cadre_search_after_insert;
DROP TABLE cadre_search;
UPDATE cadres SET search_text = replace(search_text, 'ǂ', '');
