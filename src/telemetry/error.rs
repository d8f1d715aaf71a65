//! [`TelemetryError`]: why set-up failed, naming the setting at fault.

/// Why telemetry could not be set up. Nothing here happens on the request
/// path: once set up, export problems are counted and reported, never
/// returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// An environment variable has a value ragtrace cannot use.
    #[error("{var}=`{value}`: {reason}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The OTLP endpoint is not usable.
    #[error("OTLP endpoint `{endpoint}`: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration asks for something this build does not include.
    #[error("{what} needs ragtrace's `{feature}` cargo feature, which this build does not enable")]
    FeatureMissing {
        /// What was asked for.
        what: String,
        /// The feature that provides it.
        feature: &'static str,
    },
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// The export runtime could not be started.
    #[error("cannot start the OTLP export runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The trace store could not be opened.
    #[cfg(feature = "store")]
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The price tables (`RAGTRACE_PRICING_DIR`) do not load.
    #[error(transparent)]
    Pricing(#[from] crate::pricing::LoadError),
    /// The log filter (`RUST_LOG` or the builder's) does not parse.
    #[error("log filter `{directives}`: {reason}")]
    LogFilter {
        /// The directives.
        directives: String,
        /// Why they do not parse.
        reason: String,
    },
    /// `init` found a global subscriber already installed.
    #[error(
        "a global tracing subscriber is already installed; add ragtrace to it with `TelemetryBuilder::layer` instead of `init`"
    )]
    SubscriberAlreadySet,
    /// Flushing or shutting down a sink failed or timed out.
    #[error("sink `{sink}`: {reason}")]
    Sink {
        /// The sink.
        sink: &'static str,
        /// What happened.
        reason: String,
    },
}
