-- SQLite's migration of this name adds an index that gives a search's matches their name order
-- without reading their rows. PostgreSQL reads each match's row to check the pattern in any
-- case (cadres::service::search_by_name), so it has nothing to add; the migration is kept so
-- that both trees hold the same migrations.
SELECT 1; -- diesel runs no migration without a statement
