//! The command line: every command, flag and argument, with the help text `parceld --help` shows.
//!
//! Only definitions live here; `main.rs` dispatches each command to the module of its job.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::import;

#[derive(Parser)]
#[command(
    name = "parceld",
    version,
    about = "Self-hostable shipment tracking, TrackingMore-compatible"
)]
pub struct Cli {
    /// Configuration file (default: ./parceld.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the database (overrides server.data_dir; used when no database URL is set).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The database, e.g. sqlite:///var/lib/parceld/parceld.db (overrides database.url).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// Copy a whole database into another, empty one, e.g. a SQLite file onto PostgreSQL;
    /// interrupted, run it again to continue. Checks the copy at the end. Stop the servers on
    /// the source first.
    Copy {
        /// The database to copy, e.g. sqlite://data/parceld.db.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The database to copy into (empty, or an interrupted copy of the same source), e.g.
        /// postgres://parceld@db.internal/parceld.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Rows per batch (one transaction on the destination).
        #[arg(long, default_value_t = crate::dbcopy::DEFAULT_BATCH)]
        batch: usize,
    },
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP API server.
    Serve {
        /// Address to listen on (overrides server.bind); port 0 picks a free port.
        #[arg(long, value_name = "ADDR")]
        bind: Option<std::net::SocketAddr>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage the dashboard's users (people who sign in at /dashboard).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage webhook endpoints (the same as /v4/webhooks).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Show or change an account's public tracking page (the same as /v4/tracking-page):
    /// shop_name, logo_url, brand_color, accent_color, support_url, support_email,
    /// support_phone, support_text, host, default_language, show_order_number,
    /// show_courier_contact, show_estimated_delivery.
    Page {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Show or change an account's notifications to its customers (the same as
    /// /v4/notifications/settings): channels, triggers (comma-separated), sender_name,
    /// sender_address, reply_to, quiet_hours (HH:MM-HH:MM), time_zone, daily_cap (0: the
    /// server's).
    Notifications {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Copy the database consistently into FILE (a new file), also while the server runs.
    Backup {
        /// The new backup file; it must not exist yet.
        file: PathBuf,
    },
    /// Replace the database with a backup made by `parceld backup`; refused while a server
    /// runs on the database.
    Restore {
        /// The backup file to restore.
        file: PathBuf,
    },
    /// Work on whole databases (`db copy`).
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Print the OpenAPI document of the API.
    Openapi,
    /// Run the carrier simulator: one HTTP server speaking the six carriers' tracking protocols
    /// under /<courier_code>/…, for tests, benchmarks and demos without internet.
    Sim {
        /// Address the simulator listens on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9090")]
        bind: std::net::SocketAddr,
    },
    /// Look one number up through a carrier adapter (as configured) and print the result.
    Track {
        /// The courier code of the adapter to ask (e.g. `ups`, `fedex`, `sandbox`).
        courier: String,
        /// The tracking number.
        number: String,
        /// Print the normalized result as JSON, with every checkpoint's raw carrier code.
        #[arg(long)]
        raw: bool,
    },
    /// Bulk-load trackings from a CSV file (create fields as columns) or JSON lines (one create
    /// body per line), validated like `POST /v4/trackings/create`.
    Import {
        /// The file to load: .csv or .jsonl (see --format).
        file: PathBuf,
        /// The account the trackings belong to (default: `server.default_account`).
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
        /// The file's format, when its name does not end in .csv or .jsonl.
        #[arg(long, value_enum)]
        format: Option<import::Format>,
        /// Records per insert transaction.
        #[arg(long, default_value_t = import::DEFAULT_BATCH)]
        batch: usize,
        /// Continue an interrupted import from where it stopped.
        #[arg(long, conflicts_with = "restart")]
        resume: bool,
        /// Forget an interrupted import's progress and begin again.
        #[arg(long)]
        restart: bool,
    },
    /// Measure parceld: API, ingest, refresh, detection, import, memory and the tracking page,
    /// each against a baseline from the same run. Starts its own server and carrier simulator; prints a table.
    Bench {
        /// Seconds per timed scenario.
        #[arg(long)]
        seconds: Option<u64>,
        /// Trackings stored for the import, memory and page scenarios (default 1,000,000).
        #[arg(long)]
        trackings: Option<usize>,
        /// Trackings stored for the refresh scenario (default 100,000).
        #[arg(long)]
        refresh_trackings: Option<usize>,
        /// A small run of every scenario in seconds, to check the bench itself.
        #[arg(long)]
        quick: bool,
        /// Only these scenarios, e.g. `--only api,webhooks` (detection, api, refresh, webhooks,
        /// notify, push, import, memory, page, dashboard, soak; nodes with --database).
        #[arg(long, value_delimiter = ',', value_parser = ["detection", "api", "refresh", "webhooks", "notify", "import", "memory", "page", "dashboard", "push", "soak", "nodes"])]
        only: Vec<String>,
        /// Also run every scenario on this PostgreSQL server (`postgres://USER@HOST:PORT/DB`),
        /// in databases the bench creates and drops, with one and two worker nodes sharing one;
        /// the table gets a SQLite and a PostgreSQL column and the PostgreSQL targets.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// Also run the soak: API load, refresh, webhooks and imports at once for DURATION
        /// (`90s`, `10m`, `1h`), sampling the server's memory and descriptors; `--only soak`
        /// alone soaks for 10 minutes.
        #[arg(long, value_name = "DURATION", value_parser = crate::bench::parse_duration)]
        soak: Option<std::time::Duration>,
        /// Also write the figures as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Work in DIR and keep its databases afterwards (one per scenario), to reproduce a
        /// figure by hand; DIR is emptied first.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Name the courier of tracking numbers, from their format and check digit.
    Detect {
        /// Tracking numbers (spaces and dashes inside a number are fine if quoted).
        numbers: Vec<String>,
        /// Find tracking numbers inside a text file (an e-mail, say); `-` reads standard input.
        #[arg(long, value_name = "FILE", conflicts_with = "numbers")]
        text: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account (create a key for it with `key create --account NAME`).
    Create {
        /// The new account's name.
        name: String,
    },
    /// List accounts.
    List,
    /// Refuse the account's requests (403) until it is enabled again.
    Disable {
        /// The account's name.
        name: String,
    },
    /// Accept the account's requests again.
    Enable {
        /// The account's name.
        name: String,
    },
    /// Set the account's own rate limits, in requests per second, e.g. `v4_other=20 v2_list=2`
    /// (classes: v4_create, v4_realtime, v4_other, v2_realtime, v2_list, v2_other);
    /// `CLASS=default` goes back to the server's configured limit.
    SetLimits {
        /// The account's name.
        name: String,
        /// One or more limits, each CLASS=RATE or CLASS=default.
        #[arg(required = true, value_name = "CLASS=RATE")]
        limits: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key; it is printed once and stored only as a hash.
    Create {
        /// The account the key belongs to.
        #[arg(long, value_name = "NAME")]
        account: String,
    },
    /// List keys (ids, accounts, dates; never the keys themselves).
    List,
    /// Delete a key: requests with it then get "API key has been deleted".
    Delete {
        /// The key's id (`key_…`, from `key list`).
        key_id: String,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user with a generated password, printed once.
    Create {
        /// The account the user belongs to.
        #[arg(long, value_name = "NAME")]
        account: String,
        /// The address the user signs in with (unique on the server).
        #[arg(long)]
        email: String,
        /// admin (everything), agent (shipments) or viewer (reads only).
        #[arg(long, default_value = "agent", value_parser = ["admin", "agent", "viewer"])]
        role: String,
    },
    /// Give a user a new generated password (printed once), lift a lock-out and end every
    /// session of the user.
    ResetPassword {
        /// The user's address.
        #[arg(long)]
        email: String,
    },
    /// List users (addresses, roles, accounts; never passwords).
    List,
}

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint for an account; prints its id and signing secret.
    Create {
        /// The account whose tracking changes the endpoint receives.
        #[arg(long, value_name = "NAME")]
        account: String,
        /// The receiver's http:// or https:// URL.
        #[arg(long)]
        url: String,
        /// A note for people: what the endpoint is for.
        #[arg(long, default_value = "")]
        description: String,
        /// `all`, or statuses separated by commas (e.g. `delivered,exception`).
        #[arg(long, default_value = "all")]
        statuses: String,
        /// Payload format: v4 or v2 (legacy, with verifyInfo).
        #[arg(long, default_value = "v4")]
        version: String,
    },
    /// List endpoints (of one account, or all).
    List {
        /// Only this account's endpoints.
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
    },
    /// Delete an endpoint with its deliveries.
    Delete {
        /// The endpoint's id (`wh_…`, from `webhook list`).
        id: String,
    },
    /// Enable an endpoint again (also one parceld disabled because it kept failing).
    Enable {
        /// The endpoint's id (`wh_…`, from `webhook list`).
        id: String,
    },
    /// Stop sending to an endpoint; new changes are not queued for it.
    Disable {
        /// The endpoint's id (`wh_…`, from `webhook list`).
        id: String,
    },
    /// Replace an endpoint's signing secret; prints the new one.
    RotateSecret {
        /// The endpoint's id (`wh_…`, from `webhook list`).
        id: String,
    },
}

#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Print the account's settings, defaults filled in.
    Show {
        /// The account whose settings to show.
        #[arg(long, value_name = "NAME")]
        account: String,
    },
    /// Change the account's settings: `name=value` pairs with the fields of the API's body;
    /// only those given change, and an empty value (`logo_url=`) clears one.
    Set {
        /// The account whose settings to change.
        #[arg(long, value_name = "NAME")]
        account: String,
        /// The changes, e.g. `shop_name=Acme brand_color=#0a7d32` or `channels=email,sms`.
        #[arg(value_name = "NAME=VALUE", required = true)]
        settings: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every subcommand has an about line and every argument a help line, down the whole tree,
    /// so `parceld … --help` never shows a bare name.
    #[test]
    fn every_command_and_argument_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() {
                missing.push(format!("command `{path}`"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("argument `{id}` of `{path}`"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "parceld", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
