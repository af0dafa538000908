DROP TRIGGER cadre_tallies_after_delete;
DROP TRIGGER cadre_tallies_after_update;
DROP TRIGGER cadre_tallies_after_insert;
DROP TABLE cadre_tallies;
