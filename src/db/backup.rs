//! Backups of an SQLite database while it serves, and restores that refuse to pull a database
//! from under a running server. Every server and worker holds a shared lock on `<db>.lock`;
//! a restore needs it exclusively. (PostgreSQL: `pg_dump`, see the README.)

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;

use super::{DbConn, DbError, sqlite_path};

/// The lock file beside an SQLite database.
fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock(db: &Path) -> Result<File, DbError> {
    let path = lock_path(db);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| DbError::Connect(format!("cannot open {}: {e}", path.display())))
}

/// What a server or worker holds while it uses the SQLite database at `url`.
pub fn hold(url: &str) -> Result<File, DbError> {
    let db = Path::new(sqlite_path(url));
    let lock = open_lock(db)?;
    lock.try_lock_shared().map_err(|_| {
        DbError::Connect(format!(
            "{} is being restored; start again when the restore has finished",
            db.display()
        ))
    })?;
    Ok(lock)
}

/// Copies the live database into `dest` (a consistent snapshot, `VACUUM INTO`); its size.
pub fn backup(conn: &mut DbConn, dest: &Path) -> Result<u64, DbError> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Err(DbError::Url(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see the README)".into(),
        ));
    }
    if dest.exists() {
        return Err(DbError::Connect(format!(
            "{} exists already; name a new file",
            dest.display()
        )));
    }
    let target = dest.to_string_lossy().replace('\'', "''");
    conn.batch_execute(&format!("VACUUM INTO '{target}'"))?;
    std::fs::metadata(dest)
        .map(|m| m.len())
        .map_err(|e| DbError::Connect(format!("{}: {e}", dest.display())))
}

/// Replaces the SQLite database at `url` with the backup `src`, unless a server or worker
/// holds it. The backup is checked to be one of ours first.
pub fn restore(url: &str, src: &Path) -> Result<(), DbError> {
    let db = Path::new(sqlite_path(url));
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbError::Connect(format!("cannot create {}: {e}", dir.display())))?;
    }
    let lock = open_lock(db)?;
    lock.try_lock().map_err(|_| {
        DbError::Connect(format!(
            "a running socialgate (server or worker) holds {}: stop it before restoring",
            db.display()
        ))
    })?;
    let mut check = super::Db::connect_one(&format!("sqlite://{}", src.display()))?;
    let ours: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM sqlite_master WHERE name = '__diesel_schema_migrations')",
    ))
    .get_result(&mut check)
    .map_err(|_| DbError::Connect(format!("{} is not an SQLite database", src.display())))?;
    drop(check);
    if ours == 0 {
        return Err(DbError::Connect(format!(
            "{} is not a socialgate backup",
            src.display()
        )));
    }
    let staged = lock_path(db).with_extension("restoring");
    std::fs::copy(src, &staged)
        .and_then(|_| File::open(&staged)?.sync_all())
        .and_then(|_| std::fs::rename(&staged, db))
        .map_err(|e| DbError::Connect(format!("cannot restore into {}: {e}", db.display())))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    drop(lock);
    Ok(())
}
