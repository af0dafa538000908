DROP INDEX cadres_id_status_sort_idx;
