//! [`StoreExporter`]: finished spans into the embedded trace store.

use std::path::Path;
use std::sync::{Arc, Mutex};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::span_data::{resource_attributes, span_parts};
use crate::pricing::Pricer;
use crate::store::{Attributes, SpanRecord, Store, StoreError};

/// Writes each batch of finished spans to a [`Store`] in one transaction.
///
/// Put it behind a [`QueueProcessor`](super::QueueProcessor) (as
/// [`init`](super::init) does) so that writing never runs on the request
/// path. Spans that carry usage but no cost are priced with the pricer given
/// to [`with_pricer`](Self::with_pricer), at their own start time.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use ragtrace::telemetry::{QueueConfig, QueueProcessor, StoreExporter};
///
/// let exporter = StoreExporter::open(dir.path().join("ragtrace.db"))?;
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(QueueProcessor::new("store", exporter, QueueConfig::new()))
///     .build();
/// # let _ = provider.shutdown();
/// # Ok(()) }
/// ```
pub struct StoreExporter {
    store: Mutex<Store>,
    resource: Arc<Attributes>,
    pricer: Option<Arc<dyn Pricer>>,
}

impl std::fmt::Debug for StoreExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreExporter")
            .field("pricer", &self.pricer.is_some())
            .finish_non_exhaustive()
    }
}

impl StoreExporter {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<StoreExporter, StoreError> {
        Ok(StoreExporter::new(Store::open(path)?))
    }

    /// Writes to an open store.
    pub fn new(store: Store) -> StoreExporter {
        StoreExporter {
            store: Mutex::new(store),
            resource: Arc::default(),
            pricer: None,
        }
    }

    /// Prices spans that arrive with usage but without a cost.
    pub fn with_pricer(mut self, pricer: Arc<dyn Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Turns a batch into records (the work that needs no lock).
    pub(crate) fn records(&self, batch: Vec<SpanData>) -> Vec<SpanRecord> {
        let pricer = self.pricer.as_deref();
        batch
            .into_iter()
            .map(|span| span_parts(span, &self.resource).into_record(pricer))
            .collect()
    }

    fn write(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let records = self.records(batch);
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        store
            .insert(&records)
            .map(|_| ())
            .map_err(|error| OTelSdkError::InternalFailure(error.to_string()))
    }
}

impl SpanExporter for StoreExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.write(batch))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource_attributes(resource);
    }
}
