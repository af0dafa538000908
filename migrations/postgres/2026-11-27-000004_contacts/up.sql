-- In-app notifications (shared by the mechanisms) and normalised contact: terms, leader-cadre
-- pairings, campaigns, talks with notes and follow-ups.

CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    entity TEXT,
    entity_id BIGINT,
    -- One notification per key, however often a job runs and on however many instances.
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);

CREATE TABLE terms (
    id BIGSERIAL PRIMARY KEY,
    number INTEGER NOT NULL UNIQUE CHECK (number > 0),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    min_contacts_per_year INTEGER NOT NULL CHECK (min_contacts_per_year BETWEEN 0 AND 52),
    created_at TIMESTAMP NOT NULL,
    CHECK (ends_on > starts_on)
);

CREATE TABLE pairings (
    id BIGSERIAL PRIMARY KEY,
    term_id BIGINT NOT NULL REFERENCES terms (id),
    leader_id BIGINT NOT NULL REFERENCES users (id),
    cadre_id BIGINT NOT NULL REFERENCES cadres (id),
    starts_on DATE NOT NULL,
    ends_on DATE,
    end_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pairings_term_leader_idx ON pairings (term_id, leader_id);
CREATE INDEX pairings_cadre_idx ON pairings (cadre_id);

CREATE TABLE campaigns (
    id BIGSERIAL PRIMARY KEY,
    term_id BIGINT NOT NULL REFERENCES terms (id),
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on)
);

CREATE TABLE talks (
    id BIGSERIAL PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES users (id),
    held_on DATE NOT NULL,
    form TEXT NOT NULL CHECK (form IN ('heart_to_heart', 'symposium', 'visit', 'phone', 'other')),
    campaign_id BIGINT REFERENCES campaigns (id),
    work TEXT,
    study TEXT,
    life TEXT,
    concerns TEXT,
    response TEXT,
    private_notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX talks_held_on_idx ON talks (held_on);

CREATE TABLE talk_pairings (
    talk_id BIGINT NOT NULL REFERENCES talks (id),
    pairing_id BIGINT NOT NULL REFERENCES pairings (id),
    PRIMARY KEY (talk_id, pairing_id)
);
CREATE INDEX talk_pairings_pairing_idx ON talk_pairings (pairing_id);

CREATE TABLE talk_notes (
    id BIGSERIAL PRIMARY KEY,
    talk_id BIGINT NOT NULL REFERENCES talks (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    text TEXT NOT NULL CHECK (char_length(text) BETWEEN 1 AND 5000),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX talk_notes_talk_idx ON talk_notes (talk_id);

CREATE TABLE follow_ups (
    id BIGSERIAL PRIMARY KEY,
    talk_id BIGINT NOT NULL REFERENCES talks (id),
    what TEXT NOT NULL CHECK (char_length(what) BETWEEN 1 AND 1000),
    responsible TEXT NOT NULL CHECK (char_length(responsible) BETWEEN 1 AND 100),
    due_on DATE NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    outcome TEXT,
    done_on DATE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX follow_ups_talk_idx ON follow_ups (talk_id);
CREATE INDEX follow_ups_due_idx ON follow_ups (done, due_on);
