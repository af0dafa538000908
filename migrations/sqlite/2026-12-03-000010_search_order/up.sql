-- A search in name order that reads every match (cadres::service::search_by_name) sorts the
-- matches' ids by their names. The FTS5 table gives ids; this index gives each id's status and
-- name order without reading the cadre's row, which holds every column of the profile.
CREATE INDEX cadres_id_status_sort_idx ON cadres (id, status, sort_key);
