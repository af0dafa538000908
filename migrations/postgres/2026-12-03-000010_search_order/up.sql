-- SQLite's migration of this name adds an index that gives a search's matches their name order
-- without reading their rows. On PostgreSQL the next migration's narrow table cadre_search_keys
-- does that (cadres::service::search_by_name), so this one has nothing to add; it is kept so
-- that both trees hold the same migrations.
SELECT 1; -- diesel runs no migration without a statement
