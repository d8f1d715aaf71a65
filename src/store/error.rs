//! [`StoreError`]: what can go wrong with a trace store, naming the file.

use std::path::PathBuf;

/// An error from the trace store. Each names the file it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file could not be opened or created.
    #[error("cannot open trace store {path}: {source}")]
    Open {
        /// The store file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A new store file could not be created.
    #[error("cannot create trace store {path}: {source}")]
    Create {
        /// The store file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file can be read but not written by this process (its
    /// permissions, or a read-only file system).
    #[error("trace store {path} is read-only to this process; cannot write to it")]
    ReadOnly {
        /// The store file.
        path: PathBuf,
    },
    /// The file is some other application's SQLite database.
    #[error(
        "{path} is not a ragtrace trace store (it holds other tables; application id {application_id:#x})"
    )]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// Its SQLite application id.
        application_id: i32,
    },
    /// The file was written by a newer ragtrace.
    #[error(
        "{path} has schema version {found}, newer than this ragtrace knows ({known}); upgrade ragtrace to read it"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// Opened read-only, and the file needs a migration first.
    #[error(
        "{path} has schema version {found}, this ragtrace needs {known}; open it once for writing (e.g. `ragtrace ingest`) to migrate it"
    )]
    Outdated {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The version this build needs.
        known: u32,
    },
    /// A query or write failed.
    #[error("trace store {path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A stored row could not be read back.
    #[error("trace store {path}: span {trace_id}/{span_id}: column `{column}`: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The row's trace id (as stored).
        trace_id: String,
        /// The row's span id (as stored).
        span_id: String,
        /// The column that could not be read.
        column: &'static str,
        /// What was wrong.
        message: String,
    },
}
