-- What GET /cadres/{id} reads (the columns of cadres::model::CadreViewRow), without HTTP,
-- authentication or JSON.
\set id random(1, :highest_id)
SELECT id, name, former_name, gender, ethnicity, birth_date, native_place, id_number_masked, phone_masked, email, party, party_joined_on, level, unit_id, workplace, position, education, degree, professional_title, status, archived_reason, notes, sort_key, version, created_at, updated_at, category_mask, tag_lists
FROM cadres WHERE id = :id;
