//! Entry point: parse the command line, load the configuration, run the command.

use paygate::cli::{self, AdminCommand, Command, EventsCommand, KeysCommand, SandboxCommand};
use paygate::config::{Config, Mode};
use paygate::startup::{connect_and_migrate, Application, Options};
use paygate::{clock::Clock, inbox, telemetry};
use shared::api::ProviderName;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("paygate: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log_filter);
    match run(cli.command.unwrap_or(Command::Serve), config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paygate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `keys rotate-data-key`: nothing is written unless the configured keys read the database (its
/// check value, then every encrypted value in a dry pass), so a mistyped key or a missing
/// previous key changes nothing.
async fn rotate_data_key(
    db: &paygate::db::Db,
    config: &Config,
    batch_size: i64,
    dry_run: bool,
) -> anyhow::Result<()> {
    use paygate::key_rotation::{rotate, Options};
    let cipher = config.data_cipher();
    paygate::startup::check_data_key(db, &cipher).await?;
    let preview = rotate(
        db,
        &cipher,
        Options {
            batch_size,
            dry_run: true,
        },
    )
    .await?;
    if dry_run {
        return print_rotation(&preview, true);
    }
    if preview.failed() > 0 {
        // Lists what cannot be read, and refuses.
        return print_rotation(&preview, true);
    }
    let report = rotate(
        db,
        &cipher,
        Options {
            batch_size,
            dry_run: false,
        },
    )
    .await?;
    print_rotation(&report, false)
}

/// The rotation's report, one line per encrypted column; an error if anything was left.
fn print_rotation(report: &paygate::key_rotation::Report, dry_run: bool) -> anyhow::Result<()> {
    let verb = if dry_run {
        "to re-encrypt"
    } else {
        "re-encrypted"
    };
    println!("current data key: {}", report.current_key_id);
    for c in &report.columns {
        println!(
            "{}.{}\t{verb} {}\talready current {}\tfailed {}",
            c.table,
            c.column,
            c.rotated,
            c.current,
            c.failed.len()
        );
        for (row, why) in c.failed.iter().take(5) {
            println!("  {row}: {why}");
        }
    }
    if report.changed_meanwhile > 0 {
        println!(
            "{} rows changed while being re-encrypted and were read again",
            report.changed_meanwhile
        );
    }
    if report.complete(dry_run) {
        println!(
            "every value is under data key {}; PAYGATE_DATA_KEYS_PREVIOUS can be removed",
            report.current_key_id
        );
        return Ok(());
    }
    if dry_run {
        if report.failed() > 0 {
            anyhow::bail!(
                "{} values cannot be read with the configured keys; nothing was changed",
                report.failed()
            );
        }
        println!(
            "{} values are not yet under the current key",
            report.rotated()
        );
        return Ok(());
    }
    anyhow::bail!(
        "{} values could not be re-encrypted and {} kept changing; keep PAYGATE_DATA_KEYS_PREVIOUS and run again",
        report.failed(),
        report.left_changing
    )
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            if config.mode == Mode::Sandbox {
                tracing::warn!("sandbox mode: test keys only, no real money moves");
            }
            let app = Application::build(config, Options::default()).await?;
            app.run_until_signal().await
        }
        Command::Sandbox {
            command: SandboxCommand::Serve,
        } => paygate::startup::serve_emulators(&config).await,
        Command::Migrate => {
            let db = connect_and_migrate(&config).await?;
            db.pool.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Create { name },
        } => {
            let db = connect_and_migrate(&config).await?;
            let live = config.mode == Mode::Live;
            let (key, record) =
                paygate::auth::create_key(&db, &name, live, Clock::default().now_ms()).await?;
            db.pool.close().await;
            println!("{key}");
            eprintln!(
                "Created key {} ({}…) named {:?}. Store it now: paygate keeps only its hash.",
                record.id, record.prefix, record.name
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::List,
        } => {
            let db = connect_and_migrate(&config).await?;
            let keys = paygate::auth::list_keys(&db).await;
            db.pool.close().await;
            let keys = keys?;
            if keys.is_empty() {
                println!("no keys yet: paygate keys create --name NAME");
            }
            for k in keys {
                let state = match k.revoked_at {
                    Some(at) => format!("revoked {}", utc(at)),
                    None => "active".to_string(),
                };
                println!(
                    "{}\t{}…\t{}\tcreated {}\t{state}",
                    k.id,
                    k.prefix,
                    k.name,
                    utc(k.created_at)
                );
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Revoke { id },
        } => {
            use paygate::auth::Revocation;
            let db = connect_and_migrate(&config).await?;
            let outcome = paygate::auth::revoke_key(&db, &id, Clock::default().now_ms()).await;
            db.pool.close().await;
            match outcome? {
                Revocation::Revoked => {
                    println!("revoked {id}; every instance refuses it from its next request");
                    Ok(())
                }
                Revocation::AlreadyRevoked => anyhow::bail!("{id} was already revoked"),
                Revocation::Unknown => anyhow::bail!("no key {id} (see paygate keys list)"),
            }
        }
        Command::Keys {
            command:
                KeysCommand::RotateDataKey {
                    batch_size,
                    dry_run,
                },
        } => {
            let db = connect_and_migrate(&config).await?;
            let result = rotate_data_key(&db, &config, batch_size, dry_run).await;
            db.pool.close().await;
            result
        }
        Command::Admin { command } => {
            let db = connect_and_migrate(&config).await?;
            let result = admin(&db, command.unwrap_or(AdminCommand::List)).await;
            db.pool.close().await;
            result
        }
        Command::Events {
            command: EventsCommand::Replay { provider, event_id },
        } => {
            let provider = ProviderName::parse(&provider)
                .ok_or_else(|| anyhow::anyhow!("unknown provider {provider:?} (stripe, paypal)"))?;
            let db = connect_and_migrate(&config).await?;
            let now = Clock::default().now_ms();
            match inbox::store::requeue(&db, provider, &event_id, now).await? {
                inbox::store::Requeue::Queued => {
                    println!("event {event_id} queued; the running server applies it");
                    Ok(())
                }
                inbox::store::Requeue::Busy => {
                    anyhow::bail!(
                        "a worker is applying {event_id} right now; try again in a minute"
                    )
                }
                inbox::store::Requeue::Unknown => {
                    anyhow::bail!("no stored {provider} event {event_id}")
                }
            }
        }
        Command::Events {
            command: EventsCommand::Parked,
        } => {
            let db = connect_and_migrate(&config).await?;
            let parked = inbox::store::parked(&db, 1000).await?;
            db.pool.close().await;
            if parked.is_empty() {
                println!("no parked provider events");
            }
            for e in parked {
                println!(
                    "{}\t{}\t{}\tattempts {}\t{}",
                    e.provider,
                    e.event_id,
                    e.event_type,
                    e.attempts,
                    e.reason.unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

async fn admin(db: &paygate::db::Db, command: AdminCommand) -> anyhow::Result<()> {
    use paygate::admin::accounts;
    let now = Clock::default().now_ms();
    match command {
        AdminCommand::Create { email } => {
            let password = read_password()?;
            let admin = accounts::create(db, &email, &password, now).await?;
            println!("created admin {} ({})", admin.email, admin.id);
        }
        AdminCommand::List => {
            let admins = accounts::list(db).await?;
            if admins.is_empty() {
                println!("no admins yet: paygate admin create --email you@example.com");
            }
            for a in admins {
                let state = if a.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}", a.email, state, a.id);
            }
        }
        AdminCommand::Disable { email } => {
            let admin = accounts::disable(db, &email, now).await?;
            println!("disabled admin {}; their sessions are ended", admin.email);
        }
    }
    Ok(())
}

/// A UTC time for the command line, from Unix milliseconds.
fn utc(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// The new admin's password: prompted twice on a terminal (not echoed), else one line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
