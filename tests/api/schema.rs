//! Both migration sets must build exactly the tables, columns, types and nullability of `schema.rs`,
//! and the same primary keys, unique constraints, indexes and foreign keys as each other.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};
use socialgate::db::{DbConn, migrate};

/// table → column → (portable type, nullable)
type Shape = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// Reads the `diesel::table!` blocks of schema.rs.
fn declared() -> Shape {
    let source = include_str!("../../src/db/schema.rs");
    let mut shape = Shape::new();
    for block in source.split("diesel::table! {").skip(1) {
        let block = &block[..block.find("\n}").unwrap()];
        let header = block.trim_start();
        let table = header.split_whitespace().next().unwrap().to_owned();
        let body = &block[block.find('{').unwrap() + 1..block.rfind('}').unwrap()];
        let mut columns = BTreeMap::new();
        for line in body.lines().map(str::trim).filter(|l| l.contains("->")) {
            let (name, ty) = line.trim_end_matches(',').split_once("->").unwrap();
            let ty = ty.trim();
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>').to_owned(), true),
                None => (ty.to_owned(), false),
            };
            columns.insert(name.trim().to_owned(), (ty, nullable));
        }
        shape.insert(table, columns);
    }
    assert!(shape.len() >= 6, "schema.rs parsed: {shape:?}");
    shape
}

fn portable(db_type: &str) -> String {
    match db_type.to_ascii_lowercase().as_str() {
        "text" => "Text",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "integer" => "Integer",
        "bigint" => "BigInt",
        "boolean" => "Bool",
        "blob" | "bytea" => "Binary",
        other => panic!("column type {other} is not portable"),
    }
    .to_owned()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text, column_name = "type")]
    ty: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

/// The tables of a migrated SQLite database, as `PRAGMA table_info` reports them.
fn sqlite_shape(c: &mut SqliteConnection) -> Shape {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '__diesel_schema_migrations'",
    )
    .load(c)
    .unwrap();
    let mut actual = Shape::new();
    for t in tables {
        let cols: Vec<SqliteColumn> =
            diesel::sql_query(format!("PRAGMA table_info(\"{}\")", t.name))
                .load(c)
                .unwrap();
        actual.insert(
            t.name,
            cols.into_iter()
                .map(|col| (col.name, (portable(&col.ty), col.notnull == 0)))
                .collect(),
        );
    }
    actual
}

/// The PostgreSQL server of the PostgreSQL pass, if this is that pass.
fn pg_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| crate::helpers::without_tls(&u))
}

/// A new SQLite database in `dir`, migrated by the app's own code.
fn migrated_sqlite(dir: &Path) -> SqliteConnection {
    let path = dir.join("schema.db");
    let mut conn = DbConn::Sqlite(SqliteConnection::establish(path.to_str().unwrap()).unwrap());
    assert!(migrate(&mut conn).unwrap() > 0);
    let DbConn::Sqlite(c) = conn else {
        unreachable!()
    };
    c
}

/// The (empty) PostgreSQL database at `url`, migrated by the app's own code.
fn migrated_postgres(url: &str) -> PgConnection {
    let mut conn = DbConn::Pg(PgConnection::establish(url).unwrap());
    assert!(migrate(&mut conn).unwrap() > 0);
    let DbConn::Pg(c) = conn else { unreachable!() };
    c
}

/// What an index is for. Only a created index has a name both backends share: the indexes behind
/// constraints are named by the database (`sqlite_autoindex_users_1` against `users_email_key`,
/// `users_pkey`), so those compare by table and columns alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    PrimaryKey,
    Unique,
    /// `CREATE [UNIQUE] INDEX name …`
    Index {
        name: String,
        unique: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    table: String,
    kind: Kind,
    /// In index order.
    columns: Vec<String>,
}

impl Index {
    fn is_unique(&self) -> bool {
        !matches!(self.kind, Kind::Index { unique: false, .. })
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (table, columns) = (&self.table, self.columns.join(", "));
        match &self.kind {
            Kind::PrimaryKey => write!(f, "{table}: PRIMARY KEY ({columns})"),
            Kind::Unique => write!(f, "{table}: UNIQUE ({columns})"),
            Kind::Index { name, unique } => {
                let unique = if *unique { "UNIQUE " } else { "" };
                write!(f, "{table}: {unique}INDEX {name} ({columns})")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    table: String,
    columns: Vec<String>,
    referenced_table: String,
    referenced_columns: Vec<String>,
    on_delete: String,
    on_update: String,
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            self.table,
            self.columns.join(", "),
            self.referenced_table,
            self.referenced_columns.join(", "),
            self.on_delete,
            self.on_update
        )
    }
}

/// One column of one index, as both backends' queries below return it. `origin` uses SQLite's
/// words: `pk` for a primary key, `u` for a UNIQUE constraint, `c` for `CREATE INDEX`.
#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Integer)]
    ordinal: i32,
}

/// One column of one foreign key; `constraint_id` tells the keys of a table apart.
#[derive(QueryableByName)]
struct ForeignKeyColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    constraint_id: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    referenced_table: String,
    #[diesel(sql_type = Text)]
    referenced_column: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Integer)]
    ordinal: i32,
}

/// The application's tables in `sqlite_master AS m`.
const SQLITE_TABLES: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                             AND m.name <> '__diesel_schema_migrations'";

/// The ON DELETE and ON UPDATE actions, as both backends spell them.
const ACTIONS: [&str; 5] = [
    "NO ACTION",
    "RESTRICT",
    "CASCADE",
    "SET NULL",
    "SET DEFAULT",
];

/// Primary keys come from `table_info`, which also sees a rowid primary key (it has no index).
fn sqlite_indexes(c: &mut SqliteConnection) -> Vec<Index> {
    let rows: Vec<IndexColumn> = diesel::sql_query(format!(
        "SELECT m.name AS table_name, il.name AS index_name, il.\"unique\" AS is_unique, \
         il.origin AS origin, ii.name AS column_name, ii.seqno AS ordinal \
         FROM sqlite_master AS m, pragma_index_list(m.name) AS il, \
         pragma_index_info(il.name) AS ii \
         WHERE {SQLITE_TABLES} AND il.origin <> 'pk' \
         UNION ALL \
         SELECT m.name, 'primary key', 1, 'pk', ti.name, ti.pk \
         FROM sqlite_master AS m, pragma_table_info(m.name) AS ti \
         WHERE {SQLITE_TABLES} AND ti.pk > 0"
    ))
    .load(c)
    .unwrap();
    indexes(rows)
}

fn pg_indexes(c: &mut PgConnection) -> Vec<Index> {
    let rows: Vec<IndexColumn> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, ix.relname::text AS index_name, \
         i.indisunique AS is_unique, \
         CASE WHEN i.indisprimary THEN 'pk' WHEN con.contype = 'u' THEN 'u' ELSE 'c' END \
         AS origin, \
         a.attname::text AS column_name, k.n::int AS ordinal \
         FROM pg_index AS i \
         JOIN pg_class AS t ON t.oid = i.indrelid \
         JOIN pg_namespace AS ns ON ns.oid = t.relnamespace \
         JOIN pg_class AS ix ON ix.oid = i.indexrelid \
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) \
         JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid \
         AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u') \
         WHERE ns.nspname = 'public' AND t.relname <> '__diesel_schema_migrations' \
         AND k.n <= i.indnkeyatts",
    )
    .load(c)
    .unwrap();
    indexes(rows)
}

/// Gathers the columns of each index, in order; sorted.
fn indexes(rows: Vec<IndexColumn>) -> Vec<Index> {
    let mut by_index: BTreeMap<(String, String), Vec<IndexColumn>> = BTreeMap::new();
    for row in rows {
        by_index
            .entry((row.table_name.clone(), row.index_name.clone()))
            .or_default()
            .push(row);
    }
    let mut indexes: Vec<Index> = by_index
        .into_iter()
        .map(|((table, name), mut columns)| {
            columns.sort_by_key(|col| col.ordinal);
            let kind = match columns[0].origin.as_str() {
                "pk" => Kind::PrimaryKey,
                "u" => Kind::Unique,
                "c" => Kind::Index {
                    name,
                    unique: columns[0].is_unique,
                },
                other => panic!("index of {table} has an unknown origin {other}"),
            };
            Index {
                table,
                kind,
                columns: columns.into_iter().map(|col| col.column_name).collect(),
            }
        })
        .collect();
    indexes.sort();
    indexes
}

/// A key that names no parent column references the parent's primary key.
fn sqlite_foreign_keys(c: &mut SqliteConnection) -> Vec<ForeignKey> {
    let rows: Vec<ForeignKeyColumn> = diesel::sql_query(format!(
        "SELECT m.name AS table_name, CAST(fk.id AS TEXT) AS constraint_id, \
         fk.\"from\" AS column_name, fk.\"table\" AS referenced_table, \
         COALESCE(fk.\"to\", (SELECT p.name FROM pragma_table_info(fk.\"table\") AS p \
         WHERE p.pk = fk.seq + 1)) AS referenced_column, \
         fk.on_delete AS on_delete, fk.on_update AS on_update, fk.seq AS ordinal \
         FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS fk \
         WHERE {SQLITE_TABLES}"
    ))
    .load(c)
    .unwrap();
    foreign_keys(rows)
}

/// `pg_constraint` rather than `information_schema`, which cannot pair the columns of a
/// composite key with the columns they reference.
fn pg_foreign_keys(c: &mut PgConnection) -> Vec<ForeignKey> {
    let rows: Vec<ForeignKeyColumn> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, con.conname::text AS constraint_id, \
         a.attname::text AS column_name, rt.relname::text AS referenced_table, \
         ra.attname::text AS referenced_column, \
         CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
         WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete, \
         CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
         WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_update, \
         k.n::int AS ordinal \
         FROM pg_constraint AS con \
         JOIN pg_class AS t ON t.oid = con.conrelid \
         JOIN pg_namespace AS ns ON ns.oid = t.relnamespace \
         JOIN pg_class AS rt ON rt.oid = con.confrelid \
         CROSS JOIN LATERAL unnest(con.conkey, con.confkey) \
         WITH ORDINALITY AS k(attnum, refnum, n) \
         JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
         JOIN pg_attribute AS ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum \
         WHERE con.contype = 'f' AND ns.nspname = 'public'",
    )
    .load(c)
    .unwrap();
    foreign_keys(rows)
}

/// Gathers the columns of each foreign key, in order; sorted.
fn foreign_keys(rows: Vec<ForeignKeyColumn>) -> Vec<ForeignKey> {
    let mut by_key: BTreeMap<(String, String), Vec<ForeignKeyColumn>> = BTreeMap::new();
    for row in rows {
        by_key
            .entry((row.table_name.clone(), row.constraint_id.clone()))
            .or_default()
            .push(row);
    }
    let mut keys: Vec<ForeignKey> = by_key
        .into_iter()
        .map(|((table, _), mut columns)| {
            columns.sort_by_key(|col| col.ordinal);
            ForeignKey {
                table,
                referenced_table: columns[0].referenced_table.clone(),
                on_delete: columns[0].on_delete.to_ascii_uppercase(),
                on_update: columns[0].on_update.to_ascii_uppercase(),
                referenced_columns: columns
                    .iter()
                    .map(|col| col.referenced_column.clone())
                    .collect(),
                columns: columns.into_iter().map(|col| col.column_name).collect(),
            }
        })
        .collect();
    keys.sort();
    keys
}

/// One line for each item only one backend has (counting repeats); empty when they agree.
fn differences<T: Ord + fmt::Display>(sqlite: &[T], postgres: &[T]) -> Vec<String> {
    let mut count: BTreeMap<&T, i32> = BTreeMap::new();
    for item in sqlite {
        *count.entry(item).or_default() += 1;
    }
    for item in postgres {
        *count.entry(item).or_default() -= 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(item, n)| {
            let side = if n > 0 {
                "SQLite only:    "
            } else {
                "PostgreSQL only:"
            };
            format!("  {side} {item}")
        })
        .collect()
}

#[test]
fn sqlite_migrations_match_schema_rs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.db");
    let mut conn = DbConn::Sqlite(SqliteConnection::establish(path.to_str().unwrap()).unwrap());
    assert!(migrate(&mut conn).unwrap() > 0);
    assert_eq!(
        migrate(&mut conn).unwrap(),
        0,
        "a second run applies nothing"
    );
    let DbConn::Sqlite(c) = &mut conn else {
        unreachable!()
    };
    assert_eq!(sqlite_shape(c), declared());
}

#[test]
fn postgres_migrations_match_schema_rs() {
    let Some(admin) = pg_admin_url() else {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL half runs in the PostgreSQL pass");
        return;
    };
    let db = crate::helpers::PgDatabase::create(&admin);
    let mut conn = DbConn::Pg(PgConnection::establish(&db.url).unwrap());
    assert!(migrate(&mut conn).unwrap() > 0);
    assert_eq!(migrate(&mut conn).unwrap(), 0);
    let DbConn::Pg(c) = &mut conn else {
        unreachable!()
    };
    let cols: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
         is_nullable::text AS is_nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(c)
    .unwrap();
    let mut actual = Shape::new();
    for col in cols {
        actual.entry(col.table_name).or_default().insert(
            col.column_name,
            (portable(&col.data_type), col.is_nullable == "YES"),
        );
    }
    assert_eq!(actual, declared());
}

#[test]
fn both_migration_folders_have_the_same_steps() {
    let list = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
}

#[test]
fn sqlite_indexes_and_foreign_keys_are_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = migrated_sqlite(dir.path());
    let shape = sqlite_shape(&mut c);
    let indexes = sqlite_indexes(&mut c);
    let foreign_keys = sqlite_foreign_keys(&mut c);
    let column = |table: &str, name: &str| shape.get(table).and_then(|cols| cols.get(name));

    for table in shape.keys() {
        assert!(
            indexes
                .iter()
                .any(|i| &i.table == table && i.kind == Kind::PrimaryKey),
            "{table} has no primary key"
        );
    }
    assert!(
        indexes.iter().any(|i| i.kind == Kind::Unique),
        "no UNIQUE constraint: {indexes:#?}"
    );
    assert!(
        indexes.iter().any(|i| matches!(i.kind, Kind::Index { .. })),
        "no created index: {indexes:#?}"
    );
    let mut covered = BTreeSet::new();
    for index in &indexes {
        assert!(!index.columns.is_empty(), "{index} covers no column");
        for col in &index.columns {
            assert!(
                column(&index.table, col).is_some(),
                "{index}: {}.{col} does not exist",
                index.table
            );
        }
        assert!(
            covered.insert((&index.table, &index.columns)),
            "{index} repeats another index of {}",
            index.table
        );
    }

    assert!(!foreign_keys.is_empty(), "no foreign key");
    for fk in &foreign_keys {
        assert!(!fk.columns.is_empty(), "{fk} has no column");
        assert!(
            shape.contains_key(&fk.referenced_table),
            "{fk}: table {} does not exist",
            fk.referenced_table
        );
        for (from, to) in fk.columns.iter().zip(&fk.referenced_columns) {
            let Some((from_type, nullable)) = column(&fk.table, from) else {
                panic!("{fk}: {}.{from} does not exist", fk.table);
            };
            let Some((to_type, _)) = column(&fk.referenced_table, to) else {
                panic!("{fk}: {}.{to} does not exist", fk.referenced_table);
            };
            assert_eq!(from_type, to_type, "{fk}: the two columns differ in type");
            if fk.on_delete == "SET NULL" {
                assert!(*nullable, "{fk}: {}.{from} cannot be set to NULL", fk.table);
            }
        }
        // Otherwise SQLite fails every write to either table with "foreign key mismatch".
        assert!(
            indexes.iter().any(|i| i.table == fk.referenced_table
                && i.is_unique()
                && i.columns == fk.referenced_columns),
            "{fk}: the referenced columns are neither a primary key nor unique"
        );
        for action in [&fk.on_delete, &fk.on_update] {
            assert!(
                ACTIONS.contains(&action.as_str()),
                "{fk}: unknown action {action}"
            );
        }
    }

    // The rows the migrations insert (the built-in CLI app) satisfy every key.
    let broken: Vec<Name> =
        diesel::sql_query("SELECT \"table\" AS name FROM pragma_foreign_key_check")
            .load(&mut c)
            .unwrap();
    let broken: Vec<String> = broken.into_iter().map(|t| t.name).collect();
    assert!(broken.is_empty(), "rows break foreign keys of {broken:?}");
}

#[test]
fn both_backends_build_the_same_indexes_and_foreign_keys() {
    let Some(admin) = pg_admin_url() else {
        eprintln!("TEST_DATABASE_URL is not set: the comparison runs in the PostgreSQL pass");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = migrated_sqlite(dir.path());
    let db = crate::helpers::PgDatabase::create(&admin);
    let mut pg = migrated_postgres(&db.url);

    let mut found = differences(&sqlite_indexes(&mut sqlite), &pg_indexes(&mut pg));
    found.extend(differences(
        &sqlite_foreign_keys(&mut sqlite),
        &pg_foreign_keys(&mut pg),
    ));
    assert!(
        found.is_empty(),
        "the migrations build different keys and indexes on the two backends:\n{}",
        found.join("\n")
    );
}
