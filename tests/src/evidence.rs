//! What paygate saw, for tests that prove something never reached it (card numbers, PCI DSS
//! SAQ A): its log, the requests it received, and its database.
//!
//! - **Log**: [`capture_log`] installs the test process's global `tracing` subscriber, writing
//!   every event of paygate's own code (`paygate=trace`) and of the HTTP and database layers it
//!   runs on (`tower_http`, `axum`, `sqlx`) to memory, *without* paygate's redaction filter, so
//!   a card number that merely reached a log call is found even though production output would
//!   mask it.
//! - **Requests**: [`record_requests`] is a middleware put in front of paygate's router
//!   (`AppOptions::record_requests`); it keeps the method, URI, headers and body of every
//!   request paygate's public address received (browser, merchant API, provider webhooks).
//! - **Database**: [`dump_sqlite`] renders every row of every table as text (blobs also as
//!   hex), and [`sqlite_file_text`] reads the database files' raw bytes (free pages included).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sqlx::Row;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
pub struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log, captured from the first call on (once per test binary).
pub fn capture_log() -> Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Sink::default();
        let writer = sink.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "paygate=trace,paygate_sandbox=off,tower_http=trace,axum=trace,sqlx=trace",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("this test binary installs the only tracing subscriber");
        sink
    })
    .clone()
}

/// Requests paygate received: `METHOD URI`, the headers, a blank line, the body.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<String>>>);

impl Received {
    pub fn all(&self) -> Vec<String> {
        self.0.lock().expect("received lock").clone()
    }
}

/// Middleware: keeps a copy of each request, then hands it on unchanged.
pub async fn record_requests(
    State(received): State<Received>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut entry = format!("{} {}\n", parts.method, parts.uri);
    for (name, value) in &parts.headers {
        entry.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    entry.push('\n');
    entry.push_str(&String::from_utf8_lossy(&bytes));
    received.0.lock().expect("received lock").push(entry);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Every row of every table of a SQLite database as text, one line per row, prefixed with the
/// table's name. Blobs appear as hex (search the hex of what you look for too).
pub async fn dump_sqlite(pool: &sqlx::AnyPool) -> String {
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("list tables")
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let mut out = String::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(pool)
                .await
                .expect("columns")
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                format!(
                    "COALESCE(CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") ELSE CAST(\"{c}\" AS TEXT) END, '')"
                )
            })
            .collect();
        if cells.is_empty() {
            continue;
        }
        let sql = format!("SELECT {} FROM \"{table}\"", cells.join(" || char(9) || "));
        for row in sqlx::query(&sql)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("dump {table}: {e}"))
        {
            let text: String = row
                .try_get(0)
                .unwrap_or_else(|e| panic!("row of {table} as text: {e}"));
            out.push_str(&table);
            out.push('\t');
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// The raw bytes of a SQLite database and its `-wal`/`-shm` files (what exists), as text.
pub fn sqlite_file_text(database_url: &str) -> String {
    let path = database_url.trim_start_matches("sqlite://");
    let mut text = String::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

/// The forms a card number may take when written down: plain, grouped by spaces or dashes,
/// and the hex of its ASCII digits (blobs).
pub fn card_number_forms(number: &str) -> Vec<String> {
    let groups: Vec<&str> = (0..number.len())
        .step_by(4)
        .map(|i| &number[i..(i + 4).min(number.len())])
        .collect();
    vec![
        number.to_owned(),
        groups.join(" "),
        groups.join("-"),
        hex::encode_upper(number),
    ]
}
