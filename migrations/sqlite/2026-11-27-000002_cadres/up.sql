-- The cadre database: profiles (protected fields encrypted, with a keyed lookup hash and a
-- stored mask), tags, history sub-records, and correction requests from representatives.

CREATE TABLE cadres (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    former_name TEXT,
    gender TEXT NOT NULL CHECK (gender IN ('male', 'female')),
    ethnicity TEXT NOT NULL CHECK (length(ethnicity) = 2),
    birth_date DATE NOT NULL,
    native_place TEXT,
    id_number_cipher TEXT,
    id_number_lookup TEXT UNIQUE,
    id_number_masked TEXT,
    phone_cipher TEXT,
    phone_masked TEXT,
    email TEXT,
    party TEXT NOT NULL CHECK (party IN ('rcck', 'cdl', 'cndca', 'capd', 'cpwdp', 'czgp', 'jiusan', 'tdsgl', 'non_party', 'none')),
    party_joined_on DATE,
    level TEXT NOT NULL CHECK (level IN ('district', 'township')),
    unit_id INTEGER REFERENCES units (id),
    workplace TEXT,
    position TEXT,
    education TEXT CHECK (education IS NULL OR education IN ('graduate', 'bachelor', 'associate', 'secondary', 'compulsory')),
    degree TEXT CHECK (degree IS NULL OR degree IN ('doctor', 'master', 'bachelor', 'none')),
    professional_title TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    archived_reason TEXT,
    notes TEXT,
    -- Folded text (simplified, lower case, NFKC) of names, unit, workplace and position, with the
    -- name's pinyin and initials, for substring search.
    search_text TEXT NOT NULL,
    -- The name's pinyin: sorts the same on every engine and locale.
    sort_key TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cadres_status_sort_idx ON cadres (status, sort_key, id);
CREATE INDEX cadres_birth_date_idx ON cadres (birth_date, id);
CREATE INDEX cadres_updated_at_idx ON cadres (updated_at, id);
CREATE INDEX cadres_unit_id_idx ON cadres (unit_id);
CREATE INDEX cadres_party_idx ON cadres (party);

CREATE TABLE cadre_tags (
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    kind TEXT NOT NULL CHECK (kind IN ('category', 'sector', 'expertise')),
    tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 40),
    PRIMARY KEY (cadre_id, kind, tag)
);
CREATE INDEX cadre_tags_tag_idx ON cadre_tags (kind, tag, cadre_id);

CREATE TABLE cadre_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    kind TEXT NOT NULL CHECK (kind IN ('positions', 'education', 'family', 'rewards', 'memberships')),
    data TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cadre_records_cadre_idx ON cadre_records (cadre_id, kind, id);

CREATE TABLE profile_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    requested_by INTEGER NOT NULL REFERENCES users (id),
    changes TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by INTEGER REFERENCES users (id),
    decision_note TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX profile_corrections_status_idx ON profile_corrections (status, id);
CREATE INDEX profile_corrections_cadre_idx ON profile_corrections (cadre_id);
