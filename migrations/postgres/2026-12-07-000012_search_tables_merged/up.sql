-- SQLite's migration of this name merges its FTS5 trigram tables into one b-tree each.
-- PostgreSQL's trigram index keeps no such parts (its pending list is merged after each load:
-- db::refresh_statistics); the migration is kept so that both trees hold the same migrations.
SELECT 1; -- diesel runs no migration without a statement
