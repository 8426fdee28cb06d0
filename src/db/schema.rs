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
    }
}

diesel::joinable!(case_participants -> cases (case_id));
diesel::joinable!(services -> municipalities (municipality));
diesel::joinable!(level_definitions -> municipalities (municipality));

diesel::allow_tables_to_appear_in_same_query!(
    municipalities,
    services,
    level_definitions,
    cases,
    case_participants,
    case_external_refs,
    access_events,
);
