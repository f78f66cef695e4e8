//! Helpers for paygate's end-to-end tests: a fresh database per test (SQLite file or
//! PostgreSQL database), the real application on 127.0.0.1:0, a test provider standing in for
//! Stripe/PayPal where the core is tested without network, and a WebDriver browser.

pub mod admin;
pub mod app;
pub mod bench;
pub mod browser;
pub mod cluster;
pub mod csp;
pub mod db;
pub mod emulator;
pub mod evidence;
pub mod merchant;
pub mod provider;
pub mod rabbitmq;
pub mod relay;
pub mod seed;
pub mod shop;
pub mod standard_webhooks;
pub mod traffic;
pub mod webhooks_in;

pub use app::{spawn_app, AppOptions, TestApp};
pub use db::TestDb;
pub use provider::TestProvider;

/// Runs one async test body against SQLite and against PostgreSQL, as two test functions
/// `<name>::sqlite` and `<name>::postgres`. The body is an `async fn(TestDb)` in scope.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::TestDb::sqlite().await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::TestDb::postgres().await {
                        super::$name(db).await
                    }
                }
            }
        )+
    };
}
