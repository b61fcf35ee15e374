//! The one portable schema (Text ids, Timestamp in UTC, Bool, Binary, Integer, BigInt).
//! Both migration folders must produce exactly these tables; a test checks it.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    members (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        organization_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        key_hash -> Text,
        key_prefix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    auth_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
    }
}

diesel::joinable!(members -> organizations (organization_id));
diesel::joinable!(members -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_keys -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    organizations,
    members,
    sessions,
    api_keys,
    auth_throttle
);
