//! `ragtrace serve`: an OTLP/HTTP receiver that writes to the store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use ragtrace::store::Store;
use ragtrace::store::ingest::{Receiver, ReceiverConfig};

/// Receives OTLP/HTTP traces (protobuf or JSON, POST /v1/traces) and writes
/// them to the store. Point an OpenTelemetry exporter or Collector at it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:4318")]
    listen: SocketAddr,
    /// The store file (created if missing).
    #[arg(long, env = "RAGTRACE_DB", default_value = "ragtrace.db")]
    db: PathBuf,
    #[command(flatten)]
    pricing: crate::pricing_args::PricingArgs,
    /// The largest request body accepted, in bytes (compressed or not).
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    max_body: usize,
    /// Open connections at most; more wait until one closes. Keep it under
    /// the file descriptor limit (`ulimit -n`).
    #[arg(long, default_value_t = 128)]
    max_connections: usize,
    /// Time a client has to send a request's head; also how long an idle
    /// kept-alive connection stays open.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    header_timeout: Duration,
    /// Time a client has to send a request's body (then 408).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    body_timeout: Duration,
    /// On interrupt, time requests in flight get to finish before their
    /// connections are closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    shutdown_grace: Duration,
    /// Keep prompt and completion content (gen_ai.prompt,
    /// gen_ai.input.messages, input.value, output.value, ...) as received.
    /// By default it is replaced with [REDACTED]; credentials are redacted
    /// either way.
    #[arg(long)]
    keep_content: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // The receiver reports refused requests through `tracing`.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let pricer = args.pricing.pricer()?;
    // Refuses a store it cannot write before saying it listens.
    let store = Store::open(&args.db)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let mut config = ReceiverConfig::new()
            .max_body_bytes(args.max_body)
            .max_connections(args.max_connections)
            .header_timeout(args.header_timeout)
            .body_timeout(args.body_timeout)
            .shutdown_grace(args.shutdown_grace)
            .keep_content(args.keep_content);
        if let Some(pricer) = pricer {
            config = config.pricer(pricer);
        }
        let receiver = Receiver::bind(args.listen, store, config)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = receiver.local_addr()?;
        // The first line says where to send traces (tests read it too).
        println!(
            "listening on http://{addr}/v1/traces, writing to {}",
            args.db.display()
        );
        let stats = receiver.stats();
        receiver
            .serve(async {
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("stopping: finishing requests in flight (interrupt again to quit now)");
                // A second interrupt quits at once: what was acknowledged
                // is already committed.
                tokio::spawn(async {
                    let _ = tokio::signal::ctrl_c().await;
                    eprintln!("interrupted again: quitting without waiting");
                    std::process::exit(130);
                });
            })
            .await?;
        eprintln!(
            "stopped: {} spans stored from {} requests; {} requests refused",
            stats.spans(),
            stats.accepted(),
            stats.rejected() + stats.unavailable()
        );
        anyhow::Ok(())
    })
}
