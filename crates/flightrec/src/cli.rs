//! The command line (DESIGN §8).

use clap::{Args, Parser, Subcommand, ValueEnum};
use flightrec_core::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "flightrec",
    version,
    about = "A tamper-evident flight recorder for AI agents",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server, on the embedded store or (`--database-url`) as one
    /// of several nodes on PostgreSQL.
    Serve(ServeArgs),
    /// Search and read events.
    #[command(subcommand)]
    Events(Box<EventsCommand>),
    /// List runs and read their events.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Check a store, or an export, against its hashes and signed checkpoints.
    Verify(VerifyArgs),
    /// The tamper-evident log: checkpoints and proofs.
    #[command(subcommand)]
    Log(LogCommand),
    /// API keys of your tenant: create, list, revoke.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Tenants (organisations), for the server's operators.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Record an MCP server's session: launch this in place of the server
    /// (`flightrec proxy -- npx @modelcontextprotocol/server-filesystem DIR`).
    Proxy(ProxyArgs),
    /// A C2SP tlog-witness: cosigns the checkpoints of the logs it follows
    /// once it has checked they extend what it cosigned before.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// The PostgreSQL database of a scaled-out deployment.
    #[command(subcommand)]
    Db(DbCommand),
    /// Copy the embedded store into an empty PostgreSQL database, to scale
    /// out: every tenant, person, key, record, tile and checkpoint, so the
    /// log keeps its roots and its old checkpoints still verify.
    Migrate(MigrateArgs),
    /// An MCP server for agents to inspect their own record: the `audit`
    /// and `search_audit_log` tools (`-- <server command>` lets `audit`
    /// replay sessions against that server).
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite store to copy, read as one consistent snapshot. Stop its
    /// server first: what it records after the copy begins is not copied.
    #[arg(long, value_name = "DIR")]
    pub from_data_dir: PathBuf,
    /// The PostgreSQL database to copy into (postgres://USER@HOST/DATABASE):
    /// its schema is created if it has none; a store holding any tenant or
    /// record is refused.
    #[arg(long, value_name = "URL", value_parser = secret)]
    pub to: Secret,
    /// The logs' verifier keys (`flightrec log trust` writes them) that the
    /// copy is verified against once committed; by default those of the log
    /// key kept in the data dir.
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// Needed when a tenant encrypts at rest: the copy's search index is
    /// built from the bodies, and the copy's bodies verified.
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Print the GRANT statements that give ROLE what a node needs and no
    /// more (no UPDATE or DELETE on records, tiles or checkpoints), for the
    /// schema's owner to run after the first start and after upgrades.
    Grants {
        /// The role the nodes sign in as.
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Run a witness (POST /add-checkpoint, per C2SP tlog-witness).
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(
            long,
            env = "FLIGHTREC_WITNESS_LISTEN",
            default_value = "127.0.0.1:7341"
        )]
        listen: SocketAddr,
        /// Where the witness keeps its key and the latest tree of each log;
        /// created on first start.
        #[arg(
            long,
            env = "FLIGHTREC_WITNESS_DATA_DIR",
            default_value = "./flightrec-witness"
        )]
        data_dir: PathBuf,
        /// The witness's key name, e.g. witness.example.com (default
        /// flightrec-witness, or the existing key's).
        #[arg(long)]
        name: Option<String>,
        /// A log to follow, by its verifier key; repeatable.
        #[arg(long = "log")]
        logs: Vec<String>,
        /// A trust file of logs to follow (`flightrec log trust` writes one).
        #[arg(long)]
        trust: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The proxy's policy, applied to replays too: denied calls are not
    /// re-run, dry-run ones are skipped.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
    /// The MCP server replays run against, after `--` (as given to the
    /// proxy).
    #[arg(last = true, value_name = "UPSTREAM")]
    pub upstream: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Governance rules (TOML): deny or dry-run tools by name pattern.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Where events wait while flightrec is unreachable (default
    /// $XDG_STATE_HOME/flightrec/spool, else ~/.local/state/flightrec/spool).
    #[arg(long, env = "FLIGHTREC_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
    /// The MCP server to run, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; its secret is printed once.
    Create {
        /// What the key is for, e.g. "ci" or "support-agent".
        #[arg(long, default_value = "cli")]
        name: String,
        /// Comma-separated: ingest, read, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Bind the key to one agent: its events get this agent_id, and it
        /// cannot record another's.
        #[arg(long)]
        agent_id: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke a key at once.
    Revoke {
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Make a master key for encryption at rest, in a file only you can
    /// read (or printed, without --out).
    NewMaster {
        #[arg(long, short = 'o')]
        out: Option<PathBuf>,
    },
    /// Wrap every tenant's data key with a new master key. Give the
    /// current master key as to `serve`, the new one with --new-key-file;
    /// then restart every node with the new one.
    RotateMaster {
        /// The new master key (`flightrec keys new-master -o FILE`).
        #[arg(long)]
        new_key_file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        master: MasterKeyArgs,
    },
}

/// Where a store is, for commands that open it directly.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[arg(long, env = "FLIGHTREC_DATA_DIR", default_value = "./flightrec-data")]
    pub data_dir: PathBuf,
    /// A PostgreSQL store instead (postgres://USER@HOST/DATABASE).
    #[arg(
        long,
        env = "FLIGHTREC_DATABASE_URL",
        hide_env_values = true,
        value_parser = secret
    )]
    pub database_url: Option<Secret>,
}

/// The master key that wraps the data keys of tenants that encrypt their
/// bodies at rest: FLIGHTREC_MASTER_KEY (base64 or hex, 32 bytes), or a
/// file only its owner may read.
#[derive(Debug, Args, Clone, Default)]
pub struct MasterKeyArgs {
    /// A file holding the master key (`flightrec keys new-master -o FILE`
    /// makes one); instead of FLIGHTREC_MASTER_KEY.
    #[arg(long, env = "FLIGHTREC_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant with an owner and an API key, printed once. Needs an
    /// admin key (or owner) of the `default` tenant.
    Create {
        name: String,
        /// The owner's email; default owner@<tenant id>.
        #[arg(long)]
        owner_email: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The store to verify: opened read-only, as one consistent snapshot,
    /// so it can run beside a live server; never created.
    #[arg(long, env = "FLIGHTREC_DATA_DIR", conflicts_with = "export")]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL store to verify instead (postgres://USER@HOST/DATABASE):
    /// read as one consistent snapshot while the nodes go on writing.
    #[arg(
        long,
        env = "FLIGHTREC_DATABASE_URL",
        hide_env_values = true,
        value_parser = secret
    )]
    pub database_url: Option<Secret>,
    /// To check the bodies of tenants that encrypt at rest (without it,
    /// their headers and proofs are checked, and the bodies counted).
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
    /// A JSONL export to verify offline.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// The signed checkpoint the export must match (a file); by default the
    /// one the export carries, checked against the trusted keys all the same.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The logs' verifier keys, one per line (`flightrec log trust` writes
    /// it). Verification never reads a private key.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// A log's verifier key (`<origin>/<tenant>+<id>+<key>`), or a file
    /// holding keys; repeat it for several tenants.
    #[arg(long)]
    pub key: Vec<String>,
    /// Also compare the free-text index with the records it was built from
    /// (slower: every record's text is tokenised again). The index only
    /// chooses which records a search finds; their content always comes
    /// from the records, which are checked regardless.
    #[arg(long)]
    pub search_index: bool,
    /// A C2SP tlog-proof file to check offline (with --record).
    #[arg(long, requires = "record", conflicts_with_all = ["data_dir", "export"])]
    pub proof: Option<PathBuf>,
    /// The record the proof file is for: `flightrec log proof ID -o` saves
    /// it, as does each line of a JSONL export.
    #[arg(long)]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub witnesses: WitnessArgs,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Print the newest signed checkpoint.
    Checkpoint {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Fetch and check the inclusion proof of a record (by event id, or by
    /// its seq when all digits), against keys you trust (not the server's
    /// word); `-o FILE` saves it as a C2SP tlog-proof file, with the record
    /// beside it (FILE's name, `.json`).
    Proof {
        record: String,
        /// Save the proof file here (and the record as <FILE stem>.json).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        keys: TrustArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create a log signing key in a new file (mode 0600), to give every
    /// node of a deployment (`--log-key-file`); prints its verifier key.
    NewKey {
        /// The origin that names the logs in checkpoints (each tenant's log
        /// is <origin>/<tenant>), e.g. your server's host name.
        #[arg(long, default_value = "flightrec.local")]
        origin: String,
        /// The file to create; an existing file is never overwritten.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the verifier keys of your tenant's log (operators: of every
    /// tenant) as a trust file for `verify --trust`.
    Trust {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Prove that the server's log today extends a checkpoint you saved
    /// earlier: fetch a consistency proof and check it here.
    Consistency {
        /// The signed checkpoint saved earlier (a file).
        saved_checkpoint: PathBuf,
        #[command(flatten)]
        keys: TrustArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A monitor: keep the newest checkpoint seen in DIR and check each new
    /// one extends it; fails loudly on a fork or a rollback.
    Watch {
        /// Where the last checkpoint seen is kept between runs.
        #[arg(long)]
        state: PathBuf,
        /// Check again every this many seconds; 0 checks once and exits.
        #[arg(long, default_value_t = 0)]
        interval: u64,
        #[command(flatten)]
        keys: TrustArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// The keys a client command checks the server's answers with.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// A trust file (`flightrec log trust` writes one; keep it from a
    /// source you trust).
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// A log's verifier key, or a file holding it; repeatable.
    #[arg(long)]
    pub key: Vec<String>,
    #[command(flatten)]
    pub witnesses: WitnessArgs,
}

/// The witnesses whose cosignatures a checkpoint must carry.
#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// A witness's cosignature verifier key (`<name>+<id>+<key>`), or a
    /// file holding keys; repeatable.
    #[arg(long = "witness")]
    pub witness: Vec<String>,
    /// How many of the witnesses must have cosigned (default: all given).
    #[arg(long)]
    pub witness_threshold: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "FLIGHTREC_LISTEN", default_value = "127.0.0.1:7340")]
    pub listen: SocketAddr,
    /// Directory of the embedded store; created on first start if missing or empty.
    #[arg(long, env = "FLIGHTREC_DATA_DIR", default_value = "./flightrec-data")]
    pub data_dir: PathBuf,
    /// Keep everything in PostgreSQL (14 or newer) instead of the data dir,
    /// so that several stateless nodes can share it:
    /// postgres://USER@HOST/DATABASE. Needs the log key, the session key
    /// and the webhook key from the environment (docs/scale-out.md).
    #[arg(
        long,
        env = "FLIGHTREC_DATABASE_URL",
        hide_env_values = true,
        value_parser = secret
    )]
    pub database_url: Option<Secret>,
    /// A file holding the log's private signing key (`flightrec log
    /// new-key` writes one); instead of FLIGHTREC_LOG_KEY or the data dir's.
    #[arg(long, env = "FLIGHTREC_LOG_KEY_FILE")]
    pub log_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub master_key: MasterKeyArgs,
    /// Load a demo run (a coding agent fixing a bug) so there is something to look at.
    #[arg(long)]
    pub demo: bool,
    /// fsync: acknowledged events survive power loss. os: they survive a crash of flightrec only.
    #[arg(long, env = "FLIGHTREC_DURABILITY", value_enum, default_value_t = DurabilityArg::Fsync)]
    pub durability: DurabilityArg,
    /// The origin that names this server's logs in checkpoints (each tenant's
    /// log is <origin>/<tenant>); used when the log key is first created.
    #[arg(long, env = "FLIGHTREC_LOG_ORIGIN", default_value = DEFAULT_LOG_ORIGIN)]
    pub log_origin: String,
    /// Sign a checkpoint at most this often, in milliseconds.
    #[arg(long, env = "FLIGHTREC_CHECKPOINT_INTERVAL_MS", default_value_t = 1000)]
    pub checkpoint_interval_ms: u64,
    /// Largest event in bytes.
    #[arg(long, env = "FLIGHTREC_MAX_EVENT_BYTES", default_value_t = 1024 * 1024)]
    pub max_event_bytes: usize,
    /// Most events in one batch.
    #[arg(long, env = "FLIGHTREC_MAX_BATCH_EVENTS", default_value_t = 1000)]
    pub max_batch_events: usize,
    /// Largest batch request body in bytes.
    #[arg(long, env = "FLIGHTREC_MAX_BATCH_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_batch_bytes: usize,
    /// Requests per second per API key or signed-in person, with a burst of
    /// the same size; 0 for no limit.
    #[arg(
        long,
        env = "FLIGHTREC_RATE_LIMIT_PER_KEY_RPS",
        default_value_t = 20_000
    )]
    pub rate_limit_per_key_rps: u32,
    /// Requests per second per tenant, all its callers together; 0 for no limit.
    #[arg(
        long,
        env = "FLIGHTREC_RATE_LIMIT_PER_TENANT_RPS",
        default_value_t = 50_000
    )]
    pub rate_limit_per_tenant_rps: u32,
    /// How long a sign-in lasts unless a tenant's settings say otherwise:
    /// a number with s, m, h or d.
    #[arg(long, env = "FLIGHTREC_SESSION_TTL", default_value = "12h", value_parser = parse_duration)]
    pub session_ttl: std::time::Duration,
    /// Let webhooks reach loopback, private and link-local addresses (for
    /// receivers inside your network).
    #[arg(
        long,
        env = "FLIGHTREC_WEBHOOKS_ALLOW_PRIVATE_TARGETS",
        value_parser = clap::builder::BoolishValueParser::new(),
        default_value = "false",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub webhooks_allow_private_targets: bool,
    /// Witnesses to ask for cosignatures of every checkpoint, as
    /// `<url> <witness key>` pairs separated by commas.
    #[arg(long, env = "FLIGHTREC_WITNESSES")]
    pub witnesses: Option<String>,
    /// Serve `GET /metrics` to anyone, without credentials (for a
    /// Prometheus on a private network); otherwise it takes a `read` key
    /// or sign-in of the `default` tenant.
    #[arg(
        long,
        env = "FLIGHTREC_METRICS_PUBLIC",
        value_parser = clap::builder::BoolishValueParser::new(),
        default_value = "false",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub metrics_public: bool,
    /// Origins (`scheme://host[:port]`, comma-separated) whose web pages may
    /// call the API with an API key, such as a page using the TypeScript
    /// SDK; none by default. The dashboard's sign-in never works across
    /// origins.
    #[arg(long, env = "FLIGHTREC_CORS_ORIGINS")]
    pub cors_origins: Option<String>,
}

/// The log origin when none is configured.
pub const DEFAULT_LOG_ORIGIN: &str = "flightrec.local";

/// A value that may hold a password (a database URL): its `Debug` never
/// shows it.
fn secret(s: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(s))
}

/// `90s`, `30m`, `12h`, `7d`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 30m, 12h or 7d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?} is not a duration like 90s, 30m, 12h or 7d")),
    };
    match n.checked_mul(secs) {
        Some(total) if total > 0 => Ok(std::time::Duration::from_secs(total)),
        _ => Err(format!(
            "{s:?} must be more than nothing and less than forever"
        )),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DurabilityArg {
    Fsync,
    Os,
}

/// Where the server is and how to sign in.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The flightrec server.
    #[arg(
        long,
        env = "FLIGHTREC_SERVER",
        default_value = "http://127.0.0.1:7340",
        global = true
    )]
    pub server: String,
    /// API key (prefer the environment variable: flags show up in `ps`).
    #[arg(long, env = "FLIGHTREC_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events matching filters, newest first.
    Search {
        #[command(flatten)]
        filters: EventFilters,
        /// How many events (up to 1000 per page; more are fetched page by page).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Follow the log: print each new event matching the filters as it is
    /// committed, until interrupted (`--json`: one JSON object per line).
    Tail {
        #[command(flatten)]
        filters: EventFilters,
        /// Start after this record (its `seq`) instead of from now.
        #[arg(long)]
        after_seq: Option<u64>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Args)]
pub struct EventFilters {
    #[arg(long = "type")]
    pub event_type: Option<String>,
    #[arg(long)]
    pub run_id: Option<String>,
    #[arg(long)]
    pub agent_id: Option<String>,
    #[arg(long)]
    pub session_id: Option<String>,
    /// Actor email, or id when it has none.
    #[arg(long)]
    pub actor: Option<String>,
    /// human, agent or system.
    #[arg(long)]
    pub actor_type: Option<String>,
    #[arg(long)]
    pub resource_type: Option<String>,
    #[arg(long)]
    pub resource_id: Option<String>,
    #[arg(long)]
    pub verb: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    /// ok, fail or warn.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub governance_status: Option<String>,
    /// An RFC 3339 time or a span back from now: 15m, 1h, 24h, 7d, 30d.
    #[arg(long)]
    pub since: Option<String>,
    /// An RFC 3339 time.
    #[arg(long)]
    pub until: Option<String>,
    /// Free text; every word must occur.
    #[arg(long, short = 'q')]
    pub q: Option<String>,
}

impl EventFilters {
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("type", &self.event_type),
            ("run_id", &self.run_id),
            ("agent_id", &self.agent_id),
            ("session_id", &self.session_id),
            ("actor", &self.actor),
            ("actor_type", &self.actor_type),
            ("resource_type", &self.resource_type),
            ("resource_id", &self.resource_id),
            ("verb", &self.verb),
            ("provider", &self.provider),
            ("status", &self.status),
            ("governance_status", &self.governance_status),
            ("since", &self.since),
            ("until", &self.until),
            ("q", &self.q),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Runs, most recently active first.
    List {
        /// running, paused, completed, cancelled or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        agent_id: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A run's events in order.
    Log {
        run: String,
        /// Only these types, comma-separated.
        #[arg(long)]
        types: Option<String>,
        /// From this RFC 3339 time.
        #[arg(long)]
        from: Option<String>,
        /// Up to this RFC 3339 time.
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// What the agent had at one point: files, context, status.
    State {
        run: String,
        /// After the event at this index (0 is the run's first).
        #[arg(long, conflicts_with = "at")]
        event: Option<u64>,
        /// After every event up to this RFC 3339 time.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Writes a run out: json, jsonl (verifiable offline), csv, transcript,
    /// asciicast, html, or gif (the replay as an animated image).
    Export {
        run: String,
        #[arg(long, default_value = "json")]
        format: String,
        /// The file to write; standard output when not given.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Plays a run back at its own pace (times `--speed`), following it
    /// live if it is still running.
    Replay {
        run: String,
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Start at this event index.
        #[arg(long, default_value_t = 0)]
        from_event: u64,
        /// Print events as they come instead of the terminal player (the
        /// default when stdout is not a terminal).
        #[arg(long)]
        no_tui: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
}
