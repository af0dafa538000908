-- SQLite's migration of this name adds a trigram table in name order, for searches in name
-- order. pg_trgm's index gives no order, so PostgreSQL has nothing to add; the migration is kept
-- so that both trees hold the same migrations.
SELECT 1; -- diesel runs no migration without a statement
