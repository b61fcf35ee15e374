//! The `socialgate` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use socialgate::config::Config;
use socialgate::db::{Db, migrate};
use socialgate::{admin, telemetry};

#[derive(Parser)]
#[command(
    name = "socialgate",
    version,
    about = "Self-hostable social publishing backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Refuse to start without an explicit SOCIALGATE_SECRET_KEY.
        #[arg(long)]
        production: bool,
    },
    /// Run only the publishing worker (several may share one PostgreSQL database).
    Worker {
        /// Refuse to start without an explicit SOCIALGATE_SECRET_KEY.
        #[arg(long)]
        production: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Provisioning commands; each prints one JSON object.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
#[allow(clippy::enum_variant_names)] // the names are the commands: create-user, create-api-key, …
enum AdminCommand {
    /// Create a user who becomes admin of the organization (created if it does not exist).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: Option<String>,
        /// Organization name (default: a new organization named after the user).
        #[arg(long)]
        org: Option<String>,
    },
    /// Register an OAuth app; its client secret is printed only this once.
    CreateOauthApp {
        /// Organization id or name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// A redirect URL (repeat for several).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE required).
        #[arg(long)]
        public: bool,
    },
    /// Store an organization's app credentials for a social network (sealed).
    SetProviderCredentials {
        /// Organization id or name.
        #[arg(long)]
        org: String,
        /// Provider identifier, e.g. x or mastodon.
        #[arg(long)]
        provider: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        client_secret: String,
        #[arg(long)]
        redirect_uri: Option<String>,
        /// Mastodon: the instance, e.g. https://mastodon.social.
        #[arg(long)]
        instance_url: Option<String>,
    },
    /// Move every encrypted value to a new master key.
    RotateSecretKey {
        /// The new key (base64 of 32 bytes); required when SOCIALGATE_SECRET_KEY is set.
        #[arg(long)]
        new_key: Option<String>,
    },
    /// Create an organization API key; it is printed only this once.
    CreateApiKey {
        /// Organization id or name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Copy the live SQLite database into FILE (a consistent snapshot; the server may run).
    Backup { file: std::path::PathBuf },
    /// Replace the SQLite database with the backup FILE (refused while a server or worker runs).
    Restore { file: std::path::PathBuf },
}

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// Why an admin command should not run here: an SQLite database that does not exist.
fn missing_database(config: &Config) -> Option<String> {
    if config.db_backend != socialgate::config::DbBackend::Sqlite {
        return None;
    }
    let path = std::path::Path::new(socialgate::config::sqlite_path(&config.database_url));
    if path.exists() {
        return None;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    Some(format!(
        "no database at {} (DATABASE_URL={}, working directory {}, SOCIALGATE_DATA_DIR {}). Run the \
         command where the server runs, or set DATABASE_URL and SOCIALGATE_DATA_DIR to its \
         database and data directory. Nothing was written.",
        cwd.join(path).display(),
        config.database_url,
        cwd.display(),
        config.data_dir.display()
    ))
}

/// glibc gives threads that allocate at the same time arenas of their own (up to eight per
/// core) and hands their freed pages back to the system only now and then: under the soak's
/// load, resident memory on SQLite kept rising (194 to 248 MiB over 12 minutes) where with two
/// arenas it stays flat at about 125 MiB. `MALLOC_ARENA_MAX` in the environment still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: the first thing `main` does, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(e, 2),
    };
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| telemetry::DEFAULT_FILTER.to_owned());
    // Lines are written by a thread of their own, off the request path; what is still queued
    // is written when `_log` is dropped at the end of `main`.
    let (writer, _log) = telemetry::off_the_request_path(std::io::stderr());
    telemetry::init(config.log_format, &filter, writer);
    let code = command(cli, config);
    telemetry::flush();
    code
}

fn command(cli: Cli, config: Config) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve { production: false }) {
        Command::Serve { production } => {
            let runtime = actix_web::rt::System::new();
            match runtime.block_on(socialgate::run(config, production)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e, 1),
            }
        }
        Command::Worker { production } => {
            let runtime = actix_web::rt::System::new();
            match runtime.block_on(socialgate::run_worker(config, production)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e, 1),
            }
        }
        Command::Migrate => {
            match Db::connect_one(&config.database_url).and_then(|mut c| migrate(&mut c)) {
                Ok(n) => {
                    println!("{}", serde_json::json!({ "applied": n }));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e, 1),
            }
        }
        Command::Admin(AdminCommand::Restore { file }) => {
            if config.db_backend != socialgate::config::DbBackend::Sqlite {
                return fail(
                    "restore replaces SQLite databases; for PostgreSQL use pg_restore (see the README)",
                    1,
                );
            }
            match socialgate::db::backup::restore(&config.database_url, &file) {
                Ok(()) => {
                    println!(
                        "{}",
                        serde_json::json!({
                            "restored": socialgate::config::sqlite_path(&config.database_url),
                            "from": file,
                        })
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e, 1),
            }
        }
        Command::Admin(AdminCommand::Backup { file }) => {
            if let Some(missing) = missing_database(&config) {
                return fail(missing, 1);
            }
            let copied = Db::connect_one(&config.database_url)
                .and_then(|mut c| socialgate::db::backup::backup(&mut c, &file));
            match copied {
                Ok(bytes) => {
                    let key = match config.secret_key {
                        Some(_) => "SOCIALGATE_SECRET_KEY".to_owned(),
                        None => config.data_dir.join("secret.key").display().to_string(),
                    };
                    println!(
                        "{}",
                        serde_json::json!({
                            "backup": file,
                            "bytes": bytes,
                            "also_keep": [key, config.data_dir.join("uploads").display().to_string()],
                        })
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e, 1),
            }
        }
        Command::Admin(command) => {
            // Only `create-user` may start a new installation; any other command finding no
            // database is run from the wrong place, and must not leave a new one there.
            if !matches!(command, AdminCommand::CreateUser { .. })
                && let Some(missing) = missing_database(&config)
            {
                return fail(missing, 1);
            }
            let mut conn = match Db::connect_one(&config.database_url)
                .and_then(|mut c| migrate(&mut c).map(|_| c))
            {
                Ok(conn) => conn,
                Err(e) => return fail(e, 1),
            };
            let result = match command {
                AdminCommand::CreateUser {
                    email,
                    password,
                    name,
                    org,
                } => admin::create_user(
                    &mut conn,
                    &email,
                    &password,
                    name.as_deref(),
                    org.as_deref(),
                ),
                AdminCommand::CreateOauthApp {
                    org,
                    name,
                    redirect_uris,
                    public,
                } => admin::create_oauth_app(&mut conn, &org, &name, &redirect_uris, public),
                AdminCommand::CreateApiKey { org, name } => {
                    admin::create_api_key(&mut conn, &org, name.as_deref())
                }
                AdminCommand::SetProviderCredentials {
                    org,
                    provider,
                    client_id,
                    client_secret,
                    redirect_uri,
                    instance_url,
                } => admin::keys(&config, &mut conn).and_then(|keys| {
                    admin::set_provider_credentials(
                        &mut conn,
                        &keys,
                        &org,
                        &provider,
                        &client_id,
                        &client_secret,
                        redirect_uri.as_deref(),
                        instance_url.as_deref(),
                    )
                }),
                AdminCommand::RotateSecretKey { new_key } => {
                    let new_key = match new_key.map(|k| socialgate::config::decode_key(&k)) {
                        Some(None) => {
                            return fail("--new-key is not base64 of exactly 32 bytes", 2);
                        }
                        Some(Some(k)) => Some(k),
                        None => None,
                    };
                    admin::rotate_secret_key(&mut conn, &config, new_key)
                }
                // Answered above, before any connection.
                AdminCommand::Backup { .. } | AdminCommand::Restore { .. } => unreachable!(),
            };
            match result {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e, 1),
            }
        }
    }
}
