-- The trigram index again, its rowids in name order, so that a search in name order reads its
-- matches in that order and stops at its page (cadres::service::NamePage::in_name_order_sqlite;
-- docs/performance.md, "SQLite's searches in name order"). A cadre's rowid, `name_order`, is
-- the first eight characters of its `sort_key` in base 29 (0 past the end of the key, 1 any
-- character below 'a', 2-27 'a' to 'z', 28 any character above 'z', and 0 for every character
-- after the first that is not a letter, since what follows 1 or 28 says nothing of the order),
-- times 2^24, plus its id: so rowids never go against name order, and keys alike in that prefix
-- come out in id order, which the service then sorts exactly. cadres::repo::name_order_key
-- computes the same, and a test checks one against the other. Cadres with an id of 2^24 or more
-- are left out, and the service then searches as before. Contentless: the text is in `cadres`,
-- and removing a cadre's entry takes its old text.
ALTER TABLE cadres ADD COLUMN name_order INTEGER GENERATED ALWAYS AS (
    (
       (CASE WHEN length(sort_key) < 1 THEN 0
          WHEN substr(sort_key, 1, 1) < 'a' THEN 1 WHEN substr(sort_key, 1, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 1, 1)) - 95 END) * 17249876309
     + (CASE WHEN length(sort_key) < 2 OR substr(sort_key, 1, 1) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 2, 1) < 'a' THEN 1 WHEN substr(sort_key, 2, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 2, 1)) - 95 END) * 594823321
     + (CASE WHEN length(sort_key) < 3 OR substr(sort_key, 1, 2) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 3, 1) < 'a' THEN 1 WHEN substr(sort_key, 3, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 3, 1)) - 95 END) * 20511149
     + (CASE WHEN length(sort_key) < 4 OR substr(sort_key, 1, 3) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 4, 1) < 'a' THEN 1 WHEN substr(sort_key, 4, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 4, 1)) - 95 END) * 707281
     + (CASE WHEN length(sort_key) < 5 OR substr(sort_key, 1, 4) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 5, 1) < 'a' THEN 1 WHEN substr(sort_key, 5, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 5, 1)) - 95 END) * 24389
     + (CASE WHEN length(sort_key) < 6 OR substr(sort_key, 1, 5) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 6, 1) < 'a' THEN 1 WHEN substr(sort_key, 6, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 6, 1)) - 95 END) * 841
     + (CASE WHEN length(sort_key) < 7 OR substr(sort_key, 1, 6) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 7, 1) < 'a' THEN 1 WHEN substr(sort_key, 7, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 7, 1)) - 95 END) * 29
     + (CASE WHEN length(sort_key) < 8 OR substr(sort_key, 1, 7) GLOB '*[^a-z]*' THEN 0
          WHEN substr(sort_key, 8, 1) < 'a' THEN 1 WHEN substr(sort_key, 8, 1) > 'z' THEN 28
          ELSE unicode(substr(sort_key, 8, 1)) - 95 END) * 1
    ) * 16777216 + id
) VIRTUAL;

CREATE VIRTUAL TABLE cadre_search_by_name USING fts5 (
    search_text, content = '', tokenize = 'trigram'
);

INSERT INTO cadre_search_by_name (rowid, search_text)
SELECT name_order, search_text FROM cadres WHERE id < 16777216;

CREATE TRIGGER cadre_search_by_name_after_insert AFTER INSERT ON cadres
WHEN new.id < 16777216 BEGIN
    INSERT INTO cadre_search_by_name (rowid, search_text) VALUES (new.name_order, new.search_text);
END;

CREATE TRIGGER cadre_search_by_name_after_update AFTER UPDATE OF search_text, sort_key ON cadres
WHEN new.id < 16777216
    AND (old.search_text IS NOT new.search_text OR old.sort_key IS NOT new.sort_key) BEGIN
    INSERT INTO cadre_search_by_name (cadre_search_by_name, rowid, search_text)
    VALUES ('delete', old.name_order, old.search_text);
    INSERT INTO cadre_search_by_name (rowid, search_text) VALUES (new.name_order, new.search_text);
END;

CREATE TRIGGER cadre_search_by_name_after_delete AFTER DELETE ON cadres
WHEN old.id < 16777216 BEGIN
    INSERT INTO cadre_search_by_name (cadre_search_by_name, rowid, search_text)
    VALUES ('delete', old.name_order, old.search_text);
END;
