DROP TRIGGER cadre_search_keys_after_update ON cadres;
DROP FUNCTION cadre_search_keys_follow();
DROP TRIGGER cadre_search_keys_after_insert ON cadres;
DROP FUNCTION cadre_search_keys_add();
DROP TABLE cadre_search_keys;
CREATE INDEX cadres_search_text_trgm_idx ON cadres USING gin (search_text gin_trgm_ops);
