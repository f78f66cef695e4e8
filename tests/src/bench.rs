//! What the benchmark programs (`src/bin/*_bench.rs`) share: their two flags, `--backend
//! sqlite|postgres` and a count, and the fresh database the backend names.

use crate::TestDb;

pub struct Args {
    pub backend: String,
    pub count: usize,
}

/// Reads `--backend` and `count_flag` (e.g. `--rows`) from the command line.
pub fn args(count_flag: &str, default_count: usize) -> Args {
    let mut args = Args {
        backend: "sqlite".into(),
        count: default_count,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => args.backend = value,
            f if f == count_flag => {
                args.count = value
                    .parse()
                    .unwrap_or_else(|_| panic!("{count_flag} takes a number"))
            }
            other => panic!("unknown flag {other} (--backend sqlite|postgres, {count_flag} N)"),
        }
    }
    args
}

/// A fresh database of the backend: a SQLite file, or a new database on the local PostgreSQL.
pub async fn database(backend: &str) -> TestDb {
    match backend {
        "sqlite" => TestDb::sqlite().await,
        "postgres" => TestDb::postgres()
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 is needed for --backend postgres"),
        other => panic!("unknown backend {other}"),
    }
}
