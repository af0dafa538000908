DROP INDEX cadres_status_birth_date_idx;
DROP INDEX cadres_stats_idx;
DROP INDEX cadres_sort_key_idx;
DROP INDEX cadres_search_text_trgm_idx;
UPDATE cadres SET search_text = replace(search_text, 'ǂ', '');
