-- Decision participation (逢会必进): meetings with agenda items, invitations of
-- representatives, attendance, opinions and their adoption.

CREATE TABLE meetings (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('district_standing_committee', 'district_government_executive', 'township_party_government', 'other')),
    unit_id BIGINT NOT NULL REFERENCES units (id),
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    starts_at TIMESTAMP NOT NULL,
    place TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'prepared', 'held', 'closed', 'cancelled')),
    cancel_reason TEXT,
    exemption_reason TEXT,
    exempted_by BIGINT REFERENCES users (id),
    created_by BIGINT REFERENCES users (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX meetings_starts_at_idx ON meetings (starts_at, id);

CREATE TABLE agenda_items (
    id BIGSERIAL PRIMARY KEY,
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    position INTEGER NOT NULL,
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    summary TEXT,
    major_decision BOOLEAN NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agenda_items_meeting_idx ON agenda_items (meeting_id, position);

CREATE TABLE agenda_item_tags (
    agenda_item_id BIGINT NOT NULL REFERENCES agenda_items (id),
    tag TEXT NOT NULL CHECK (char_length(tag) BETWEEN 1 AND 40),
    PRIMARY KEY (agenda_item_id, tag)
);

CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    meeting_id BIGINT NOT NULL REFERENCES meetings (id),
    cadre_id BIGINT NOT NULL REFERENCES cadres (id),
    agenda_item_id BIGINT REFERENCES agenda_items (id),
    reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('invited', 'accepted', 'declined')),
    answer_reason TEXT,
    answered_at TIMESTAMP,
    attendance TEXT CHECK (attendance IS NULL OR attendance IN ('present', 'absent', 'excused')),
    invited_by BIGINT REFERENCES users (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (meeting_id, cadre_id)
);
CREATE INDEX invitations_cadre_idx ON invitations (cadre_id, id);

CREATE TABLE opinions (
    id BIGSERIAL PRIMARY KEY,
    agenda_item_id BIGINT NOT NULL REFERENCES agenda_items (id),
    cadre_id BIGINT NOT NULL REFERENCES cadres (id),
    content TEXT NOT NULL CHECK (char_length(content) BETWEEN 1 AND 5000),
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    on_behalf BOOLEAN NOT NULL,
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('adopted', 'partially_adopted', 'not_adopted', 'for_reference')),
    outcome_explanation TEXT,
    outcome_on DATE,
    outcome_by BIGINT REFERENCES users (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX opinions_item_idx ON opinions (agenda_item_id, id);
CREATE INDEX opinions_cadre_idx ON opinions (cadre_id, id);
