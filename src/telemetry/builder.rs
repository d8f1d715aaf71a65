//! [`TelemetryBuilder`]: which sinks, from configuration and the standard
//! environment variables, composed into a subscriber or a layer.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use tracing::level_filters::LevelFilter;
use tracing::{Dispatch, Subscriber};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

use super::console::ConsoleExporter;
use super::env::{self, EnvPlan, LogFormat, OtlpProtocol};
use super::error::TelemetryError;
use super::filter;
use super::guard::Telemetry;
use super::logs::JsonLogFormat;
use super::queue::{Driver, QueueConfig, QueueProcessor};
use super::report::Reporter;
use crate::instrument::Options;
use crate::pricing::{PRICING_DIR_ENV, PriceTable, Pricer};
use crate::tokens::Tokenizer;

/// The store file used when none is configured.
pub const DEFAULT_STORE_PATH: &str = "ragtrace.db";

/// Whether a sink was asked for, refused, or left to the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Toggle {
    Auto,
    On,
    Off,
}

type EnvSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Configures telemetry: which sinks run, how they queue, how logs look.
///
/// Settings made here win over the environment; what is left unset comes
/// from the standard OpenTelemetry variables (see [`init`](super::init)).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ragtrace::telemetry::{LogFormat, Telemetry};
///
/// let _telemetry = Telemetry::builder()
///     .service_name("rag-api")
///     .store("/var/lib/rag-api/traces.db")
///     .console(true)
///     .log_format(LogFormat::Json)
///     .init()?;
/// # Ok(()) }
/// ```
pub struct TelemetryBuilder {
    env: Option<EnvSource>,
    service_name: Option<String>,
    resource: Vec<KeyValue>,
    otlp: Toggle,
    otlp_endpoint: Option<String>,
    otlp_protocol: Option<OtlpProtocol>,
    otlp_timeout: Option<Duration>,
    otlp_queue: QueueConfig,
    store: Toggle,
    store_path: Option<PathBuf>,
    store_queue: QueueConfig,
    console: Toggle,
    console_writer: Option<Box<dyn Write + Send>>,
    sampler: Option<Sampler>,
    log_format: Option<LogFormat>,
    default_log_filter: String,
    log_writer: Option<BoxMakeWriter>,
    trace_level: LevelFilter,
    shutdown_timeout: Duration,
    pricer: Option<Arc<dyn Pricer>>,
    wrappers: WrapperOptions,
    report_interval: Duration,
}

/// What `init` does about the traced wrappers' process-wide [`Options`].
enum WrapperOptions {
    /// Price with the built-in table (plus `RAGTRACE_PRICING_DIR`) and count
    /// with the tokenizer when a provider reports no usage.
    Default,
    /// Install these.
    Given(Options),
    /// Leave them alone.
    Untouched,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("reads_env", &self.env.is_some())
            .field("otlp", &self.otlp)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .field("store", &self.store)
            .field("store_path", &self.store_path)
            .field("console", &self.console)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

impl Default for TelemetryBuilder {
    fn default() -> Self {
        TelemetryBuilder {
            env: Some(Arc::new(env::process_env)),
            service_name: None,
            resource: Vec::new(),
            otlp: Toggle::Auto,
            otlp_endpoint: None,
            otlp_protocol: None,
            otlp_timeout: None,
            otlp_queue: QueueConfig::new(),
            store: Toggle::Auto,
            store_path: None,
            store_queue: QueueConfig::new()
                .capacity(8192)
                .batch_size(1024)
                .flush_interval(Duration::from_millis(500)),
            console: Toggle::Auto,
            console_writer: None,
            sampler: None,
            log_format: None,
            default_log_filter: "info".to_owned(),
            log_writer: None,
            trace_level: LevelFilter::INFO,
            shutdown_timeout: Duration::from_secs(5),
            pricer: None,
            wrappers: WrapperOptions::Default,
            report_interval: Duration::from_secs(10),
        }
    }
}

/// Everything built, before it is put into a subscriber.
struct Parts {
    telemetry: Telemetry,
    tracer: Option<SdkTracer>,
    trace_filter: Targets,
    log_format: LogFormat,
    log_filter: EnvFilter,
    log_writer: BoxMakeWriter,
}

impl TelemetryBuilder {
    /// A builder that reads the environment for whatever it is not told.
    pub fn new() -> Self {
        TelemetryBuilder::default()
    }

    /// Ignores every environment variable: only what the builder is told
    /// counts (`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` included).
    pub fn ignore_env(mut self) -> Self {
        self.env = None;
        self
    }

    /// Reads settings from `lookup` instead of the process environment
    /// (for tests, or configuration kept elsewhere).
    pub fn env_from(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Arc::new(lookup));
        self
    }

    /// The service name (`service.name`); wins over `OTEL_SERVICE_NAME`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute to every span.
    pub fn resource_attribute(mut self, attribute: KeyValue) -> Self {
        self.resource.push(attribute);
        self
    }

    /// Exports over OTLP to `endpoint`, a base URL like
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://collector:4318`; HTTP adds
    /// `/v1/traces`).
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp = Toggle::On;
        self.otlp_endpoint = Some(endpoint.into());
        self
    }

    /// The OTLP protocol (default: `OTEL_EXPORTER_OTLP_PROTOCOL`, else
    /// HTTP/protobuf).
    pub fn otlp_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.otlp_protocol = Some(protocol);
        self
    }

    /// How long one OTLP export may take (default:
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10 s).
    pub fn otlp_timeout(mut self, timeout: Duration) -> Self {
        self.otlp_timeout = Some(timeout);
        self
    }

    /// The OTLP sink's queue (default: 2048 spans, batches of 512).
    pub fn otlp_queue(mut self, queue: QueueConfig) -> Self {
        self.otlp_queue = queue;
        self
    }

    /// Never exports over OTLP, whatever the environment says.
    pub fn no_otlp(mut self) -> Self {
        self.otlp = Toggle::Off;
        self
    }

    /// Writes spans to the store at `path` (also when OTLP is on).
    pub fn store(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = Toggle::On;
        self.store_path = Some(path.into());
        self
    }

    /// Never writes to the store, even when nothing else is configured.
    pub fn no_store(mut self) -> Self {
        self.store = Toggle::Off;
        self
    }

    /// The store sink's queue (default: 8192 spans, batches of 1024).
    pub fn store_queue(mut self, queue: QueueConfig) -> Self {
        self.store_queue = queue;
        self
    }

    /// Prices spans the store receives with usage but without a cost.
    pub fn pricer(mut self, pricer: Arc<dyn Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// The [`Options`] that [`init`](Self::init) and [`layer`](Self::layer)
    /// install for every traced wrapper without its own (pricer, token
    /// counter, content capture); [`dispatch`](Self::dispatch) installs
    /// nothing global.
    ///
    /// Default: the built-in price table with `RAGTRACE_PRICING_DIR` layered
    /// over it, and the [`Tokenizer`] for calls whose provider reports no
    /// usage; capture off. Options installed before `init` are kept.
    pub fn instrument_options(mut self, options: Options) -> Self {
        self.wrappers = WrapperOptions::Given(options);
        self
    }

    /// `init` and `layer` leave the wrappers' process-wide [`Options`] alone: no
    /// pricer is installed, so spans are `unpriced` unless the application
    /// installs one itself.
    pub fn no_instrument_options(mut self) -> Self {
        self.wrappers = WrapperOptions::Untouched;
        self
    }

    /// Prints each finished request as a tree on standard error (default:
    /// `RAGTRACE_CONSOLE`, or `console` in `OTEL_TRACES_EXPORTER`).
    pub fn console(mut self, on: bool) -> Self {
        self.console = if on { Toggle::On } else { Toggle::Off };
        self
    }

    /// Prints the request trees to `out` instead of standard error (and
    /// turns them on).
    pub fn console_writer(mut self, out: impl Write + Send + 'static) -> Self {
        self.console = Toggle::On;
        self.console_writer = Some(Box::new(out));
        self
    }

    /// Samples traces (default: `OTEL_TRACES_SAMPLER`, else every trace).
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// How log lines look (default: `RAGTRACE_LOG_FORMAT`, else text).
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
        self
    }

    /// Log filter directives used when `RUST_LOG` is not set (default `info`).
    pub fn default_log_filter(mut self, directives: impl Into<String>) -> Self {
        self.default_log_filter = directives.into();
        self
    }

    /// Where log lines go (default: standard error).
    pub fn log_writer<W>(mut self, writer: W) -> Self
    where
        W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        self.log_writer = Some(BoxMakeWriter::new(writer));
        self
    }

    /// The lowest level of other crates' spans and events that become part
    /// of traces (default `INFO`; ragtrace's own spans are always traced).
    pub fn trace_level(mut self, level: LevelFilter) -> Self {
        self.trace_level = level;
        self
    }

    /// How long dropping the guard waits for each sink to finish (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How often a sink reports ongoing losses at most (default 10 s).
    pub fn loss_report_interval(mut self, interval: Duration) -> Self {
        self.report_interval = interval;
        self
    }

    /// Installs everything as the global subscriber: the OpenTelemetry layer
    /// with the configured sinks, log output filtered by `RUST_LOG`, and the
    /// `log` crate bridge. Also makes the tracer provider and the W3C trace
    /// context propagator OpenTelemetry's global ones, and installs the
    /// wrappers' [`Options`] (see [`instrument_options`](Self::instrument_options)).
    pub fn init(mut self) -> Result<Telemetry, TelemetryError> {
        let options = self.wrapper_options()?;
        let (dispatch, telemetry) = self.dispatch()?;
        tracing::dispatcher::set_global_default(dispatch)
            .map_err(|_| TelemetryError::SubscriberAlreadySet)?;
        install(options);
        if tracing_log::LogTracer::init().is_err() {
            tracing::warn!(
                target: super::report::TARGET,
                "records of the `log` crate are not bridged: another `log` logger is installed"
            );
        }
        if let Some(provider) = &telemetry.provider {
            opentelemetry::global::set_tracer_provider(provider.clone());
        }
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        Ok(telemetry)
    }

    /// Builds the same subscriber as [`init`](Self::init) without
    /// installing anything globally (for a scoped
    /// [`tracing::dispatcher::with_default`], or tests).
    pub fn dispatch(self) -> Result<(Dispatch, Telemetry), TelemetryError> {
        let parts = self.build()?;
        let otel = parts
            .tracer
            .map(|tracer| otel_layer(tracer).with_filter(parts.trace_filter));
        let log = log_layer::<tracing_subscriber::layer::Layered<_, Registry>>(
            parts.log_format,
            parts.log_filter,
            parts.log_writer,
        );
        let subscriber = tracing_subscriber::registry().with(otel).with(log);
        let dispatch = Dispatch::new(subscriber);
        parts.telemetry.reporter.route_to(&dispatch);
        Ok((dispatch, parts.telemetry))
    }

    /// The OpenTelemetry layer with the configured sinks, for a subscriber
    /// the application builds itself. Like [`init`](Self::init), installs
    /// the wrappers' [`Options`]. Log output stays the application's
    /// business (see [`JsonLogFormat`] for trace ids in JSON logs).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// use tracing_subscriber::util::SubscriberInitExt as _;
    ///
    /// let (layer, _telemetry) = ragtrace::telemetry::builder().store("traces.db").layer()?;
    /// tracing_subscriber::registry()
    ///     .with(layer)
    ///     .with(tracing_subscriber::fmt::layer())
    ///     .init();
    /// # Ok(()) }
    /// ```
    pub fn layer<S>(
        mut self,
    ) -> Result<(impl Layer<S> + Send + Sync + 'static, Telemetry), TelemetryError>
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let options = self.wrapper_options()?;
        let parts = self.build()?;
        install(options);
        let layer = parts
            .tracer
            .map(|tracer| otel_layer(tracer).with_filter(parts.trace_filter));
        Ok((layer, parts.telemetry))
    }

    /// The options `init` installs; the store sink prices with the same
    /// table unless it was given its own pricer.
    fn wrapper_options(&mut self) -> Result<Option<Options>, TelemetryError> {
        match std::mem::replace(&mut self.wrappers, WrapperOptions::Untouched) {
            WrapperOptions::Untouched => Ok(None),
            WrapperOptions::Given(options) => Ok(Some(options)),
            WrapperOptions::Default => {
                // The directory comes through the builder's environment, so
                // `ignore_env` and `env_from` hold for it too.
                let mut prices = PriceTable::builder();
                if let Some(dir) = self
                    .env
                    .as_ref()
                    .and_then(|lookup| lookup(PRICING_DIR_ENV))
                    .filter(|dir| !dir.trim().is_empty())
                {
                    prices = prices.dir(dir);
                }
                let table: Arc<dyn Pricer> = Arc::new(prices.build()?);
                if self.pricer.is_none() {
                    self.pricer = Some(Arc::clone(&table));
                }
                Ok(Some(
                    Options::new()
                        .shared_pricer(table)
                        .token_counter(Tokenizer::new()),
                ))
            }
        }
    }

    fn build(mut self) -> Result<Parts, TelemetryError> {
        let env_plan = match &self.env {
            Some(lookup) => env::read(lookup.as_ref())?,
            None => EnvPlan::default(),
        };
        let lookup = |name: &str| self.env.as_ref().and_then(|l| l(name));
        let log_format = self.log_format.or(env_plan.log_format).unwrap_or_default();
        let directives = env_plan
            .log_filter
            .clone()
            .unwrap_or_else(|| self.default_log_filter.clone());
        let log_filter =
            EnvFilter::builder()
                .parse(&directives)
                .map_err(|e| TelemetryError::LogFilter {
                    directives: directives.clone(),
                    reason: e.to_string(),
                })?;
        let reporter = Arc::new(Reporter::new(self.report_interval));

        let mut telemetry = Telemetry {
            provider: None,
            sinks: Vec::new(),
            store_path: None,
            shutdown_timeout: self.shutdown_timeout,
            reporter: Arc::clone(&reporter),
            done: std::sync::atomic::AtomicBool::new(false),
        };
        let trace_filter = filter::traced(self.trace_level);
        let log_writer = self
            .log_writer
            .take()
            .unwrap_or_else(|| BoxMakeWriter::new(std::io::stderr));
        if env_plan.disabled {
            return Ok(Parts {
                telemetry,
                tracer: None,
                trace_filter,
                log_format,
                log_filter,
                log_writer,
            });
        }

        // Which sinks.
        let exporters = env_plan.exporters;
        let otlp_on = match self.otlp {
            Toggle::On => true,
            Toggle::Off => false,
            Toggle::Auto => match exporters {
                Some(list) => list.otlp,
                None => env_plan.endpoint.is_some(),
            },
        };
        let store_path: Option<PathBuf> = match self.store {
            Toggle::Off => None,
            Toggle::On => Some(
                self.store_path
                    .clone()
                    .or_else(|| env_plan.store.clone().map(PathBuf::from))
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE_PATH)),
            ),
            Toggle::Auto => match (&env_plan.store, exporters) {
                (Some(path), _) => Some(PathBuf::from(path)),
                (None, Some(list)) => list.store.then(|| PathBuf::from(DEFAULT_STORE_PATH)),
                (None, None) => (!otlp_on).then(|| PathBuf::from(DEFAULT_STORE_PATH)),
            },
        };
        let console_on = match self.console {
            Toggle::On => true,
            Toggle::Off => false,
            Toggle::Auto => env_plan
                .console
                .or(exporters.map(|list| list.console))
                .unwrap_or(false),
        };

        // The provider and its resource.
        let mut resource = if self.env.is_some() {
            Resource::builder()
        } else {
            Resource::builder_empty()
        };
        if let Some(name) = &self.service_name {
            resource = resource.with_service_name(name.clone());
        }
        resource = resource.with_attributes(self.resource.clone());
        let mut provider = SdkTracerProvider::builder().with_resource(resource.build());
        if let Some(sampler) = self.sampler.clone().or(env_plan.sampler) {
            provider = provider.with_sampler(sampler);
        }
        if lookup("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT").is_none() {
            // Retrieval spans carry per-document keys for up to 32 hits
            // (three each with content capture): the SDK's 128 is too few.
            provider = provider.with_max_attributes_per_span(256);
        }

        if let Some(path) = store_path {
            provider = with_store(provider, &path, &self, &reporter, &mut telemetry)?;
            telemetry.store_path = Some(path);
        }
        if otlp_on {
            let protocol = self.otlp_protocol.or(env_plan.protocol).unwrap_or_default();
            let endpoint = match (&self.otlp_endpoint, &env_plan.endpoint) {
                (Some(base), _) => otlp_url(base, protocol),
                (None, Some(env::Endpoint::Traces(url))) => url.clone(),
                (None, Some(env::Endpoint::Base(base))) => otlp_url(base, protocol),
                (None, None) => default_otlp_url(protocol),
            };
            env::check_endpoint(&endpoint)?;
            let timeout = self
                .otlp_timeout
                .or(env_plan.timeout)
                .unwrap_or(Duration::from_secs(10));
            provider = with_otlp(
                provider,
                endpoint,
                protocol,
                timeout,
                self.otlp_queue,
                &reporter,
                &mut telemetry,
            )?;
        }
        if console_on {
            let exporter = match self.console_writer.take() {
                Some(out) => ConsoleExporter::to_writer(out),
                None => ConsoleExporter::new(),
            };
            let queue = QueueConfig::new()
                .capacity(4096)
                .batch_size(256)
                .flush_interval(Duration::from_millis(100));
            let processor = QueueProcessor::start(
                "console",
                exporter,
                queue,
                Driver::Inline,
                Arc::clone(&reporter),
            );
            telemetry.sinks.push(processor.stats_handle());
            provider = provider.with_span_processor(processor);
        }

        let provider = provider.build();
        let scope = InstrumentationScope::builder("ragtrace")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let tracer = provider.tracer_with_scope(scope);
        telemetry.provider = Some(provider);
        Ok(Parts {
            telemetry,
            tracer: Some(tracer),
            trace_filter,
            log_format,
            log_filter,
            log_writer,
        })
    }
}

/// Installs the wrappers' options unless the application installed its own.
fn install(options: Option<Options>) {
    if let Some(options) = options
        && options.install().is_err()
    {
        tracing::debug!(
            target: super::report::TARGET,
            "traced wrappers keep the options installed before ragtrace's telemetry set-up"
        );
    }
}

#[cfg(feature = "store")]
fn with_store(
    provider: opentelemetry_sdk::trace::TracerProviderBuilder,
    path: &std::path::Path,
    builder: &TelemetryBuilder,
    reporter: &Arc<Reporter>,
    telemetry: &mut Telemetry,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, TelemetryError> {
    let mut exporter = super::StoreExporter::open(path)?;
    if let Some(pricer) = &builder.pricer {
        exporter = exporter.with_pricer(Arc::clone(pricer));
    }
    let processor = QueueProcessor::start(
        "store",
        exporter,
        builder.store_queue,
        Driver::Inline,
        Arc::clone(reporter),
    );
    telemetry.sinks.push(processor.stats_handle());
    Ok(provider.with_span_processor(processor))
}

#[cfg(not(feature = "store"))]
fn with_store(
    _provider: opentelemetry_sdk::trace::TracerProviderBuilder,
    path: &std::path::Path,
    _builder: &TelemetryBuilder,
    _reporter: &Arc<Reporter>,
    _telemetry: &mut Telemetry,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, TelemetryError> {
    Err(TelemetryError::FeatureMissing {
        what: format!("the trace store ({})", path.display()),
        feature: "store",
    })
}

#[cfg(feature = "otlp")]
fn otlp_url(base: &str, protocol: OtlpProtocol) -> String {
    super::otlp::traces_url(base, protocol)
}

#[cfg(feature = "otlp")]
fn default_otlp_url(protocol: OtlpProtocol) -> String {
    super::otlp::default_endpoint(protocol)
}

#[cfg(not(feature = "otlp"))]
fn otlp_url(base: &str, _protocol: OtlpProtocol) -> String {
    base.to_owned()
}

#[cfg(not(feature = "otlp"))]
fn default_otlp_url(_protocol: OtlpProtocol) -> String {
    String::new()
}

#[cfg(feature = "otlp")]
fn with_otlp(
    provider: opentelemetry_sdk::trace::TracerProviderBuilder,
    endpoint: String,
    protocol: OtlpProtocol,
    timeout: Duration,
    queue: QueueConfig,
    reporter: &Arc<Reporter>,
    telemetry: &mut Telemetry,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, TelemetryError> {
    let plan = super::otlp::OtlpPlan {
        endpoint,
        protocol,
        timeout,
    };
    let processor = super::otlp::processor(&plan, queue, Arc::clone(reporter))?;
    telemetry.sinks.push(processor.stats_handle());
    Ok(provider.with_span_processor(processor))
}

#[cfg(not(feature = "otlp"))]
fn with_otlp(
    _provider: opentelemetry_sdk::trace::TracerProviderBuilder,
    _endpoint: String,
    _protocol: OtlpProtocol,
    _timeout: Duration,
    _queue: QueueConfig,
    _reporter: &Arc<Reporter>,
    _telemetry: &mut Telemetry,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, TelemetryError> {
    Err(TelemetryError::FeatureMissing {
        what: "OTLP export".to_owned(),
        feature: "otlp",
    })
}

/// The OpenTelemetry layer. Source location, thread and target attributes
/// are left off: on ragtrace's spans they always name the wrapper's own
/// code, and they made every stored span a few hundred bytes larger. Busy
/// and idle time (`busy_ns`, `idle_ns`) stay: they tell waiting from working.
fn otel_layer<S>(tracer: SdkTracer) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
}

/// The log output layer, filtered by `RUST_LOG`.
fn log_layer<S>(
    format: LogFormat,
    filter: EnvFilter,
    writer: BoxMakeWriter,
) -> Option<Box<dyn Layer<S> + Send + Sync>>
where
    S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    match format {
        LogFormat::Text => Some(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_filter(filter)
                .boxed(),
        ),
        LogFormat::Json => Some(
            tracing_subscriber::fmt::layer()
                .event_format(JsonLogFormat)
                .with_writer(writer)
                .with_filter(filter)
                .boxed(),
        ),
        LogFormat::Off => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(dir: &std::path::Path) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let dir = dir.display().to_string();
        move |name| (name == PRICING_DIR_ENV).then(|| dir.clone())
    }

    #[test]
    fn the_default_pricer_reads_the_pricing_dir_through_the_builders_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("local.toml"),
            "provider = \"local\"\n\n[[model]]\nkey = \"my-llm\"\nmode = \"chat\"\n\n\
             [[model.price]]\neffective = 2025-01-01\nsource = \"https://example.com\"\n\
             input = 1.0\noutput = 2.0\n",
        )
        .unwrap();
        let mut builder = TelemetryBuilder::new().env_from(env(dir.path()));
        let options = builder.wrapper_options().unwrap().unwrap();
        assert!(options.has_pricer());
        let usage = crate::steps::Usage::new(1_000_000, 0);
        let request = crate::pricing::PriceRequest::new(
            "my-llm",
            crate::steps::StepKind::Chat,
            &usage,
            std::time::SystemTime::now(),
        );
        let pricer = builder.pricer.as_ref().expect("the store sink shares it");
        assert_eq!(
            pricer.price(&request).total,
            "1".parse::<crate::pricing::Usd>().unwrap()
        );
    }

    #[test]
    fn a_broken_pricing_dir_fails_set_up_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.toml"), "provider = \n").unwrap();
        let mut builder = TelemetryBuilder::new().env_from(env(dir.path()));
        let error = builder.wrapper_options().unwrap_err();
        assert!(matches!(error, TelemetryError::Pricing(_)), "{error}");
        assert!(error.to_string().contains("bad.toml"), "{error}");
    }

    #[test]
    fn ignore_env_uses_the_builtin_tables_only() {
        let mut builder = TelemetryBuilder::new().ignore_env();
        assert!(builder.wrapper_options().unwrap().is_some());
        let mut untouched = TelemetryBuilder::new().ignore_env().no_instrument_options();
        assert!(untouched.wrapper_options().unwrap().is_none());
        assert!(untouched.pricer.is_none());
    }
}
