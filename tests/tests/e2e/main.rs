//! paygate's end-to-end tests, as one test binary: the real server on 127.0.0.1:0 against a fresh
//! SQLite file or PostgreSQL database per test, real HTTP to the provider emulators, and real
//! headless Chromium for the browser tests. One binary instead of one per file, so that a change
//! to the server links the tests once (see docs/BENCHMARKS.md for the build times). Helpers live
//! in `tests/src/`; `on_both_databases!` runs a test on SQLite and on PostgreSQL.

mod abuse_limits;
mod admin_api;
mod admin_browser;
mod admin_webhooks;
mod api_keys;
mod chaos;
mod checkout_sessions;
mod cluster;
mod contract;
mod cross_site;
mod csp_detector;
mod demo_shop;
mod disputes;
mod event_bus;
mod events;
mod idempotency;
mod inbox;
mod merchant_webhooks;
mod modes;
mod operations;
mod payment_links;
mod payment_links_browser;
mod payments;
mod paypal_emulator;
mod paypal_end_to_end;
mod paypal_webhook_verification;
mod personal_data;
mod reconciliation;
mod refunds_and_actions;
mod saved_payment_methods;
mod saved_payment_methods_browser;
mod setup_sessions;
mod shared_limits;
mod storage;
mod stripe_emulator;
mod stripe_end_to_end;
mod stripe_webhooks;
mod subscription_lifecycle;
mod webhook_destinations;
mod widget_api;
mod widget_browser;
