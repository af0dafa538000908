//! Tables as both migration trees define them (written by hand; see `diesel.toml`).

diesel::table! {
    units (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        division_code -> Nullable<Text>,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        unit_id -> Nullable<BigInt>,
        cadre_id -> Nullable<BigInt>,
        active -> Bool,
        token_version -> Integer,
        version -> Integer,
        password_changed_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        session_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (username) {
        username -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        lockouts -> Integer,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        actor_roles -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> Integer,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    /// SQLite only: the FTS5 trigram index over `cadres.search_text` (`rowid` is the cadre's id),
    /// kept in step by triggers. PostgreSQL indexes the column itself with pg_trgm.
    cadre_search (rowid) {
        rowid -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    /// SQLite only: the FTS5 trigram index over `cadres.search_text` again, its `rowid` the
    /// cadre's place in name order (`cadres::repo::name_order_key`), so that a search in name
    /// order reads its matches in that order. Contentless, kept in step by triggers.
    cadre_search_by_name (rowid) {
        rowid -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    /// How many cadres of each status hold each value of each statistics dimension (`party`,
    /// `gender`, `ethnicity`, `level`, `education`, `unit`, `category_mask`, `birth_date`; '' for
    /// none), kept in step with `cadres` by triggers.
    cadre_tallies (status, dimension, value) {
        status -> Text,
        dimension -> Text,
        value -> Text,
        cadre_count -> BigInt,
    }
}

diesel::table! {
    cadres (id) {
        id -> BigInt,
        name -> Text,
        former_name -> Nullable<Text>,
        gender -> Text,
        ethnicity -> Text,
        birth_date -> Date,
        native_place -> Nullable<Text>,
        id_number_cipher -> Nullable<Text>,
        id_number_lookup -> Nullable<Text>,
        id_number_masked -> Nullable<Text>,
        phone_cipher -> Nullable<Text>,
        phone_masked -> Nullable<Text>,
        email -> Nullable<Text>,
        party -> Text,
        party_joined_on -> Nullable<Date>,
        level -> Text,
        unit_id -> Nullable<BigInt>,
        workplace -> Nullable<Text>,
        position -> Nullable<Text>,
        education -> Nullable<Text>,
        degree -> Nullable<Text>,
        professional_title -> Nullable<Text>,
        status -> Text,
        archived_reason -> Nullable<Text>,
        notes -> Nullable<Text>,
        search_text -> Text,
        sort_key -> Text,
        category_mask -> Integer,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        tag_lists -> Text,
    }
}

diesel::table! {
    cadre_tags (cadre_id, kind, tag) {
        cadre_id -> BigInt,
        kind -> Text,
        tag -> Text,
    }
}

diesel::table! {
    cadre_records (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        kind -> Text,
        data -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    profile_corrections (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        requested_by -> BigInt,
        changes -> Text,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        decision_note -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> BigInt,
        kind -> Text,
        unit_id -> BigInt,
        title -> Text,
        starts_at -> Timestamp,
        place -> Nullable<Text>,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        exemption_reason -> Nullable<Text>,
        exempted_by -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agenda_items (id) {
        id -> BigInt,
        meeting_id -> BigInt,
        position -> Integer,
        title -> Text,
        summary -> Nullable<Text>,
        major_decision -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agenda_item_tags (agenda_item_id, tag) {
        agenda_item_id -> BigInt,
        tag -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        meeting_id -> BigInt,
        cadre_id -> BigInt,
        agenda_item_id -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        status -> Text,
        answer_reason -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        attendance -> Nullable<Text>,
        invited_by -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    opinions (id) {
        id -> BigInt,
        agenda_item_id -> BigInt,
        cadre_id -> BigInt,
        content -> Text,
        recorded_by -> BigInt,
        on_behalf -> Bool,
        outcome -> Nullable<Text>,
        outcome_explanation -> Nullable<Text>,
        outcome_on -> Nullable<Date>,
        outcome_by -> Nullable<BigInt>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        title -> Text,
        entity -> Nullable<Text>,
        entity_id -> Nullable<BigInt>,
        dedupe_key -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    terms (id) {
        id -> BigInt,
        number -> Integer,
        starts_on -> Date,
        ends_on -> Date,
        min_contacts_per_year -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pairings (id) {
        id -> BigInt,
        term_id -> BigInt,
        leader_id -> BigInt,
        cadre_id -> BigInt,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        term_id -> BigInt,
        name -> Text,
        starts_on -> Date,
        ends_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    talks (id) {
        id -> BigInt,
        author_id -> BigInt,
        held_on -> Date,
        form -> Text,
        campaign_id -> Nullable<BigInt>,
        work -> Nullable<Text>,
        study -> Nullable<Text>,
        life -> Nullable<Text>,
        concerns -> Nullable<Text>,
        response -> Nullable<Text>,
        private_notes -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    talk_pairings (talk_id, pairing_id) {
        talk_id -> BigInt,
        pairing_id -> BigInt,
    }
}

diesel::table! {
    talk_notes (id) {
        id -> BigInt,
        talk_id -> BigInt,
        author_id -> BigInt,
        text -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> BigInt,
        talk_id -> BigInt,
        what -> Text,
        responsible -> Text,
        due_on -> Date,
        done -> Bool,
        outcome -> Nullable<Text>,
        done_on -> Nullable<Date>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    suggestions (id) {
        id -> BigInt,
        author_cadre_id -> BigInt,
        submitted_by -> BigInt,
        title -> Text,
        body -> Text,
        category -> Text,
        status -> Text,
        round -> Integer,
        intake_reason_code -> Nullable<Text>,
        intake_explanation -> Nullable<Text>,
        merged_into -> Nullable<BigInt>,
        closed_reason -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    suggestion_cosigners (suggestion_id, cadre_id) {
        suggestion_id -> BigInt,
        cadre_id -> BigInt,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    suggestion_supplements (id) {
        id -> BigInt,
        suggestion_id -> BigInt,
        text -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    suggestion_presentations (suggestion_id, leader_id, round) {
        suggestion_id -> BigInt,
        leader_id -> BigInt,
        round -> Integer,
        presented_at -> Timestamp,
    }
}

diesel::table! {
    instructions (id) {
        id -> BigInt,
        suggestion_id -> BigInt,
        round -> Integer,
        leader_id -> BigInt,
        text -> Text,
        instructed_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assignments (id) {
        id -> BigInt,
        suggestion_id -> BigInt,
        instruction_id -> BigInt,
        round -> Integer,
        unit_id -> BigInt,
        lead -> Bool,
        due_on -> Date,
        status -> Text,
        acknowledged_at -> Nullable<Timestamp>,
        result -> Nullable<Text>,
        reply_text -> Nullable<Text>,
        not_adopted_reason -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        internal_notes -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    assignment_progress (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        text -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assignment_requests (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        kind -> Text,
        requested_due_on -> Nullable<Date>,
        reason -> Text,
        status -> Text,
        requested_by -> BigInt,
        decided_by -> Nullable<BigInt>,
        decision_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    suggestion_ratings (id) {
        id -> BigInt,
        suggestion_id -> BigInt,
        round -> Integer,
        rating -> Text,
        comment -> Nullable<Text>,
        rated_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pool_entries (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        source -> Text,
        recommended_by -> Nullable<Text>,
        stage -> Text,
        stage_since -> Date,
        withdrawn_reason -> Nullable<Text>,
        proposed_stage -> Nullable<Text>,
        proposed_by -> Nullable<BigInt>,
        proposed_at -> Nullable<Timestamp>,
        proposal_note -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pool_moves (id) {
        id -> BigInt,
        entry_id -> BigInt,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        moved_on -> Date,
        actor_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pool_approvals (id) {
        id -> BigInt,
        entry_id -> BigInt,
        to_stage -> Text,
        proposed_at -> Timestamp,
        approver_id -> BigInt,
        department -> Text,
        approve -> Bool,
        comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cultivations (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        kind -> Text,
        title -> Text,
        place -> Nullable<Text>,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        outcome -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recommendations (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        recommender -> Text,
        post_kind -> Text,
        reasons -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appointments (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        kind -> Text,
        position -> Text,
        unit_id -> Nullable<BigInt>,
        unit_name -> Text,
        rank -> Nullable<Text>,
        level -> Text,
        leadership -> Bool,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        document_number -> Text,
        appointing_body -> Text,
        supersedes -> Nullable<BigInt>,
        correction_reason -> Nullable<Text>,
        recorded_by -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> BigInt,
        cadre_id -> BigInt,
        year -> Integer,
        grade -> Text,
        comment -> Nullable<Text>,
        recorded_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    evaluation_cycles (id) {
        id -> BigInt,
        name -> Text,
        criteria -> Text,
        status -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    evaluation_ratings (id) {
        id -> BigInt,
        cycle_id -> BigInt,
        cadre_id -> BigInt,
        rater_id -> BigInt,
        side -> Text,
        scores -> Text,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appointment_targets (id) {
        id -> BigInt,
        unit_id -> Nullable<BigInt>,
        level -> Nullable<Text>,
        leadership_posts -> Integer,
        target_percent -> Integer,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> units (unit_id));
diesel::joinable!(pool_entries -> cadres (cadre_id));
diesel::joinable!(pool_moves -> pool_entries (entry_id));
diesel::joinable!(pool_approvals -> pool_entries (entry_id));
diesel::joinable!(evaluation_ratings -> evaluation_cycles (cycle_id));
diesel::joinable!(suggestion_cosigners -> suggestions (suggestion_id));
diesel::joinable!(suggestion_cosigners -> cadres (cadre_id));
diesel::joinable!(suggestion_supplements -> suggestions (suggestion_id));
diesel::joinable!(suggestion_presentations -> suggestions (suggestion_id));
diesel::joinable!(instructions -> suggestions (suggestion_id));
diesel::joinable!(assignments -> suggestions (suggestion_id));
diesel::joinable!(assignments -> units (unit_id));
diesel::joinable!(assignment_progress -> assignments (assignment_id));
diesel::joinable!(assignment_requests -> assignments (assignment_id));
diesel::joinable!(suggestion_ratings -> suggestions (suggestion_id));
diesel::joinable!(pairings -> terms (term_id));
diesel::joinable!(pairings -> cadres (cadre_id));
diesel::joinable!(campaigns -> terms (term_id));
diesel::joinable!(talk_pairings -> talks (talk_id));
diesel::joinable!(talk_pairings -> pairings (pairing_id));
diesel::joinable!(talk_notes -> talks (talk_id));
diesel::joinable!(follow_ups -> talks (talk_id));
diesel::joinable!(meetings -> units (unit_id));
diesel::joinable!(agenda_items -> meetings (meeting_id));
diesel::joinable!(agenda_item_tags -> agenda_items (agenda_item_id));
diesel::joinable!(invitations -> meetings (meeting_id));
diesel::joinable!(invitations -> cadres (cadre_id));
diesel::joinable!(opinions -> agenda_items (agenda_item_id));
diesel::joinable!(opinions -> cadres (cadre_id));
diesel::joinable!(cadres -> units (unit_id));
diesel::joinable!(cadre_tags -> cadres (cadre_id));
diesel::joinable!(cadre_records -> cadres (cadre_id));
diesel::joinable!(profile_corrections -> cadres (cadre_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    users,
    user_roles,
    sessions,
    refresh_tokens,
    login_throttle,
    audit_events,
    audit_chain,
    cadres,
    cadre_search,
    cadre_search_by_name,
    cadre_tags,
    cadre_tallies,
    cadre_records,
    profile_corrections,
    meetings,
    agenda_items,
    agenda_item_tags,
    invitations,
    opinions,
    notifications,
    terms,
    pairings,
    campaigns,
    talks,
    talk_pairings,
    talk_notes,
    follow_ups,
    suggestions,
    suggestion_cosigners,
    suggestion_supplements,
    suggestion_presentations,
    instructions,
    assignments,
    assignment_progress,
    assignment_requests,
    suggestion_ratings,
    pool_entries,
    pool_moves,
    pool_approvals,
    cultivations,
    recommendations,
    appointments,
    assessments,
    evaluation_cycles,
    evaluation_ratings,
    appointment_targets,
);
