//! Ingest from other producers: OTLP (protobuf or JSON) into the store, so
//! it can hold traces from many service instances or from other languages'
//! GenAI instrumentation.
//!
//! - [`decode_json`] / [`decode_protobuf`] read an `ExportTraceServiceRequest`;
//!   [`convert`] turns it into [`SpanRecord`](super::SpanRecord)s through the
//!   same key extraction as the live sink (OTel GenAI, OpenInference,
//!   Langfuse and ragtrace keys), pricing spans that arrive without a cost.
//! - [`ingest_file`] reads the OpenTelemetry Collector's file exporter
//!   output (one request per line), skipping and reporting malformed lines.
//! - [`Receiver`] (feature `serve`) is an OTLP/HTTP receiver that writes
//!   what it receives to the store (`ragtrace serve`).

mod file;
mod otlp;
mod redact;
mod scan;
#[cfg(feature = "serve")]
mod serve;

pub use file::{
    IngestError, IngestOptions, IngestProgress, IngestReport, LineError, ingest_file, ingest_reader,
};
pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
pub use otlp::{
    Content, Converted, DecodeError, RejectedSpan, convert, convert_with, decode_json,
    decode_protobuf,
};
#[cfg(feature = "serve")]
pub use serve::{Receiver, ReceiverConfig, ReceiverStats, receive_body};
