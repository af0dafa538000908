-- The direct channel (直通车): suggestions from representatives, leaders' instructions,
-- departments' handling, ratings, in rounds.

CREATE TABLE suggestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    submitted_by INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'accepted', 'not_accepted', 'merged', 'presented', 'instructed', 'replied', 'closed')),
    round INTEGER NOT NULL DEFAULT 1,
    intake_reason_code TEXT,
    intake_explanation TEXT,
    merged_into INTEGER REFERENCES suggestions (id),
    closed_reason TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (submitted_by, idempotency_key)
);
CREATE INDEX suggestions_status_idx ON suggestions (status, id);
CREATE INDEX suggestions_author_idx ON suggestions (author_cadre_id);
CREATE INDEX suggestions_created_idx ON suggestions (created_at);

CREATE TABLE suggestion_cosigners (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    cadre_id INTEGER NOT NULL REFERENCES cadres (id),
    confirmed_at TIMESTAMP,
    PRIMARY KEY (suggestion_id, cadre_id)
);
CREATE INDEX suggestion_cosigners_cadre_idx ON suggestion_cosigners (cadre_id);

CREATE TABLE suggestion_supplements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 20000),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE suggestion_presentations (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    leader_id INTEGER NOT NULL REFERENCES users (id),
    round INTEGER NOT NULL,
    presented_at TIMESTAMP NOT NULL,
    PRIMARY KEY (suggestion_id, leader_id, round)
);
CREATE INDEX suggestion_presentations_leader_idx ON suggestion_presentations (leader_id);

CREATE TABLE instructions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    round INTEGER NOT NULL,
    leader_id INTEGER NOT NULL REFERENCES users (id),
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    instructed_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX instructions_suggestion_idx ON instructions (suggestion_id);

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    instruction_id INTEGER NOT NULL REFERENCES instructions (id),
    round INTEGER NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units (id),
    lead BOOLEAN NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('assigned', 'acknowledged', 'replied', 'returned')),
    acknowledged_at TIMESTAMP,
    result TEXT CHECK (result IS NULL OR result IN ('adopted', 'being_implemented', 'included_in_plan', 'for_reference', 'not_adopted')),
    reply_text TEXT,
    not_adopted_reason TEXT,
    replied_at TIMESTAMP,
    internal_notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assignments_unit_idx ON assignments (unit_id, status);
CREATE INDEX assignments_suggestion_idx ON assignments (suggestion_id);
CREATE INDEX assignments_due_idx ON assignments (status, due_on);

CREATE TABLE assignment_progress (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id INTEGER NOT NULL REFERENCES assignments (id),
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX assignment_progress_idx ON assignment_progress (assignment_id);

CREATE TABLE assignment_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id INTEGER NOT NULL REFERENCES assignments (id),
    kind TEXT NOT NULL CHECK (kind IN ('extension', 'return')),
    requested_due_on DATE,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by INTEGER NOT NULL REFERENCES users (id),
    decided_by INTEGER REFERENCES users (id),
    decision_reason TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX assignment_requests_assignment_idx ON assignment_requests (assignment_id);

CREATE TABLE suggestion_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    round INTEGER NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('satisfied', 'basically_satisfied', 'unsatisfied')),
    comment TEXT,
    rated_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (suggestion_id, round)
);
