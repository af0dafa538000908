-- Each FTS5 trigram table merged into one b-tree. Filling a table in many transactions (the
-- demo seed, an import, or migration 000011's one statement) leaves it in several b-trees, and a
-- search reads each of its trigrams' lists in every one: at 1,000,000 seeded cadres ten of them
-- made a pinyin's first page in name order about six times as slow (median 1.1-1.4 ms against
-- 0.18 ms; docs/performance.md, "SQLite's trigram tables merged"). The service merges them again
-- after a load that is a large part of the table (cadres::transfer, seed-demo); this merges what
-- earlier loads left. It rewrites both tables, holding the write lock: 18 s at 1,000,000 cadres.
INSERT INTO cadre_search (cadre_search) VALUES ('optimize');
INSERT INTO cadre_search_by_name (cadre_search_by_name) VALUES ('optimize');
