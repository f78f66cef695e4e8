//! The `paygate` command line.

use crate::config::VARIABLES;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "paygate",
    version,
    about = "paygate: a self-hosted payment gateway for Stripe and PayPal",
    long_about = "paygate: a self-hosted payment gateway for Stripe and PayPal.\n\nWithout a command it serves (same as `paygate serve`). Configuration comes from environment variables (and an optional TOML file named by PAYGATE_CONFIG); they are listed below."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the merchant API, the widget, the console and webhooks (the default).
    Serve,
    /// Apply database migrations and exit (serve also applies them at start).
    Migrate,
    /// Manage merchant secret keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage the admin console's accounts (without a subcommand: list them).
    Admin {
        #[command(subcommand)]
        command: Option<AdminCommand>,
    },
    /// Work with stored provider events (the inbox).
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// The sandbox's provider emulators.
    Sandbox {
        #[command(subcommand)]
        command: SandboxCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve only the Stripe and PayPal emulators, on PAYGATE_SANDBOX_LISTEN, posting their
    /// webhooks to PAYGATE_PUBLIC_URL (a load balancer or one instance). Instances started with
    /// PAYGATE_SANDBOX_EMULATORS=<this URL> use them instead of their own, so several
    /// instances share one set of emulators and can be stopped or killed while it runs.
    /// Prints `sandbox emulators listening on <URL>` once ready.
    Serve,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a merchant secret key; it is printed once, only its hash is stored.
    Create {
        /// A name to tell the key apart (e.g. "shop backend").
        #[arg(long)]
        name: String,
    },
    /// List the merchant keys: id, prefix, name, creation time, and whether revoked.
    List,
    /// Revoke a key by its id (from `keys list`): every instance refuses it from the next
    /// request; the audit log records it.
    Revoke {
        #[arg(long)]
        id: String,
    },
    /// Re-encrypt every stored personal-data value under PAYGATE_DATA_KEY, in batches, while
    /// paygate serves. Before: give every instance the new key in PAYGATE_DATA_KEYS_PREVIOUS,
    /// then swap (new in PAYGATE_DATA_KEY, old in PAYGATE_DATA_KEYS_PREVIOUS); run this with
    /// that configuration; drop the old key once it reports nothing left. Writes nothing unless
    /// the configured keys read every value; safe to run again; exits non-zero if anything
    /// could not be re-encrypted.
    RotateDataKey {
        /// Rows per write transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        batch_size: i64,
        /// Only count the values not yet under PAYGATE_DATA_KEY; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin. The password is read from standard input (one line) or, on a terminal,
    /// prompted for twice; only its Argon2id hash is stored.
    Create {
        #[arg(long)]
        email: String,
    },
    /// List admins, with their state.
    List,
    /// Disable an admin and end their sessions at once.
    Disable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Re-apply a stored provider event (replays are safe: payments never move backwards).
    Replay {
        /// stripe or paypal
        #[arg(long)]
        provider: String,
        /// The provider's event id (evt_... / WH-...).
        #[arg(long)]
        event_id: String,
    },
    /// List the provider events parked after their last attempt (newest first), with why.
    Parked,
}

/// Parses the command line, with the configuration variables appended to `--help`.
pub fn parse() -> Cli {
    let mut help = String::from("Configuration (environment variables):\n");
    for (name, meaning) in VARIABLES {
        help.push_str(&format!("  {name}\n      {meaning}\n"));
    }
    let matches = Cli::command()
        .after_long_help(help.clone())
        .after_help(help)
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}
