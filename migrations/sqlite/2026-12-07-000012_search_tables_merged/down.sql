-- Merging changed how the trigram tables are stored, not what they hold: nothing to undo.
SELECT 1; -- diesel runs no migration without a statement
