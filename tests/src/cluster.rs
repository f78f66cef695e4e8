//! paygate as separate processes, for the tests that run several instances or kill them:
//! `paygate sandbox serve` as the provider emulators every instance shares, instances of
//! `paygate serve` started, SIGKILLed, SIGTERMed and restarted on fixed ports, and a round-robin
//! TCP balancer in front of them, as a load balancer would be. The binary is the tests' own
//! build of paygate (`CARGO_BIN_EXE_paygate-node`, which only a test target can name), passed in
//! by the test. Each process's log goes to a file in the cluster's folder, appended across
//! restarts, and its tail is printed when a start fails.

use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

/// The Stripe emulator's documented test secret key (the instances use it by default).
pub const STRIPE_SECRET: &str = paygate_sandbox::defaults::STRIPE_SECRET_KEY;
/// The sandbox's development merchant key.
pub const MERCHANT_KEY: &str = "sk_test_paygate_dev";

/// A port free on 127.0.0.1 now (bound and let go): instances keep theirs across restarts, as a
/// deployment's do.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A process of the paygate binary with nothing of the test's environment but `PATH` (a
/// developer's PAYGATE_* variables must not change the run), its output appended to `log`.
fn command(bin: &Path, log: &Path, args: &[&str], env: &[(String, String)]) -> Command {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let err = out.try_clone().expect("log file");
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    cmd
}

/// `SELECT COUNT(*) ...` (or any one integer) from the cluster's database.
pub async fn count(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .expect("count query")
}

/// The last `lines` lines of a log file (for failure messages).
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `paygate sandbox serve`: the Stripe and PayPal emulators in a process of their own, posting
/// their webhooks to `webhooks_to` (an instance or the balancer). Never killed by the tests;
/// its state is in memory.
pub struct EmulatorProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`: Stripe under `/stripe`, PayPal under `/paypal`.
    pub url: String,
    pub log: PathBuf,
    http: reqwest::Client,
}

impl EmulatorProcess {
    pub async fn start(bin: &Path, dir: &Path, webhooks_to: &str) -> EmulatorProcess {
        let log = dir.join("emulators.log");
        let port = free_port();
        let env = vec![
            (
                "PAYGATE_SANDBOX_LISTEN".to_string(),
                format!("127.0.0.1:{port}"),
            ),
            ("PAYGATE_PUBLIC_URL".to_string(), webhooks_to.to_string()),
            ("PAYGATE_LOG".to_string(), "warn".to_string()),
        ];
        let mut cmd = command(bin, &log, &["sandbox", "serve"], &env);
        cmd.stdout(Stdio::piped());
        let mut child = cmd.spawn().expect("start the emulators");
        // The process prints its address once it listens.
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("sandbox emulators listening on ") {
                    return Some(url.to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the emulators did not start:\n{}", log_tail(&log, 40)));
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        EmulatorProcess {
            child,
            url,
            log,
            http: reqwest::Client::new(),
        }
    }

    pub fn stripe_base(&self) -> String {
        format!("{}/stripe", self.url)
    }

    /// The Stripe emulator's `GET /_emulator/state`.
    pub async fn stripe_state(&self) -> Value {
        self.http
            .get(format!("{}/_emulator/state", self.stripe_base()))
            .bearer_auth(STRIPE_SECRET)
            .send()
            .await
            .expect("emulator state")
            .json()
            .await
            .expect("emulator state body")
    }

    /// Sets the Stripe emulator's fault knobs (`POST /_emulator/faults`).
    pub async fn stripe_faults(&self, knobs: Value) {
        let res = self
            .http
            .post(format!("{}/_emulator/faults", self.stripe_base()))
            .bearer_auth(STRIPE_SECRET)
            .json(&knobs)
            .send()
            .await
            .expect("emulator faults");
        assert!(res.status().is_success(), "faults: {}", res.status());
    }

    /// Every object of a Stripe list endpoint (`/v1/payment_intents`, `/v1/refunds`), all
    /// pages, as Stripe's own list API gives them.
    pub async fn stripe_list(&self, path: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_string())];
            if let Some(a) = &after {
                query.push(("starting_after", a.clone()));
            }
            let page: Value = self
                .http
                .get(format!("{}{path}", self.stripe_base()))
                .bearer_auth(STRIPE_SECRET)
                .query(&query)
                .send()
                .await
                .expect("list request")
                .json()
                .await
                .expect("list body");
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|o| o["id"].as_str()).map(String::from);
            all.extend(data);
            if page["has_more"] != true || after.is_none() {
                return all;
            }
        }
    }

    /// What Stripe.js does in the buyer's browser: confirms a PaymentIntent with the
    /// publishable key and its client secret.
    pub async fn stripe_js_confirm(
        &self,
        client_secret: &str,
        payment_method: &str,
    ) -> reqwest::Result<Value> {
        let pi = client_secret.split("_secret_").next().unwrap_or_default();
        self.http
            .post(format!(
                "{}/v1/payment_intents/{pi}/confirm",
                self.stripe_base()
            ))
            .bearer_auth(paygate_sandbox::defaults::STRIPE_PUBLISHABLE_KEY)
            .form(&[
                ("client_secret", client_secret),
                ("payment_method", payment_method),
            ])
            .send()
            .await?
            .json()
            .await
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// One instance of `paygate serve` on a fixed port, started and stopped by the test.
pub struct Node {
    pub name: String,
    /// `http://127.0.0.1:<port>`, this instance's own address.
    pub url: String,
    pub addr: SocketAddr,
    pub log: PathBuf,
    bin: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// How many times it was started.
    pub starts: u32,
}

impl Node {
    /// An instance not yet started, on a port of its own; give it its configuration with
    /// [`configure`](Self::configure) before starting it.
    pub fn new(bin: &Path, dir: &Path, name: &str) -> Node {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        Node {
            name: name.to_string(),
            url: format!("http://{addr}"),
            addr,
            log: dir.join(format!("{name}.log")),
            bin: bin.to_path_buf(),
            env: Vec::new(),
            child: None,
            starts: 0,
        }
    }

    /// Its configuration from the next start on (the harness adds its listen address).
    pub fn configure(&mut self, env: Vec<(String, String)>) {
        self.env = env;
        self.env
            .push(("PAYGATE_LISTEN".into(), self.addr.to_string()));
    }

    /// Starts the process and waits until `/readyz` answers 200.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let child = command(&self.bin, &self.log, &["serve"], &self.env)
            .spawn()
            .expect("start paygate");
        self.child = Some(child);
        self.starts += 1;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = http
                .get(format!("{}/readyz", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "{} exited at start ({status}):\n{}",
                    self.name,
                    log_tail(&self.log, 40)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 60 s:\n{}",
                self.name,
                log_tail(&self.log, 40)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: the process dies at once, mid-request and mid-transaction.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERM, then waits for the process to exit (at most `limit`); its exit status, or
    /// `None` if it had to be killed.
    pub async fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        if let Some(pid) = child.id() {
            // SAFETY: sending a signal to a child process this harness started and still owns.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
        match tokio::time::timeout(limit, child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                None
            }
        }
    }
}

/// A round-robin TCP balancer on 127.0.0.1: each connection goes to the next backend that
/// accepts one (a killed instance refuses, and is skipped), as a load balancer's health
/// checking would; a connection already open to an instance that dies is cut.
pub struct Balancer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    pub async fn start(backends: Vec<SocketAddr>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let backends = Arc::new(backends);
        let next = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let backends = backends.clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    for i in 0..backends.len() {
                        let addr = backends[(first + i) % backends.len()];
                        let connect = TcpStream::connect(addr);
                        if let Ok(Ok(mut outbound)) =
                            tokio::time::timeout(Duration::from_secs(1), connect).await
                        {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer { url, task }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The configuration every instance of one cluster shares: one database, the emulators'
/// process, one public URL (the balancer's), and the given extra settings.
pub fn shared_env(
    database_url: &str,
    emulators: &EmulatorProcess,
    public_url: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env = vec![
        ("DATABASE_URL".to_string(), database_url.to_string()),
        (
            "PAYGATE_SANDBOX_EMULATORS".to_string(),
            emulators.url.clone(),
        ),
        ("PAYGATE_PUBLIC_URL".to_string(), public_url.to_string()),
        (
            "PAYGATE_ASSETS_DIR".to_string(),
            crate::app::assets_dir().display().to_string(),
        ),
        ("PAYGATE_LOG".to_string(), "info".to_string()),
        // Load, not abuse: the limits are tested elsewhere.
        ("PAYGATE_MERCHANT_RATE_LIMIT".to_string(), "0".to_string()),
        ("PAYGATE_WIDGET_RATE_LIMIT".to_string(), "0".to_string()),
    ];
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v.to_string()));
    }
    env
}
