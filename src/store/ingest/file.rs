//! OTLP JSON files (the Collector's file exporter format: one
//! `ExportTraceServiceRequest` per line) into the store.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::otlp::{Content, RejectedSpan, convert_with, decode_json};
use super::scan::{self, Exceeded};
use crate::pricing::Pricer;
use crate::store::{SpanRecord, Store, StoreError};

/// How many malformed lines a report lists; the rest are only counted.
const LISTED_ERRORS: usize = 100;

/// Called as an input is read, with the bytes of it read so far.
pub type IngestProgress = Arc<dyn Fn(u64) + Send + Sync>;

/// Settings of an ingest run.
#[derive(Clone)]
#[non_exhaustive]
pub struct IngestOptions {
    /// Prices spans that carry usage but no cost.
    pub pricer: Option<Arc<dyn Pricer>>,
    /// Spans written per transaction.
    pub batch_spans: usize,
    /// Told the bytes of the input read so far, after each line (for a
    /// progress bar; compare with the file's size).
    pub progress: Option<IngestProgress>,
    /// What happens to prompt and completion content (redacted by
    /// default; credentials are redacted either way).
    pub content: Content,
    /// The longest line read (default 64 MiB); a longer one is skipped and
    /// reported, never held in memory whole.
    pub max_line_bytes: usize,
    /// The most items (objects, arrays, string values) a line may decode
    /// to (default 500,000); a line with more is skipped and reported.
    pub max_items: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            pricer: None,
            batch_spans: 10_000,
            progress: None,
            content: Content::Redact,
            max_line_bytes: 64 * 1024 * 1024,
            max_items: 500_000,
        }
    }
}

impl std::fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestOptions")
            .field("pricer", &self.pricer.is_some())
            .field("batch_spans", &self.batch_spans)
            .field("progress", &self.progress.is_some())
            .field("content", &self.content)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("max_items", &self.max_items)
            .finish()
    }
}

impl IngestOptions {
    /// No pricer, 10,000 spans per transaction.
    pub fn new() -> Self {
        IngestOptions::default()
    }

    /// Prices spans that carry usage but no cost.
    pub fn pricer(mut self, pricer: Arc<dyn Pricer>) -> Self {
        self.pricer = Some(pricer);
        self
    }

    /// Spans written per transaction (at least 1).
    pub fn batch_spans(mut self, spans: usize) -> Self {
        self.batch_spans = spans.max(1);
        self
    }

    /// Says what happens to prompt and completion content.
    pub fn content(mut self, content: Content) -> Self {
        self.content = content;
        self
    }

    /// Sets the longest line read.
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes.max(1);
        self
    }

    /// Sets the most items a line may decode to.
    pub fn max_items(mut self, items: usize) -> Self {
        self.max_items = items.max(1);
        self
    }

    /// Calls `progress` with the bytes of the input read so far, after
    /// each line.
    pub fn progress(mut self, progress: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

/// A line that could not be ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LineError {
    /// 1-based line number.
    pub line: u64,
    /// What was wrong with it.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestReport {
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines that were valid export requests.
    pub requests: u64,
    /// Spans written to the store.
    pub spans: u64,
    /// Malformed lines (also spans rejected for invalid ids, named by line).
    pub errors: Vec<LineError>,
    /// All malformed lines and rejected spans, including those beyond the
    /// first listed in `errors`.
    pub error_count: u64,
}

impl IngestReport {
    fn error(&mut self, line: u64, message: String) {
        self.error_count += 1;
        if self.errors.len() < LISTED_ERRORS {
            self.errors.push(LineError { line, message });
        }
    }
}

/// An ingest run that could not go on: the file could not be read, or the
/// store could not be written. Batches written before it stay written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// Reading the input failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The input.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Writing to the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ingests an OTLP JSON file into `store`. Malformed lines are reported
/// with their line number and skipped; they never stop the file.
pub fn ingest_file(
    path: impl AsRef<Path>,
    store: &mut Store,
    options: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| IngestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    ingest_reader(std::io::BufReader::new(file), path, store, options)
}

/// Ingests OTLP JSON lines from `reader`; `name` names the input in errors.
pub fn ingest_reader(
    mut reader: impl BufRead,
    name: &Path,
    store: &mut Store,
    options: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport::default();
    let mut pending: Vec<SpanRecord> = Vec::new();
    let mut line = Vec::new();
    let mut number = 0_u64;
    let mut consumed = 0_u64;
    loop {
        line.clear();
        let (read, whole) =
            read_line(&mut reader, &mut line, options.max_line_bytes).map_err(|source| {
                IngestError::Read {
                    path: name.to_path_buf(),
                    source,
                }
            })?;
        if read == 0 {
            break;
        }
        consumed += read as u64;
        if let Some(progress) = &options.progress {
            progress(consumed);
        }
        number += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        report.lines += 1;
        if !whole {
            report.error(
                number,
                format!("longer than {} bytes; skipped", options.max_line_bytes),
            );
            continue;
        }
        match scan::json_items(text, options.max_items) {
            Ok(_) => {}
            Err(Exceeded::Items(limit)) => {
                report.error(
                    number,
                    format!("holds more than {limit} items (spans, attributes, values); skipped"),
                );
                continue;
            }
            Err(Exceeded::Depth(limit)) => {
                report.error(number, format!("nests deeper than {limit} levels; skipped"));
                continue;
            }
        }
        let request = match decode_json(text) {
            Ok(request) => request,
            Err(error) => {
                report.error(number, error.to_string());
                continue;
            }
        };
        report.requests += 1;
        let converted = convert_with(request, options.pricer.as_deref(), options.content);
        for RejectedSpan { name, reason } in converted.rejected {
            report.error(number, format!("span `{name}` rejected: {reason}"));
        }
        pending.extend(converted.records);
        if pending.len() >= options.batch_spans {
            report.spans += store.insert(&pending)? as u64;
            pending.clear();
        }
    }
    report.spans += store.insert(&pending)? as u64;
    Ok(report)
}

/// Reads one line (up to and including `\n`) into `line`, keeping at most
/// `max` bytes of it: returns the bytes consumed and whether the line fit.
fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut whole = true;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok((consumed, whole));
        }
        let (piece, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..=at], true),
            None => (buffer, false),
        };
        let n = piece.len();
        if whole && line.len() + n <= max.saturating_add(1) {
            line.extend_from_slice(piece);
        } else {
            whole = false;
            line.clear();
        }
        reader.consume(n);
        consumed += n;
        if done {
            return Ok((consumed, whole));
        }
    }
}
