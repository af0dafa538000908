DROP TRIGGER cadre_tallies_after_delete ON cadres;
DROP TRIGGER cadre_tallies_after_update ON cadres;
DROP TRIGGER cadre_tallies_after_insert ON cadres;
DROP FUNCTION cadre_tallies_follow();
DROP FUNCTION cadre_dimensions(cadres);
DROP TABLE cadre_tallies;
