// Diesel table definitions, matching migrations/. Generated columns (`holder_must_be_active`, `can_hold`)
// are left out on purpose: PostgreSQL computes them and they must never be written.

diesel::table! {
    municipalities (number) {
        number -> Text,
        name -> Text,
        self_consent_age -> Int2,
        level0_deadline_days -> Int4,
        consent_validity_months -> Int4,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        inquiry_attention_days -> Int4,
        retention_years -> Int2,
        purge_unarchived -> Bool,
        survey_retention_years -> Int2,
    }
}

diesel::table! {
    services (id) {
        id -> Uuid,
        municipality -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        org_number -> Nullable<Text>,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_address -> Nullable<Text>,
        contact_web -> Nullable<Text>,
    }
}

diesel::table! {
    level_definitions (municipality, level) {
        municipality -> Text,
        level -> Int2,
        name -> Text,
        description -> Text,
        guidance -> Text,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    cases (id) {
        id -> Uuid,
        municipality -> Text,
        subject_kind -> Text,
        subject_given_name -> Text,
        subject_family_name -> Text,
        subject_birth_date -> Nullable<Date>,
        subject_national_id_enc -> Nullable<Bytea>,
        subject_national_id_hash -> Nullable<Bytea>,
        concern -> Text,
        status -> Text,
        level -> Int2,
        opened_in_service -> Text,
        holder_participant_id -> Uuid,
        decision_due -> Nullable<Date>,
        opened_at -> Timestamptz,
        opened_by -> Text,
        closed_at -> Nullable<Timestamptz>,
        close_reason -> Nullable<Text>,
        close_note -> Nullable<Text>,
        version -> Int4,
        updated_at -> Timestamptz,
        guide_version -> Nullable<Int4>,
        guide_step_key -> Nullable<Text>,
        guide_step_title -> Nullable<Text>,
        guide_next_key -> Nullable<Text>,
        guide_next_title -> Nullable<Text>,
        purged_at -> Nullable<Timestamptz>,
        archived_system -> Nullable<Text>,
        archived_reference -> Nullable<Text>,
        archived_on -> Nullable<Date>,
        archived_by -> Nullable<Text>,
        reopened_on -> Nullable<Date>,
    }
}

diesel::table! {
    case_participants (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        name -> Text,
        user_id -> Nullable<Text>,
        service -> Nullable<Text>,
        title -> Nullable<Text>,
        relation -> Nullable<Text>,
        parental_responsibility -> Nullable<Bool>,
        national_id_enc -> Nullable<Bytea>,
        national_id_hash -> Nullable<Bytea>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        role -> Nullable<Text>,
        active -> Bool,
        joined_at -> Timestamptz,
        left_at -> Nullable<Timestamptz>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    case_external_refs (municipality, system, ref_id) {
        municipality -> Text,
        system -> Text,
        ref_id -> Text,
        case_id -> Uuid,
    }
}

diesel::table! {
    access_events (id) {
        id -> Int8,
        municipality -> Text,
        case_id -> Uuid,
        actor_user_id -> Text,
        actor_name -> Text,
        actor_role -> Text,
        action -> Text,
        resource -> Text,
        request_id -> Text,
        at -> Timestamptz,
        basis -> Text,
    }
}

diesel::table! {
    consents (id) {
        id -> Uuid,
        case_id -> Uuid,
        purpose -> Text,
        valid_from -> Date,
        valid_until -> Date,
        form -> Text,
        document_ref -> Nullable<Text>,
        supersedes -> Nullable<Uuid>,
        superseded_by -> Nullable<Uuid>,
        superseded_at -> Nullable<Timestamptz>,
        recorded_by_user -> Text,
        recorded_by_name -> Text,
        recorded_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
        withdrawn_by_participant -> Nullable<Uuid>,
        withdrawal_reason -> Nullable<Text>,
    }
}

diesel::table! {
    consent_givers (consent_id, participant_id) {
        consent_id -> Uuid,
        participant_id -> Uuid,
        case_id -> Uuid,
        signed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    consent_services (consent_id, service) {
        consent_id -> Uuid,
        service -> Text,
    }
}

diesel::table! {
    measures (id) {
        id -> Uuid,
        case_id -> Uuid,
        title -> Text,
        goal -> Text,
        description -> Nullable<Text>,
        responsible_kind -> Text,
        responsible_service -> Nullable<Text>,
        responsible_participant_id -> Nullable<Uuid>,
        start_date -> Date,
        evaluate_by -> Date,
        state -> Text,
        created_by_user -> Text,
        created_at -> Timestamptz,
        version -> Int4,
        updated_at -> Timestamptz,
        plan_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Uuid,
        measure_id -> Uuid,
        case_id -> Uuid,
        evaluated_on -> Date,
        evaluated_by_participant -> Uuid,
        evaluated_by_name -> Text,
        assessment -> Text,
        child_view -> Nullable<Text>,
        outcome -> Text,
        next_evaluate_by -> Nullable<Date>,
        recorded_at -> Timestamptz,
        due_on -> Nullable<Date>,
    }
}

diesel::table! {
    level0_decisions (id) {
        id -> Uuid,
        municipality -> Text,
        case_id -> Uuid,
        period_started_at -> Timestamptz,
        outcome -> Text,
        decided_on -> Date,
        note -> Nullable<Text>,
        service -> Text,
        recorded_at -> Timestamptz,
        recorded_by_participant -> Uuid,
        recorded_by_name -> Text,
    }
}

diesel::table! {
    level_changes (id) {
        id -> Uuid,
        case_id -> Uuid,
        from_level -> Int2,
        to_level -> Int2,
        reason -> Text,
        decided_on -> Date,
        recorded_at -> Timestamptz,
        recorded_by_participant -> Uuid,
        recorded_by_name -> Text,
    }
}

diesel::table! {
    log_entries (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        occurred_at -> Timestamptz,
        title -> Nullable<Text>,
        body -> Text,
        attendees -> Array<Uuid>,
        decisions -> Nullable<Text>,
        next_meeting -> Nullable<Timestamptz>,
        corrects -> Nullable<Uuid>,
        author_participant_id -> Uuid,
        author_name -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    handovers (id) {
        id -> Uuid,
        case_id -> Uuid,
        from_participant_id -> Uuid,
        from_user_id -> Text,
        to_user_id -> Text,
        to_name -> Text,
        to_service -> Text,
        reason -> Text,
        note -> Nullable<Text>,
        answer_by -> Nullable<Date>,
        previous_holder_leaves -> Bool,
        state -> Text,
        proposed_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
        answered_by_user -> Nullable<Text>,
        answer_reason -> Nullable<Text>,
    }
}

diesel::table! {
    participant_external_refs (municipality, system, ref_id) {
        municipality -> Text,
        system -> Text,
        ref_id -> Text,
        participant_id -> Uuid,
    }
}

diesel::table! {
    change_events (municipality, seq) {
        seq -> Int8,
        municipality -> Text,
        case_id -> Uuid,
        #[sql_name = "type"]
        event_type -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (tenant, subject, key) {
        tenant -> Text,
        subject -> Text,
        key -> Text,
        fingerprint -> Bytea,
        state -> Text,
        claim -> Uuid,
        created_at -> Timestamptz,
        locked_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        response_status -> Nullable<Int2>,
        response_headers -> Nullable<Jsonb>,
        response_body -> Nullable<Bytea>,
    }
}

diesel::table! {
    inquiries (id) {
        id -> Uuid,
        municipality -> Text,
        service -> Text,
        about -> Text,
        wants -> Text,
        status -> Text,
        inquirer_user_id -> Text,
        inquirer_name -> Text,
        inquirer_role -> Text,
        inquirer_pid_enc -> Bytea,
        inquirer_pid_hash -> Bytea,
        child_given_name -> Nullable<Text>,
        child_birth_date -> Nullable<Date>,
        child_national_id_enc -> Nullable<Bytea>,
        child_national_id_hash -> Nullable<Bytea>,
        message -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        case_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        erased_at -> Nullable<Timestamptz>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inquiry_answers (id) {
        id -> Uuid,
        inquiry_id -> Uuid,
        municipality -> Text,
        at -> Timestamptz,
        by_user_id -> Text,
        by_name -> Text,
        message -> Nullable<Text>,
    }
}

diesel::table! {
    inquiry_access_events (id) {
        id -> Int8,
        municipality -> Text,
        inquiry_id -> Uuid,
        actor_user_id -> Text,
        actor_name -> Text,
        actor_role -> Text,
        action -> Text,
        request_id -> Text,
        at -> Timestamptz,
    }
}

diesel::joinable!(case_participants -> cases (case_id));
diesel::joinable!(level0_decisions -> cases (case_id));
diesel::joinable!(services -> municipalities (municipality));
diesel::joinable!(level_definitions -> municipalities (municipality));

diesel::table! {
    guide_drafts (municipality) {
        municipality -> Text,
        document -> Jsonb,
        version -> Int4,
        updated_at -> Timestamptz,
        updated_by -> Text,
    }
}

diesel::table! {
    guide_versions (municipality, number) {
        municipality -> Text,
        number -> Int4,
        document -> Jsonb,
        published_at -> Timestamptz,
        published_by -> Text,
    }
}

diesel::table! {
    case_step_moves (id) {
        id -> Uuid,
        case_id -> Uuid,
        guide_version -> Int4,
        level -> Int2,
        step_key -> Text,
        step_title -> Text,
        note -> Nullable<Text>,
        recorded_at -> Timestamptz,
        recorded_by_participant -> Uuid,
        recorded_by_name -> Text,
    }
}

diesel::joinable!(case_step_moves -> cases (case_id));

diesel::table! {
    holder_reassignments (id) {
        id -> Uuid,
        case_id -> Uuid,
        municipality -> Text,
        from_participant_id -> Uuid,
        to_participant_id -> Uuid,
        to_name -> Text,
        to_service -> Text,
        reason -> Text,
        note -> Nullable<Text>,
        by_user_id -> Text,
        by_name -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    notification_settings (municipality, user_id) {
        municipality -> Text,
        user_id -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        email_on -> Bool,
        sms_on -> Bool,
        roles -> Array<Text>,
        services -> Array<Text>,
        pid_hash -> Nullable<Bytea>,
        updated_at -> Timestamptz,
        surveys_on -> Bool,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        municipality -> Text,
        user_id -> Text,
        event -> Text,
        channel -> Text,
        case_id -> Nullable<Uuid>,
        subject_id -> Nullable<Uuid>,
        state -> Text,
        reason -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        dedup_key -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        municipality -> Text,
        owner_user_id -> Text,
        services -> Array<Text>,
        url -> Text,
        events -> Array<Text>,
        secret_enc -> Bytea,
        state -> Text,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        webhook_id -> Uuid,
        municipality -> Text,
        seq -> Nullable<Int8>,
        #[sql_name = "type"]
        delivery_type -> Text,
        case_id -> Nullable<Uuid>,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::table! {
    plans (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        owner_service -> Text,
        coordinator_participant_id -> Nullable<Uuid>,
        state -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        goals -> Array<Text>,
        end_reason -> Nullable<Text>,
        created_by_user -> Text,
        created_at -> Timestamptz,
        activated_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    plan_members (plan_id, participant_id) {
        plan_id -> Uuid,
        case_id -> Uuid,
        participant_id -> Uuid,
        role -> Nullable<Text>,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    meetings (id) {
        id -> Uuid,
        case_id -> Uuid,
        kind -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        place -> Nullable<Text>,
        agenda -> Nullable<Text>,
        state -> Text,
        minutes_entry_id -> Nullable<Uuid>,
        cancel_reason -> Nullable<Text>,
        created_by_user -> Text,
        created_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
        sequence -> Int4,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    meeting_invitees (meeting_id, participant_id) {
        meeting_id -> Uuid,
        case_id -> Uuid,
        participant_id -> Uuid,
        response -> Text,
        responded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    calendar_feeds (municipality, user_id) {
        municipality -> Text,
        user_id -> Text,
        name -> Text,
        roles -> Array<Text>,
        services -> Array<Text>,
        pid_hash -> Nullable<Bytea>,
        secret_hash -> Bytea,
        include_place -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    consultations (id) {
        id -> Uuid,
        municipality -> Text,
        from_service -> Text,
        asked_by -> Text,
        to_service -> Text,
        question -> Text,
        age_group -> Nullable<Text>,
        asked_at -> Timestamptz,
        last_answer_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    consultation_answers (id) {
        id -> Uuid,
        consultation_id -> Uuid,
        municipality -> Text,
        answered_by -> Text,
        text -> Text,
        answered_at -> Timestamptz,
    }
}

diesel::table! {
    surveys (id) {
        id -> Uuid,
        municipality -> Text,
        title -> Text,
        opens_on -> Date,
        closes_on -> Date,
        by_service -> Bool,
        closed_early_on -> Nullable<Date>,
        reduced_on -> Nullable<Date>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    survey_questions (survey_id, key) {
        survey_id -> Uuid,
        municipality -> Text,
        position -> Int2,
        key -> Text,
        text_nb -> Text,
        text_nn -> Nullable<Text>,
        kind -> Text,
    }
}

diesel::table! {
    survey_respondents (survey_id, respondent) {
        survey_id -> Uuid,
        municipality -> Text,
        respondent -> Bytea,
    }
}

diesel::table! {
    /// No primary key in the database: one row per (survey, service kind, service), the service NULL for
    /// the kind's own row (`UNIQUE NULLS NOT DISTINCT`).
    survey_tallies (survey_id, service_kind) {
        survey_id -> Uuid,
        municipality -> Text,
        service_kind -> Text,
        service -> Nullable<Text>,
        answers -> Int4,
        counts -> Jsonb,
    }
}

diesel::joinable!(survey_questions -> surveys (survey_id));
diesel::joinable!(consultation_answers -> consultations (consultation_id));
diesel::joinable!(plan_members -> plans (plan_id));
diesel::joinable!(meeting_invitees -> meetings (meeting_id));

diesel::table! {
    case_closures (id) {
        id -> Uuid,
        case_id -> Uuid,
        municipality -> Text,
        closed_at -> Timestamptz,
        close_reason -> Text,
        reopened_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    municipalities,
    case_closures,
    level0_decisions,
    services,
    level_definitions,
    cases,
    case_participants,
    case_external_refs,
    access_events,
    consents,
    consent_givers,
    consent_services,
    measures,
    evaluations,
    level_changes,
    log_entries,
    handovers,
    participant_external_refs,
    change_events,
    idempotency_keys,
    inquiries,
    inquiry_answers,
    inquiry_access_events,
    guide_drafts,
    guide_versions,
    case_step_moves,
    notification_settings,
    notifications,
    webhooks,
    webhook_deliveries,
    plans,
    plan_members,
    meetings,
    meeting_invitees,
    calendar_feeds,
    consultations,
    consultation_answers,
    surveys,
    survey_questions,
    survey_respondents,
    survey_tallies,
);
