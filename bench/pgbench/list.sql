-- What GET /cadres?party=jiusan&sort=-birth_date&limit=20 reads for the page (the columns of
-- cadres::model::CadreViewRow).
SELECT id, name, former_name, gender, ethnicity, birth_date, native_place, id_number_masked, phone_masked, email, party, party_joined_on, level, unit_id, workplace, position, education, degree, professional_title, status, archived_reason, notes, sort_key, version, created_at, updated_at, category_mask, tag_lists
FROM cadres WHERE status = 'active' AND party = 'jiusan'
ORDER BY birth_date DESC, id DESC LIMIT 21;
