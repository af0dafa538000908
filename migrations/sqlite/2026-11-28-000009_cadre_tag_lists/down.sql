ALTER TABLE cadres DROP COLUMN tag_lists;
