//! The write-path ceiling (a benchmark, not a test): the least an HTTP service can do to make
//! one request durable. A bare axum handler that inserts one row per request and commits it,
//! on the same database settings as paygate (SQLite: WAL, `synchronous = FULL`, a busy
//! timeout, a pool of 8; PostgreSQL: default server settings, a pool of 16), with sqlx's own
//! drivers. `scripts/bench.sh writes` runs it beside paygate and reports paygate as a ratio of
//! it.
//!
//!   ceiling --db sqlite:///tmp/ceiling.db --listen 127.0.0.1:18090
//!   ceiling --db postgres://postgres@127.0.0.1:5432/test --listen 127.0.0.1:18090

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[derive(Clone)]
struct App {
    pool: Pool,
    next: Arc<AtomicU64>,
}

async fn insert(State(app): State<App>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let id = format!(
        "row_{}_{}",
        std::process::id(),
        app.next.fetch_add(1, Ordering::Relaxed)
    );
    let text = body.to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let sql = "INSERT INTO rows (id, body, created_at) VALUES ($1, $2, $3)";
    let done = match &app.pool {
        Pool::Sqlite(p) => sqlx::query(sql)
            .bind(&id)
            .bind(&text)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()),
        Pool::Postgres(p) => sqlx::query(sql)
            .bind(&id)
            .bind(&text)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()),
    };
    match done {
        Ok(()) => (StatusCode::CREATED, Json(json!({ "id": id }))),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": e.to_string() })),
        ),
    }
}

#[tokio::main]
async fn main() {
    let mut db = String::from("sqlite://ceiling.db");
    let mut listen = String::from("127.0.0.1:18090");
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => db = value,
            "--listen" => listen = value,
            other => panic!("unknown flag {other}"),
        }
    }
    let create = "CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at BIGINT NOT NULL)";
    let pool = if db.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(&db)
            .expect("--db")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(15));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("open SQLite");
        sqlx::query(create).execute(&pool).await.expect("table");
        Pool::Sqlite(pool)
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(&db)
            .await
            .expect("connect PostgreSQL");
        sqlx::query("DROP TABLE IF EXISTS rows")
            .execute(&pool)
            .await
            .expect("drop");
        sqlx::query(create).execute(&pool).await.expect("table");
        Pool::Postgres(pool)
    };
    let app = Router::new().route("/rows", post(insert)).with_state(App {
        pool,
        next: Arc::new(AtomicU64::new(0)),
    });
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("listen");
    println!("ceiling listening on http://{listen}");
    axum::serve(listener, app).await.expect("serve");
}
