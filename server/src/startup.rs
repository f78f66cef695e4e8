//! Start-up: database, migrations, the data-key check, the listeners (port 0 in tests), the
//! sandbox emulators, the background workers, and graceful shutdown.

use crate::app::app;
use crate::clock::Clock;
use crate::config::{Config, ConfigError, Mode};
use crate::crypto::{CryptoError, DataCipher};
use crate::db::Db;
use crate::http::idempotency;
use crate::inbox;
use crate::providers::paypal::client::PaypalClient;
use crate::providers::paypal::webhook::VerifyMode;
use crate::providers::paypal::PaypalProvider;
use crate::providers::stripe::StripeProvider;
use crate::providers::Providers;
use crate::state::AppState;
#[cfg(feature = "sandbox")]
use paygate_sandbox::{paypal::PaypalEmulator, stripe::StripeEmulator, Emulators};
use shared::api::ProviderName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Knobs for tests and tools.
#[derive(Clone)]
pub struct Options {
    /// Use these providers instead of the ones the configuration describes (tests of the core).
    pub providers: Option<Providers>,
    /// Run the inbox worker (tests turn it off to leave events stored but unapplied).
    pub inbox_worker: bool,
    pub inbox_poll: Duration,
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            providers: None,
            inbox_worker: true,
            inbox_poll: Duration::from_secs(1),
            clock: Clock::default(),
        }
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    options: Options,
    sandbox: Option<Sandbox>,
}

/// Sandbox mode: the provider emulators on their own listener, so that, like js.stripe.com,
/// they are another origin than the checkout page.
struct Sandbox {
    listener: TcpListener,
    #[cfg(feature = "sandbox")]
    emulators: Emulators,
}

/// Stops a running application and waits for it to finish.
pub struct Running {
    pub addr: SocketAddr,
    /// The emulators' address, in sandbox mode.
    pub sandbox_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    /// The heartbeat stops last: until every request is answered, this instance is alive.
    heartbeat: (watch::Sender<bool>, JoinHandle<()>),
    /// The in-process emulators (sandbox mode), stopped after the workers.
    sandbox: (watch::Sender<bool>, Option<JoinHandle<()>>),
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        for w in self.workers {
            let _ = w.await;
        }
        let _ = self.sandbox.0.send(true);
        if let Some(task) = self.sandbox.1 {
            let _ = task.await;
        }
        let _ = self.heartbeat.0.send(true);
        let _ = self.heartbeat.1.await;
    }
}

impl Application {
    pub async fn build(mut config: Config, options: Options) -> anyhow::Result<Application> {
        let db = connect_and_migrate(&config).await?;
        check_data_key(&db, &config.data_cipher()).await?;
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (PAYGATE_LISTEN): {e}", config.listen)
        })?;
        let bound = listener.local_addr()?;
        if config.listen.port() == 0 && config.public_url == format!("http://{}", config.listen) {
            // Port 0 (tests, tools): the default public URL and origin name the port bound.
            let default_origin = format!("http://{}", config.listen);
            config.public_url = format!("http://{bound}");
            for origin in &mut config.allowed_origins {
                if *origin == default_origin {
                    *origin = config.public_url.clone();
                }
            }
        }
        // Live mode never serves the emulators; nor does an instance using emulators that
        // `paygate sandbox serve` runs elsewhere.
        let sandbox = if config.mode == Mode::Sandbox && config.sandbox_emulators.is_none() {
            Some(start_sandbox(&mut config, &options).await?)
        } else {
            None
        };
        let providers = match options.providers.clone() {
            Some(p) => p,
            None => providers_from_config(&config, &options.clock),
        };
        let state = AppState::new(config, db, providers, options.clock.clone());
        crate::instances::register(&state.db, &state.instance_id, state.clock.now_ms()).await?;
        crate::pages::demo_shop::register(&state).await;
        Ok(Application {
            listener,
            state,
            options,
            sandbox,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The PayPal emulator, in sandbox mode.
    #[cfg(feature = "sandbox")]
    pub fn paypal_emulator(&self) -> Option<PaypalEmulator> {
        self.sandbox.as_ref().map(|s| s.emulators.paypal.clone())
    }

    /// The Stripe emulator, in sandbox mode.
    #[cfg(feature = "sandbox")]
    pub fn stripe_emulator(&self) -> Option<StripeEmulator> {
        self.sandbox.as_ref().map(|s| s.emulators.stripe.clone())
    }

    /// Serves in the background; returns a handle that stops everything gracefully.
    pub fn spawn(self) -> Running {
        let addr = self.addr();
        let (stop, stopped) = watch::channel(false);
        let mut workers = Vec::new();
        if self.options.inbox_worker {
            workers.push(tokio::spawn(inbox::worker::run(
                self.state.clone(),
                self.options.inbox_poll,
                stopped.clone(),
            )));
        }
        workers.push(tokio::spawn(crate::merchant_webhooks::relay::run(
            self.state.clone(),
            Duration::from_millis(250),
            stopped.clone(),
        )));
        if let Some(bus) = self.state.config.event_bus.clone() {
            workers.push(tokio::spawn(crate::event_bus::run(
                self.state.clone(),
                bus,
                Duration::from_millis(250),
                stopped.clone(),
            )));
        }
        if let Some(shared) = self.state.rate_limits.shared.clone() {
            let stopped = stopped.clone();
            workers.push(tokio::spawn(async move { shared.maintain(stopped).await }));
        }
        workers.push(tokio::spawn(housekeeping(
            self.state.clone(),
            stopped.clone(),
        )));
        workers.push(tokio::spawn(crate::reconcile::run(
            self.state.clone(),
            self.state.config.reconcile_every,
            stopped.clone(),
        )));
        let (heartbeat_stop, heartbeat_stopped) = watch::channel(false);
        let heartbeat = tokio::spawn(crate::instances::run(self.state.clone(), heartbeat_stopped));
        // The emulators stop after the server and the workers: work finishing at shutdown may
        // still call them (it would otherwise retry against a closed port until the grace
        // period ran out).
        let mut sandbox_addr = None;
        let (sandbox_stop, sandbox_stopped) = watch::channel(false);
        let mut sandbox_task = None;
        if let Some(sandbox) = self.sandbox {
            sandbox_addr = sandbox.listener.local_addr().ok();
            sandbox_task = Some(tokio::spawn(serve_sandbox(sandbox, sandbox_stopped)));
        }
        let router = app(self.state.clone());
        let mut on_stop = stopped.clone();
        let header_timeout = self.state.config.header_timeout;
        let server = tokio::spawn(crate::http::serve::serve(
            self.listener,
            router,
            header_timeout,
            async move {
                let _ = on_stop.wait_for(|s| *s).await;
            },
        ));
        Running {
            addr,
            sandbox_addr,
            stop,
            server,
            workers,
            heartbeat: (heartbeat_stop, heartbeat),
            sandbox: (sandbox_stop, sandbox_task),
        }
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests and stops.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let addr = self.addr();
        tracing::info!(%addr, public_url = %self.state.config.public_url, mode = ?self.state.config.mode, "paygate listening");
        if let Some(sandbox) = &self.sandbox {
            tracing::info!(addr = %sandbox.listener.local_addr()?, "sandbox emulators listening (Stripe under /stripe, PayPal under /paypal)");
        }
        let grace = self.state.config.shutdown_grace;
        let running = self.spawn();
        shutdown_signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: no new connections; finishing the requests and work under way"
        );
        if tokio::time::timeout(grace, running.stop()).await.is_err() {
            // What is still running is cut here; what it did is durable or reconciled later.
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "shutdown grace period over; exiting with work still under way"
            );
        } else {
            tracing::info!("stopped");
        }
        Ok(())
    }
}

/// The emulators' listener on `PAYGATE_SANDBOX_LISTEN`.
#[cfg(feature = "sandbox")]
async fn bind_sandbox(config: &Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.sandbox_listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {} (PAYGATE_SANDBOX_LISTEN): {e}",
            config.sandbox_listen
        )
    })
}

/// Binds the emulators' listener and builds both emulators, sharing the application's clock
/// and sending their webhooks to this instance's public URL.
#[cfg(feature = "sandbox")]
async fn start_sandbox(config: &mut Config, options: &Options) -> anyhow::Result<Sandbox> {
    let listener = bind_sandbox(config).await?;
    let addr = listener.local_addr()?;
    config.rebind_sandbox(addr);
    let emulators = Emulators::with_defaults(
        &format!("http://{addr}"),
        Some(format!("{}/webhooks/stripe", config.public_url)),
        Some(format!("{}/webhooks/paypal", config.public_url)),
        paygate_sandbox::Clock::sharing(options.clock.offset()),
    );
    Ok(Sandbox {
        listener,
        emulators,
    })
}

#[cfg(not(feature = "sandbox"))]
async fn start_sandbox(_config: &mut Config, _options: &Options) -> anyhow::Result<Sandbox> {
    anyhow::bail!("this paygate was built without the sandbox emulators")
}

#[cfg(feature = "sandbox")]
async fn serve_sandbox(sandbox: Sandbox, mut stopped: watch::Receiver<bool>) {
    let shutdown = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    if let Err(e) = sandbox.emulators.serve(sandbox.listener, shutdown).await {
        tracing::error!(error = %e, "sandbox emulators stopped");
    }
}

/// `paygate sandbox serve`: only the emulators, on `PAYGATE_SANDBOX_LISTEN`, posting their
/// webhooks to `PAYGATE_PUBLIC_URL`, until Ctrl-C or SIGTERM. Their state is in memory and ends
/// with the process.
#[cfg(feature = "sandbox")]
pub async fn serve_emulators(config: &Config) -> anyhow::Result<()> {
    if config.mode != Mode::Sandbox {
        anyhow::bail!("the provider emulators are for sandbox mode only (PAYGATE_MODE=sandbox)");
    }
    let listener = bind_sandbox(config).await?;
    let addr = listener.local_addr()?;
    let public = config.public_url.trim_end_matches('/');
    let emulators = Emulators::with_defaults(
        &format!("http://{addr}"),
        Some(format!("{public}/webhooks/stripe")),
        Some(format!("{public}/webhooks/paypal")),
        paygate_sandbox::Clock::default(),
    );
    tracing::info!(%addr, webhooks_to = %public, "sandbox emulators listening (Stripe under /stripe, PayPal under /paypal)");
    // The line scripts and tests wait for (the port may have been 0).
    println!("sandbox emulators listening on http://{addr}");
    emulators.serve(listener, shutdown_signal()).await?;
    Ok(())
}

#[cfg(not(feature = "sandbox"))]
pub async fn serve_emulators(_config: &Config) -> anyhow::Result<()> {
    anyhow::bail!("this paygate was built without the sandbox emulators")
}

#[cfg(not(feature = "sandbox"))]
async fn serve_sandbox(_sandbox: Sandbox, _stopped: watch::Receiver<bool>) {}

/// The provider clients the configuration enables.
pub fn providers_from_config(config: &Config, clock: &Clock) -> Providers {
    let mut providers = Providers::new();
    if config.providers.contains(&ProviderName::Paypal) {
        if let (Some(id), Some(secret), Some(webhook_id)) = (
            config.paypal.client_id.clone(),
            config.paypal.client_secret.clone(),
            config.paypal.webhook_id.clone(),
        ) {
            let client =
                PaypalClient::new(&config.paypal.api_base, id, secret, config.provider_timeout);
            // In sandbox mode the emulator's certificate host is the "sandbox host" allowed
            // beside *.paypal.com.
            let (extra, trust) = paypal_certificates(config);
            let verify = if config.paypal.verify_offline {
                VerifyMode::Offline
            } else {
                VerifyMode::Online
            };
            providers = providers.with(Arc::new(PaypalProvider::new(
                client,
                webhook_id,
                verify,
                extra,
                trust,
                config.merchant_name.clone(),
                clock.clone(),
            )));
        }
    }
    if config.providers.contains(&ProviderName::Stripe) {
        if let Some(stripe) =
            StripeProvider::from_config(&config.stripe, config.provider_timeout, clock.clone())
        {
            providers = providers.with_stripe(Arc::new(stripe));
        }
    }
    providers
}

pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| ConfigError {
            variable: "DATABASE_URL",
            message: format!("cannot open the database: {e}"),
        })?;
    db.migrate()
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    Ok(db)
}

/// Detects a wrong `PAYGATE_DATA_KEY` at start-up instead of at the first decryption: the
/// database keeps a value encrypted with the key it was first used with (re-encrypted by each
/// rotation), which one of the configured keys must open.
pub async fn check_data_key(db: &Db, cipher: &DataCipher) -> anyhow::Result<()> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'data_key_check'")
            .fetch_optional(&db.pool)
            .await?;
    match stored {
        None => {
            sqlx::query("INSERT INTO settings (key, value) VALUES ('data_key_check', $1) ON CONFLICT (key) DO NOTHING")
                .bind(cipher.encrypt(DATA_KEY_CHECK_VALUE, DATA_KEY_CHECK_CONTEXT))
                .execute(&db.pool)
                .await?;
            Ok(())
        }
        Some(value) => match cipher.decrypt(&value, DATA_KEY_CHECK_CONTEXT) {
            Ok(_) => {
                if !cipher.previous_key_ids().is_empty() {
                    tracing::info!(
                        current = cipher.current_key_id(),
                        previous = ?cipher.previous_key_ids(),
                        "data key rotation: previous keys decrypt until `paygate keys rotate-data-key` has moved their values"
                    );
                }
                Ok(())
            }
            Err(CryptoError::UnknownKey(id)) => Err(ConfigError {
                variable: "PAYGATE_DATA_KEY",
                message: format!(
                    "this database was encrypted with data key {id}; set it as PAYGATE_DATA_KEY, \
                     or in PAYGATE_DATA_KEYS_PREVIOUS while rotating"
                ),
            }
            .into()),
            Err(CryptoError::WrongKey) | Err(CryptoError::Malformed) => Err(ConfigError {
                variable: "PAYGATE_DATA_KEY",
                message: "this database was encrypted with another key".into(),
            }
            .into()),
        },
    }
}

/// The `settings` row `check_data_key` reads: this plaintext under this context.
pub const DATA_KEY_CHECK_CONTEXT: &str = "settings.data_key_check";
pub const DATA_KEY_CHECK_VALUE: &str = "paygate";

/// Periodic chores: sweep old idempotency keys, forget instances gone for a day and idle
/// rate-limit buckets.
async fn housekeeping(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => {}
        }
        if *stopped.borrow() {
            return;
        }
        match idempotency::sweep(&state.db, state.clock.now_ms()).await {
            Ok(n) if n > 0 => tracing::info!(swept = n, "old idempotency keys removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "idempotency sweep failed"),
        }
        if let Err(e) = crate::instances::forget_gone(&state.db, state.clock.now_ms()).await {
            tracing::warn!(error = %e, "forgetting stopped instances failed");
        }
        state.rate_limits.clean();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Where PayPal webhook certificates may come from and what they must chain to: PayPal's hosts
/// and DigiCert's roots, or in sandbox mode with paygate's emulator, the emulator's origin and
/// its test root (never trusted otherwise).
fn paypal_certificates(
    config: &Config,
) -> (
    Vec<String>,
    crate::providers::paypal::trust::CertificateTrust,
) {
    use crate::providers::paypal::trust::CertificateTrust;
    #[cfg(feature = "sandbox")]
    if config.paypal.emulated {
        return (
            vec![crate::config::origin_of(&config.paypal.api_base)],
            CertificateTrust::custom(
                paygate_sandbox::paypal::TEST_ROOT_PEM,
                paygate_sandbox::paypal::TEST_INTERMEDIATE_PEM,
            ),
        );
    }
    (
        Vec::new(),
        CertificateTrust::for_api_base(&config.paypal.api_base),
    )
}
