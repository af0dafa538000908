-- Personnel appointment and evaluation: the talent pool with joint approvals, cultivation,
-- recommendations, appointment records kept bitemporally (never edited; corrections supersede),
-- annual assessments, evaluation cycles, and targets.

CREATE TABLE pool_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    source TEXT NOT NULL,
    recommended_by TEXT,
    stage TEXT NOT NULL CHECK (stage IN ('discovered', 'cultivating', 'recommended', 'inspected', 'decided', 'appointed', 'withdrawn')),
    stage_since DATE NOT NULL,
    withdrawn_reason TEXT,
    proposed_stage TEXT CHECK (proposed_stage IS NULL OR proposed_stage IN ('inspected', 'decided')),
    proposed_by INTEGER REFERENCES users (id),
    proposed_at TIMESTAMP,
    proposal_note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pool_entries_cadre_idx ON pool_entries (cadre_id);
CREATE INDEX pool_entries_stage_idx ON pool_entries (stage);

CREATE TABLE pool_moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES pool_entries (id),
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    moved_on DATE NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX pool_moves_entry_idx ON pool_moves (entry_id, id);

CREATE TABLE pool_approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES pool_entries (id),
    to_stage TEXT NOT NULL,
    proposed_at TIMESTAMP NOT NULL,
    approver_id INTEGER NOT NULL REFERENCES users (id),
    department TEXT NOT NULL CHECK (department IN ('ufwd_staff', 'org_staff')),
    approve BOOLEAN NOT NULL,
    comment TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX pool_approvals_entry_idx ON pool_approvals (entry_id, id);

CREATE TABLE cultivations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    kind TEXT NOT NULL CHECK (kind IN ('training', 'secondment', 'practice_post', 'other')),
    title TEXT NOT NULL,
    place TEXT,
    starts_on DATE NOT NULL,
    ends_on DATE,
    outcome TEXT,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cultivations_cadre_idx ON cultivations (cadre_id);

CREATE TABLE recommendations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    recommender TEXT NOT NULL,
    post_kind TEXT NOT NULL,
    reasons TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recommendations_cadre_idx ON recommendations (cadre_id);

-- Valid time (valid_from .. valid_to) and recording time (recorded_at). A correction is a new
-- row naming the row it supersedes; no row is ever updated or deleted.
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    kind TEXT NOT NULL CHECK (kind IN ('appointment', 'removal', 'transfer')),
    position TEXT NOT NULL,
    unit_id INTEGER REFERENCES units (id),
    unit_name TEXT NOT NULL,
    rank TEXT,
    level TEXT NOT NULL CHECK (level IN ('district', 'township')),
    leadership BOOLEAN NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    document_number TEXT NOT NULL,
    appointing_body TEXT NOT NULL,
    supersedes INTEGER REFERENCES appointments (id),
    correction_reason TEXT,
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX appointments_cadre_idx ON appointments (cadre_id, recorded_at);
CREATE UNIQUE INDEX appointments_supersedes_key ON appointments (supersedes);

CREATE TABLE assessments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    year INTEGER NOT NULL,
    grade TEXT NOT NULL CHECK (grade IN ('excellent', 'competent', 'basically_competent', 'incompetent')),
    comment TEXT,
    recorded_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (cadre_id, year)
);

CREATE TABLE evaluation_cycles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    criteria TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);

CREATE TABLE evaluation_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cycle_id INTEGER NOT NULL REFERENCES evaluation_cycles (id),
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    rater_id INTEGER NOT NULL REFERENCES users (id),
    side TEXT NOT NULL CHECK (side IN ('ufwd', 'org', 'unit')),
    scores TEXT NOT NULL,
    comment TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (cycle_id, cadre_id, rater_id)
);

CREATE TABLE appointment_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id INTEGER REFERENCES units (id),
    level TEXT CHECK (level IS NULL OR level IN ('district', 'township')),
    leadership_posts INTEGER NOT NULL CHECK (leadership_posts > 0),
    target_percent INTEGER NOT NULL CHECK (target_percent BETWEEN 0 AND 100),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((unit_id IS NULL) <> (level IS NULL))
);
