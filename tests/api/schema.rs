//! Both migration sets must build exactly the tables, columns, types and nullability of `schema.rs`.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
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
    assert_eq!(actual, declared());
}

#[test]
fn postgres_migrations_match_schema_rs() {
    let Some(admin) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
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
