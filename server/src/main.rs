//! Entry point: parse the command line, load the configuration, run the command.

use paygate::cli::{self, Command, EventsCommand, KeysCommand};
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

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            if config.mode == Mode::Sandbox {
                tracing::warn!("sandbox mode: test keys only, no real money moves");
            }
            let app = Application::build(config, Options::default()).await?;
            app.run_until_signal().await
        }
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
        Command::Events {
            command: EventsCommand::Replay { provider, event_id },
        } => {
            let provider = ProviderName::parse(&provider)
                .ok_or_else(|| anyhow::anyhow!("unknown provider {provider:?} (stripe, paypal)"))?;
            let db = connect_and_migrate(&config).await?;
            if inbox::store::requeue(&db, provider, &event_id, Clock::default().now_ms()).await? {
                println!("event {event_id} queued; the running server applies it");
                Ok(())
            } else {
                anyhow::bail!("no stored {provider} event {event_id}")
            }
        }
    }
}
