//! The store's schema and its migrations.
//!
//! The schema version is SQLite's `user_version`; each migration runs in
//! its own transaction and bumps it, so an interrupted upgrade leaves the
//! file at the last complete version. `application_id` marks the file as a
//! ragtrace store, so a stranger's database is refused rather than altered.

use rusqlite::{Connection, TransactionBehavior};

/// `RAGT` in ASCII: marks a SQLite file as a ragtrace store.
pub(crate) const APPLICATION_ID: i32 = 0x5241_4754;

/// Migrations in order; migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1: spans with extracted columns, resources stored once.
///
/// - Times are Unix nanoseconds (UTC); ids are lower-case hex.
/// - Token and cost columns are the span's own, never a roll-up of its
///   children; a request's total is the sum over its trace.
/// - `cost_picousd` is exact (1e-12 USD); NULL means unknown, never zero.
/// - `attributes`, `events`, `links`, `scores` are JSON (see
///   [`value`](super::value) for how types are kept).
/// - `resource_id` is a row of `resources` (not declared as a foreign key:
///   the writer keeps it right, and an enforced key cost a lookup per row).
/// - Indexes: identity (unique), start time, and roots by start time. Rows
///   are appended in time order, so a time range filtered by step reads
///   neighbouring pages; a (step, start) index cost a fifth of the write rate.
const V1: &str = "
CREATE TABLE resources (
    id          INTEGER PRIMARY KEY,
    attributes  TEXT NOT NULL UNIQUE
);

CREATE TABLE spans (
    trace_id            TEXT NOT NULL,
    span_id             TEXT NOT NULL,
    parent_span_id      TEXT,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL,
    start_ns            INTEGER NOT NULL,
    duration_ns         INTEGER NOT NULL,
    status              TEXT NOT NULL,
    status_message      TEXT,
    service             TEXT,
    scope               TEXT,
    step                TEXT,
    operation           TEXT,
    model               TEXT,
    provider            TEXT,
    input_tokens        INTEGER,
    output_tokens       INTEGER,
    cache_read_tokens   INTEGER,
    cache_write_tokens  INTEGER,
    reasoning_tokens    INTEGER,
    usage_estimated     INTEGER,
    cost_picousd        INTEGER,
    cost_status         TEXT,
    cost_source         TEXT,
    top_score           REAL,
    scores              TEXT,
    user_id             TEXT,
    session_id          TEXT,
    error_type          TEXT,
    attributes          TEXT NOT NULL,
    events              TEXT,
    links               TEXT,
    resource_id         INTEGER,
    dropped_attributes  INTEGER NOT NULL DEFAULT 0,
    dropped_events      INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX spans_identity ON spans (trace_id, span_id);
CREATE INDEX spans_start ON spans (start_ns);
CREATE INDEX spans_roots ON spans (start_ns) WHERE parent_span_id IS NULL;
";

/// Version 2, for the analysis commands:
/// - the exact cost split by usage kind, so reports say where the money
///   went without re-pricing (NULL where the producer gave only a total,
///   and on rows written by version 1);
/// - for retrievals, the score direction, the collection and the ranked
///   document ids, so drift reads columns rather than parsing attributes;
/// - requests: the partial index of roots also holds ragtrace request
///   roots that have a remote parent (a caller in another service);
/// - reports: `spans_trace` holds, in trace order, every column a cost
///   report reads, so a report over the whole store walks that index alone
///   (never the table, whose rows carry kilobytes of attributes) and sorts
///   nothing. It costs about 40% of the writer's rate, since its inserts
///   land at random places like the identity index's (BENCHMARKS.md,
///   "Reading traces back");
/// - drift: `spans_retrievals` holds, by start time, every column drift
///   reads of a retrieval, for retrieval spans only (a partial index whose
///   rows arrive in time order, so it grows at its end).
const V2: &str = "
ALTER TABLE spans ADD COLUMN score_kind TEXT;
ALTER TABLE spans ADD COLUMN collection TEXT;
ALTER TABLE spans ADD COLUMN document_ids TEXT;
DROP INDEX spans_roots;
CREATE INDEX spans_requests ON spans (start_ns) WHERE parent_span_id IS NULL OR step = 'request';
ALTER TABLE spans ADD COLUMN cost_input_picousd INTEGER;
ALTER TABLE spans ADD COLUMN cost_cache_read_picousd INTEGER;
ALTER TABLE spans ADD COLUMN cost_cache_write_picousd INTEGER;
ALTER TABLE spans ADD COLUMN cost_output_picousd INTEGER;
ALTER TABLE spans ADD COLUMN cost_reasoning_picousd INTEGER;
CREATE INDEX spans_trace ON spans (
    trace_id, start_ns, span_id, parent_span_id, name, duration_ns, status, service, step,
    model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
    reasoning_tokens, usage_estimated, cost_picousd, cost_status, cost_input_picousd,
    cost_cache_read_picousd, cost_cache_write_picousd, cost_output_picousd,
    cost_reasoning_picousd, user_id, session_id
);
CREATE INDEX spans_retrievals ON spans (
    start_ns, trace_id, span_id, name, status, collection, top_score, score_kind, scores,
    document_ids
) WHERE step = 'retrieval';
";

/// Why a file cannot be used as a store (before SQLite errors).
#[derive(Debug)]
pub(crate) enum SchemaProblem {
    /// Another application's database.
    Foreign(i32),
    /// Written by a newer ragtrace.
    TooNew(u32),
    /// Read-only and not yet migrated to this version.
    Outdated(u32),
    /// SQLite failed.
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for SchemaProblem {
    fn from(error: rusqlite::Error) -> Self {
        SchemaProblem::Sqlite(error)
    }
}

/// The schema version of an open file.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Checks that `conn` is a ragtrace store (or empty), and with `migrate`,
/// brings it to [`SCHEMA_VERSION`].
pub(crate) fn prepare(conn: &mut Connection, migrate: bool) -> Result<(), SchemaProblem> {
    check_identity(conn)?;
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(SchemaProblem::TooNew(found));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if !migrate {
        return Err(SchemaProblem::Outdated(found));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = index as u32 + 1;
        // IMMEDIATE takes the write lock before reading the version, so two
        // processes opening a new file at once migrate it once.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current >= target {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
    }
    Ok(())
}

fn check_identity(conn: &Connection) -> Result<(), SchemaProblem> {
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    if application_id == APPLICATION_ID {
        return Ok(());
    }
    if application_id != 0 {
        return Err(SchemaProblem::Foreign(application_id));
    }
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |row| row.get(0),
    )?;
    if tables > 0 {
        return Err(SchemaProblem::Foreign(0));
    }
    Ok(())
}
