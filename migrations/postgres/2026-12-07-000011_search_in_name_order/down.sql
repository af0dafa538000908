SELECT 1; -- nothing to undo
