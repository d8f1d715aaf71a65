//! Reading the standard OpenTelemetry environment variables (and ragtrace's
//! own few) into a plan of sinks.
//!
//! Read here: `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER`,
//! `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`, `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`,
//! `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`, `OTEL_TRACES_SAMPLER`,
//! `OTEL_TRACES_SAMPLER_ARG`, `RAGTRACE_DB`, `RAGTRACE_CONSOLE`,
//! `RAGTRACE_LOG_FORMAT` and `RUST_LOG`. `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS` are read by
//! the OpenTelemetry SDK and exporter themselves.

use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;

use super::error::TelemetryError;

/// Looks an environment variable up (injectable for tests).
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, with empty values treated as unset.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The wire protocol of the OTLP exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// OTLP/gRPC (usually port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (usually port 4318); the OTel default.
    #[default]
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

impl OtlpProtocol {
    /// `grpc`, `http/protobuf` or `http/json`, as in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::HttpJson => "http/json",
        }
    }

    fn parse(var: &'static str, value: &str) -> Result<Self, TelemetryError> {
        match value.trim() {
            "grpc" => Ok(OtlpProtocol::Grpc),
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            "http/json" => Ok(OtlpProtocol::HttpJson),
            _ => Err(TelemetryError::Env {
                var,
                value: value.to_owned(),
                reason: "expected one of grpc, http/protobuf, http/json".to_owned(),
            }),
        }
    }
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// Human-readable lines (`tracing-subscriber`'s default format).
    #[default]
    Text,
    /// One JSON object per line, with `trace_id` and `span_id` of the
    /// span the line was logged in.
    Json,
    /// No log output (spans and their events are still exported).
    Off,
}

impl LogFormat {
    fn parse(value: &str) -> Result<Self, TelemetryError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            "off" | "none" => Ok(LogFormat::Off),
            _ => Err(TelemetryError::Env {
                var: "RAGTRACE_LOG_FORMAT",
                value: value.to_owned(),
                reason: "expected text, json or off".to_owned(),
            }),
        }
    }
}

/// What the environment asks for.
#[derive(Debug, Default)]
pub(crate) struct EnvPlan {
    pub(crate) disabled: bool,
    /// `OTEL_TRACES_EXPORTER`, when set: which exporters, exactly.
    pub(crate) exporters: Option<Exporters>,
    /// The traces endpoint (per-signal variable, as is) or the base endpoint.
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) protocol: Option<OtlpProtocol>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) sampler: Option<Sampler>,
    pub(crate) store: Option<String>,
    pub(crate) console: Option<bool>,
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) log_filter: Option<String>,
}

/// An endpoint from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: used as is.
    Traces(String),
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: HTTP appends `/v1/traces`.
    Base(String),
}

/// The exporters `OTEL_TRACES_EXPORTER` names.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exporters {
    pub(crate) otlp: bool,
    pub(crate) console: bool,
    pub(crate) store: bool,
}

pub(crate) fn read(env: Lookup<'_>) -> Result<EnvPlan, TelemetryError> {
    let mut plan = EnvPlan {
        disabled: match env("OTEL_SDK_DISABLED") {
            Some(v) => parse_bool("OTEL_SDK_DISABLED", &v)?,
            None => false,
        },
        ..EnvPlan::default()
    };
    if let Some(list) = env("OTEL_TRACES_EXPORTER") {
        let mut exporters = Exporters::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "otlp" => exporters.otlp = true,
                "console" => exporters.console = true,
                "ragtrace" | "store" => exporters.store = true,
                "none" => {}
                other => {
                    return Err(TelemetryError::Env {
                        var: "OTEL_TRACES_EXPORTER",
                        value: list.clone(),
                        reason: format!(
                            "unsupported exporter `{other}` (ragtrace supports otlp, console, store, none)"
                        ),
                    });
                }
            }
        }
        plan.exporters = Some(exporters);
    }
    plan.endpoint = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .map(Endpoint::Traces)
        .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT").map(Endpoint::Base));
    plan.protocol = match (
        env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
        env("OTEL_EXPORTER_OTLP_PROTOCOL"),
    ) {
        (Some(v), _) => Some(OtlpProtocol::parse(
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            &v,
        )?),
        (None, Some(v)) => Some(OtlpProtocol::parse("OTEL_EXPORTER_OTLP_PROTOCOL", &v)?),
        (None, None) => None,
    };
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ] {
        if let Some(v) = env(var) {
            let millis: u64 = v.trim().parse().map_err(|_| TelemetryError::Env {
                var,
                value: v.clone(),
                reason: "expected a whole number of milliseconds".to_owned(),
            })?;
            plan.timeout = Some(Duration::from_millis(millis));
            break;
        }
    }
    if let Some(name) = env("OTEL_TRACES_SAMPLER") {
        plan.sampler = Some(sampler(&name, env("OTEL_TRACES_SAMPLER_ARG"))?);
    }
    plan.store = env("RAGTRACE_DB");
    plan.console = match env("RAGTRACE_CONSOLE") {
        Some(v) => Some(parse_bool("RAGTRACE_CONSOLE", &v)?),
        None => None,
    };
    plan.log_format = match env("RAGTRACE_LOG_FORMAT") {
        Some(v) => Some(LogFormat::parse(&v)?),
        None => None,
    };
    plan.log_filter = env("RUST_LOG");
    Ok(plan)
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, TelemetryError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(TelemetryError::Env {
            var,
            value: value.to_owned(),
            reason: "expected true or false".to_owned(),
        }),
    }
}

/// `OTEL_TRACES_SAMPLER` and its argument, as the specification defines them.
fn sampler(name: &str, arg: Option<String>) -> Result<Sampler, TelemetryError> {
    let ratio = || -> Result<f64, TelemetryError> {
        let Some(arg) = &arg else {
            return Ok(1.0);
        };
        match arg.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(TelemetryError::Env {
                var: "OTEL_TRACES_SAMPLER_ARG",
                value: arg.clone(),
                reason: format!("`{name}` needs a sampling ratio between 0 and 1"),
            }),
        }
    };
    Ok(match name.trim() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
        other => {
            return Err(TelemetryError::Env {
                var: "OTEL_TRACES_SAMPLER",
                value: other.to_owned(),
                reason: "expected always_on, always_off, traceidratio, parentbased_always_on, \
                         parentbased_always_off or parentbased_traceidratio"
                    .to_owned(),
            });
        }
    })
}

/// Checks an endpoint's scheme and host, and that this build can reach it.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<(), TelemetryError> {
    let fail = |reason: &str| TelemetryError::Endpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = if let Some(rest) = endpoint.strip_prefix("http://") {
        rest
    } else if let Some(rest) = endpoint.strip_prefix("https://") {
        if !cfg!(feature = "otlp-tls") {
            return Err(TelemetryError::FeatureMissing {
                what: format!("the https endpoint `{endpoint}`"),
                feature: "otlp-tls",
            });
        }
        rest
    } else {
        return Err(fail("expected an http:// or https:// URL"));
    };
    if rest.is_empty() || rest.starts_with('/') || rest.starts_with(':') {
        return Err(fail("the URL has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn plan(vars: &[(&str, &str)]) -> Result<EnvPlan, TelemetryError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        read(&move |name| map.get(name).cloned())
    }

    #[test]
    fn the_standard_variables_are_read() {
        let p = plan(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("RAGTRACE_DB", "/var/lib/app/traces.db"),
            ("RAGTRACE_LOG_FORMAT", "JSON"),
        ])
        .unwrap();
        assert_eq!(
            p.endpoint,
            Some(Endpoint::Base("http://collector:4318".into()))
        );
        assert_eq!(p.protocol, Some(OtlpProtocol::Grpc));
        assert_eq!(p.timeout, Some(Duration::from_millis(2500)));
        assert!(matches!(p.sampler, Some(Sampler::ParentBased(_))));
        assert_eq!(p.store.as_deref(), Some("/var/lib/app/traces.db"));
        assert_eq!(p.log_format, Some(LogFormat::Json));
    }

    #[test]
    fn per_signal_variables_win() {
        let p = plan(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ])
        .unwrap();
        assert_eq!(
            p.endpoint,
            Some(Endpoint::Traces("http://b:4318/custom".into()))
        );
        assert_eq!(p.protocol, Some(OtlpProtocol::HttpJson));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = plan(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]).unwrap_err();
        assert!(
            e.to_string().contains("OTEL_EXPORTER_OTLP_PROTOCOL=`udp`"),
            "{e}"
        );
        let e = plan(&[("OTEL_TRACES_SAMPLER", "sometimes")]).unwrap_err();
        assert!(
            e.to_string().contains("OTEL_TRACES_SAMPLER=`sometimes`"),
            "{e}"
        );
        let e = plan(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("OTEL_TRACES_SAMPLER_ARG"), "{e}");
        let e = plan(&[("OTEL_TRACES_EXPORTER", "otlp,zipkin")]).unwrap_err();
        assert!(e.to_string().contains("zipkin"), "{e}");
        let e = plan(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]).unwrap_err();
        assert!(e.to_string().contains("milliseconds"), "{e}");
    }

    #[test]
    fn exporters_list_and_sdk_switch() {
        let p = plan(&[
            ("OTEL_TRACES_EXPORTER", "console, otlp"),
            ("OTEL_SDK_DISABLED", "true"),
        ])
        .unwrap();
        assert_eq!(
            p.exporters,
            Some(Exporters {
                otlp: true,
                console: true,
                store: false
            })
        );
        assert!(p.disabled);
    }

    #[test]
    fn endpoints_are_checked() {
        assert!(check_endpoint("http://127.0.0.1:4318").is_ok());
        assert!(check_endpoint("localhost:4317").is_err());
        assert!(check_endpoint("http://").is_err());
        if !cfg!(feature = "otlp-tls") {
            let e = check_endpoint("https://api.honeycomb.io").unwrap_err();
            assert!(e.to_string().contains("otlp-tls"), "{e}");
        }
    }
}
