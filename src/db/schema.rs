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

diesel::table! {
    master_key (id) {
        id -> Text,
        check_value -> Text,
        bound_at -> Timestamp,
    }
}

diesel::table! {
    oauth_apps (id) {
        id -> Text,
        organization_id -> Nullable<Text>,
        client_id -> Text,
        client_secret_hash -> Nullable<Text>,
        name -> Text,
        description -> Text,
        picture_url -> Nullable<Text>,
        picture_type -> Nullable<Text>,
        picture_data -> Nullable<Binary>,
        redirect_uris -> Text,
        first_party -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        dynamic -> Bool,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Text,
        app_id -> Text,
        user_id -> Text,
        organization_id -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_device_codes (id) {
        id -> Text,
        device_code_hash -> Text,
        user_code_hash -> Text,
        app_id -> Text,
        scopes -> Text,
        status -> Text,
        grant_id -> Nullable<Text>,
        interval_seconds -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_polled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_requests (id) {
        id -> Text,
        session_id -> Text,
        app_id -> Text,
        redirect_uri -> Nullable<Text>,
        redirect_uri_sent -> Bool,
        state -> Nullable<Text>,
        scopes -> Text,
        code_challenge -> Nullable<Text>,
        device_code_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        resource -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_codes (id) {
        id -> Text,
        code_hash -> Text,
        grant_id -> Text,
        app_id -> Text,
        user_id -> Text,
        organization_id -> Text,
        scopes -> Text,
        redirect_uri -> Text,
        redirect_uri_sent -> Bool,
        code_challenge -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
        resource -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_tokens (id) {
        id -> Text,
        token_hash -> Text,
        grant_id -> Text,
        app_id -> Text,
        user_id -> Text,
        organization_id -> Text,
        scopes -> Text,
        code_id -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        resource -> Nullable<Text>,
    }
}

diesel::joinable!(oauth_grants -> oauth_apps (app_id));
diesel::joinable!(oauth_grants -> organizations (organization_id));
diesel::joinable!(oauth_tokens -> oauth_grants (grant_id));
diesel::joinable!(oauth_codes -> oauth_grants (grant_id));
diesel::joinable!(oauth_requests -> oauth_apps (app_id));

diesel::table! {
    customers (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    integrations (id) {
        id -> Text,
        organization_id -> Text,
        internal_id -> Text,
        provider -> Text,
        name -> Text,
        picture -> Nullable<Text>,
        profile -> Nullable<Text>,
        access_token -> Text,
        refresh_token -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamp>,
        instance_url -> Nullable<Text>,
        disabled -> Bool,
        refresh_needed -> Bool,
        in_between_steps -> Bool,
        posting_times -> Text,
        customer_id -> Nullable<Text>,
        additional_settings -> Text,
        root_internal_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        expiry_warned_at -> Nullable<Timestamp>,
        refresh_expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    provider_credentials (organization_id, provider) {
        organization_id -> Text,
        provider -> Text,
        client_id -> Text,
        client_secret -> Text,
        redirect_uri -> Nullable<Text>,
        instance_url -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    connect_states (state_hash) {
        state_hash -> Text,
        organization_id -> Text,
        provider -> Text,
        secret -> Nullable<Text>,
        refresh_integration_id -> Nullable<Text>,
        return_url -> Nullable<Text>,
        started_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sandbox_posts (id) {
        id -> Text,
        organization_id -> Text,
        account_id -> Text,
        text -> Text,
        media -> Text,
        reply_to -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(integrations -> customers (customer_id));

diesel::table! {
    posts (id) {
        id -> Text,
        organization_id -> Text,
        integration_id -> Text,
        group_id -> Text,
        parent_post_id -> Nullable<Text>,
        position -> Integer,
        content -> Text,
        image -> Text,
        settings -> Text,
        tags -> Text,
        publish_date -> Timestamp,
        state -> Text,
        delay_minutes -> Integer,
        interval_days -> Nullable<Integer>,
        release_id -> Nullable<Text>,
        release_url -> Nullable<Text>,
        release_reference -> Nullable<Text>,
        error -> Nullable<Text>,
        creation_method -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    media (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        original_name -> Nullable<Text>,
        path -> Text,
        storage_key -> Text,
        content_type -> Text,
        size -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        organization_id -> Text,
        content -> Text,
        link -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_rate (key) {
        key -> Text,
        window_started_at -> Timestamp,
        count -> Integer,
    }
}

diesel::table! {
    idempotency_keys (key_hash) {
        key_hash -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        response -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    analytics_cache (key) {
        key -> Text,
        body -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(posts -> integrations (integration_id));

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        subject_id -> Text,
        queue -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        url -> Text,
        channels -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        response_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    organizations,
    members,
    sessions,
    api_keys,
    auth_throttle,
    master_key,
    oauth_apps,
    oauth_grants,
    oauth_device_codes,
    oauth_requests,
    oauth_codes,
    oauth_tokens,
    customers,
    integrations,
    provider_credentials,
    connect_states,
    sandbox_posts,
    posts,
    media,
    notifications,
    api_rate,
    idempotency_keys,
    analytics_cache,
    jobs,
    webhooks,
    webhook_deliveries,
);
