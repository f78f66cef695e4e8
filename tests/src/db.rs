//! A fresh database per test. SQLite: a file in a temporary folder. PostgreSQL: a new database
//! on the machine's server (127.0.0.1:5432, trust auth), dropped afterwards. When PostgreSQL is
//! unreachable the test says so loudly and is skipped, unless `PAYGATE_REQUIRE_POSTGRES=1`
//! (set by `.ci/run`), which makes it fail.

use rand::Rng;
use sqlx::Executor;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn admin_url() -> String {
    std::env::var("PAYGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

fn postgres_required() -> bool {
    std::env::var("PAYGATE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("paygate.db").display());
        TestDb {
            url,
            backend: "sqlite",
            _dir: Some(dir),
            pg_name: None,
        }
    }

    pub async fn postgres() -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let admin = admin_url();
        let mut conn = match <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await {
            Ok(c) => c,
            Err(e) if !postgres_required() => {
                eprintln!(
                    "\n!!! SKIPPED: PostgreSQL is unreachable at {admin} ({e}).\n!!! This test ran on SQLite only. Set PAYGATE_REQUIRE_POSTGRES=1 to make this a failure.\n"
                );
                return None;
            }
            Err(e) => panic!("PostgreSQL is required (PAYGATE_REQUIRE_POSTGRES=1) but unreachable at {admin}: {e}"),
        };
        let name = format!("paygate_t_{:016x}", rand::thread_rng().gen::<u64>());
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDb {
            url: format!("{base}/{name}"),
            backend: "postgres",
            _dir: None,
            pg_name: Some(name),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async context guarantees: use a private runtime on a thread.
        let admin = admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .ok()?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}
