-- A cadre's sectors and expertise as JSON ({"sectors": [...], "expertise": [...]}, each list in
-- code point order), written by the service in the same statement as the rest of the profile
-- and beside the rows of cadre_tags, which the filters read. With category_mask it holds all of
-- a cadre's tags, so that reading a cadre or a page of cadres is one statement.
ALTER TABLE cadres ADD COLUMN tag_lists TEXT NOT NULL DEFAULT '{"sectors":[],"expertise":[]}';
UPDATE cadres SET tag_lists = json_build_object(
    'sectors', COALESCE((SELECT json_agg(t.tag ORDER BY t.tag COLLATE "C") FROM cadre_tags t
                         WHERE t.cadre_id = cadres.id AND t.kind = 'sector'), '[]'::json),
    'expertise', COALESCE((SELECT json_agg(t.tag ORDER BY t.tag COLLATE "C") FROM cadre_tags t
                           WHERE t.cadre_id = cadres.id AND t.kind = 'expertise'), '[]'::json)
)::text
WHERE id IN (SELECT cadre_id FROM cadre_tags WHERE kind IN ('sector', 'expertise'));
