-- PostgreSQL's migration of this name adds a narrow table with the trigram index, so that a
-- search in name order sorts its matches without reading their rows. SQLite does that already:
-- the FTS5 table gives the matches' ids and cadres_id_status_sort_idx their names (migration
-- 2026-12-03-000010). The migration is kept so that both trees hold the same migrations.
SELECT 1; -- diesel runs no migration without a statement
