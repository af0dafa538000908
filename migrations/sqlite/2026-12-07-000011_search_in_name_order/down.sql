DROP TRIGGER cadre_search_by_name_after_delete;
DROP TRIGGER cadre_search_by_name_after_update;
DROP TRIGGER cadre_search_by_name_after_insert;
DROP TABLE cadre_search_by_name;
ALTER TABLE cadres DROP COLUMN name_order;
