//! The command line as a provisioning script uses it.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_on, test_database};

/// Provisions ops@example.com, admin of Acme.
pub const CREATE_OPS: [&str; 8] = [
    "admin",
    "create-user",
    "--email",
    "ops@example.com",
    "--password",
    "provisioned pw",
    "--org",
    "Acme",
];

pub fn socialgate(
    dir: &std::path::Path,
    database_url: &str,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_socialgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("SOCIALGATE_DATA_DIR", dir.join("data"))
        .output()
        .unwrap()
}

#[actix_web::test]
async fn admin_commands_provision_a_user_and_a_working_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path());
    let out = socialgate(dir.path(), &db.url, &CREATE_OPS);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user: Value = serde_json::from_slice(&out.stdout).unwrap();
    let org_id = user["organization_id"].as_str().unwrap().to_owned();
    assert!(user["user_id"].is_string());

    // A second user joins the same organization by name.
    let out = socialgate(
        dir.path(),
        &db.url,
        &[
            "admin",
            "create-user",
            "--email",
            "ops2@example.com",
            "--password",
            "provisioned pw",
            "--org",
            "Acme",
        ],
    );
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second["organization_id"], json!(org_id));

    let out = socialgate(
        dir.path(),
        &db.url,
        &["admin", "create-api-key", "--org", "Acme", "--name", "ci"],
    );
    assert!(
        out.status.success(),
        "exit {:?}: {} {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let key: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let out = socialgate(
        dir.path(),
        &db.url,
        &["admin", "create-api-key", "--org", &org_id],
    );
    assert!(out.status.success());

    let app = spawn_on(dir, db.url.clone(), db.pg, &[]).await;
    assert_eq!(
        app.is_connected(Some(&key)).await,
        (StatusCode::OK, json!({"connected": true}))
    );
    assert_eq!(
        app.is_connected(Some(&format!("Bearer {key}"))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.is_connected(Some("sgk_nope")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The provisioned user signs in with the password given on the command line.
    let r = app
        .sign_in(
            &crate::helpers::client(),
            "ops@example.com",
            "provisioned pw",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[test]
fn admin_errors_are_clear_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let ok = socialgate(
        dir.path(),
        &url,
        &[
            "admin",
            "create-user",
            "--email",
            "x@example.com",
            "--password",
            "12345678",
        ],
    );
    assert!(ok.status.success());
    let dup = socialgate(
        dir.path(),
        &url,
        &[
            "admin",
            "create-user",
            "--email",
            "X@example.com",
            "--password",
            "12345678",
        ],
    );
    assert_eq!(dup.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    assert!(dup.stdout.is_empty());
    let short = socialgate(
        dir.path(),
        &url,
        &[
            "admin",
            "create-user",
            "--email",
            "y@example.com",
            "--password",
            "short",
        ],
    );
    assert_eq!(short.status.code(), Some(1));
    let nokey = socialgate(
        dir.path(),
        &url,
        &["admin", "create-api-key", "--org", "Nope"],
    );
    assert_eq!(nokey.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nokey.stderr).contains("no organization"));
}

#[test]
fn a_mistyped_postgres_url_is_a_clear_error_and_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["migrate"][..],
        &["serve"][..],
        &["admin", "create-api-key", "--org", "x"][..],
    ] {
        let out = socialgate(dir.path(), "postgresql:typo", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file was created"
    );
}

#[test]
fn invalid_configuration_names_the_variable_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_socialgate"))
        .arg("migrate")
        .current_dir(dir.path())
        .env_clear()
        .env("SOCIALGATE_LISTEN", "not an address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOCIALGATE_LISTEN"));
}

#[test]
fn production_refuses_to_start_without_an_explicit_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = socialgate(dir.path(), &url, &["serve", "--production"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOCIALGATE_SECRET_KEY"));
    assert!(!dir.path().join("data/secret.key").exists());
}

#[test]
fn an_admin_command_run_from_the_wrong_directory_writes_nothing_and_says_where_it_looked() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_socialgate"))
        .args(["admin", "create-api-key", "--org", "Acme"])
        .current_dir(elsewhere.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no database at"), "{said}");
    assert!(
        said.contains("DATABASE_URL=sqlite://./data/socialgate.db"),
        "{said}"
    );
    assert!(said.contains("SOCIALGATE_DATA_DIR"), "{said}");
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none(),
        "nothing was written"
    );
}
