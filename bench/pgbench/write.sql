-- An update of one cadre with its audit event, as the service writes it: the chain's head row
-- locked first, the event appended, the head moved on.
\set id random(1, :highest_id)
BEGIN;
SELECT last_seq, last_hash FROM audit_chain WHERE id = 1 FOR UPDATE;
UPDATE cadres SET notes = 'baseline', version = version + 1, updated_at = now() WHERE id = :id;
INSERT INTO audit_events (seq, occurred_at, actor_label, actor_roles, action, entity, entity_id,
    before_json, after_json, prev_hash, hash)
SELECT last_seq + 1, now(), 'baseline', '[]', 'cadres.updated', 'cadre', :id, '{}', '{}',
    last_hash, md5(last_hash) || md5(last_hash)
FROM audit_chain WHERE id = 1;
UPDATE audit_chain SET last_seq = last_seq + 1, last_hash = md5(last_hash) || md5(last_hash) WHERE id = 1;
END;
