//! [`Options`]: what the wrappers do besides measuring.

use std::sync::{Arc, LazyLock, OnceLock};

use super::Capture;
use crate::pricing::Pricer;
use crate::tokens::TokenCounter;

/// Settings shared by traced steps: the cost hook, the token counter used
/// when a provider reports no usage, and content capture.
///
/// A [`Traced`](super::Traced) wrapper uses the options given to it with
/// [`Traced::with_options`](super::Traced::with_options), or else the
/// process-wide options [installed](Options::install) at start-up, or else
/// the defaults (no pricer, no counter, capture off).
///
/// ```
/// use ragtrace::instrument::{Capture, Options};
/// use ragtrace::pricing::{Cost, PriceRequest};
///
/// let options = Options::new()
///     .pricer(|_request: &PriceRequest<'_>| Cost::unpriced())
///     .capture(Capture::on());
/// assert!(options.capture_settings().is_on());
/// ```
#[derive(Clone, Default)]
pub struct Options {
    pub(crate) pricer: Option<Arc<dyn Pricer>>,
    pub(crate) token_counter: Option<Arc<dyn TokenCounter>>,
    pub(crate) capture: Capture,
    pub(crate) record_documents: bool,
}

static INSTALLED: OnceLock<Arc<Options>> = OnceLock::new();
static DEFAULTS: LazyLock<Arc<Options>> = LazyLock::new(|| Arc::new(Options::new()));

impl Options {
    /// Defaults: no pricer, no token counter, no content.
    pub fn new() -> Self {
        Options::default()
    }

    /// Prices every call that reports usage.
    pub fn pricer(mut self, pricer: impl Pricer) -> Self {
        self.pricer = Some(Arc::new(pricer));
        self
    }

    /// Prices with a shared pricer.
    pub fn shared_pricer(mut self, pricer: Arc<dyn Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Counts tokens when a provider reports no usage (the figures are then
    /// marked estimated).
    pub fn token_counter(mut self, counter: impl TokenCounter) -> Self {
        self.token_counter = Some(Arc::new(counter));
        self
    }

    /// Sets content capture (off by default).
    pub fn capture(mut self, capture: Capture) -> Self {
        self.capture = capture;
        self
    }

    /// Also records retrieved ids and scores as one JSON attribute,
    /// `gen_ai.retrieval.documents` (off by default; the ranked scores are
    /// always recorded).
    pub fn record_documents(mut self, on: bool) -> Self {
        self.record_documents = on;
        self
    }

    /// The content capture settings.
    pub fn capture_settings(&self) -> &Capture {
        &self.capture
    }

    /// `true` when a pricer is set.
    pub fn has_pricer(&self) -> bool {
        self.pricer.is_some()
    }

    /// Makes these the process-wide options of every wrapper that was not
    /// given its own. Works once; later calls return the options back.
    pub fn install(self) -> Result<(), Options> {
        INSTALLED.set(Arc::new(self)).map_err(|rejected| {
            Arc::try_unwrap(rejected).unwrap_or_else(|shared| (*shared).clone())
        })
    }

    /// The options in force for wrappers without their own.
    pub fn current() -> &'static Arc<Options> {
        INSTALLED.get().unwrap_or(&DEFAULTS)
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("pricer", &self.pricer.is_some())
            .field("token_counter", &self.token_counter.is_some())
            .field("capture", &self.capture)
            .field("record_documents", &self.record_documents)
            .finish()
    }
}
