//! [`Store`]: a ragtrace trace store file, opened for writing or reading.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};

use super::codec::{Encoder, INSERT_SPAN};
use super::error::StoreError;
use super::record::SpanRecord;
use super::schema::{self, SCHEMA_VERSION, SchemaProblem};
use super::value::Attributes;

/// How long a connection waits for another one's lock before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A trace store: one SQLite file in WAL mode.
///
/// One process writes at a time (a [`Store`] opened with [`open`](Self::open)
/// inserts in batches, one transaction each); any number of readers
/// ([`open_read_only`](Self::open_read_only)) read concurrently and see
/// whole batches only. A batch is durable once [`insert`](Self::insert)
/// returns: a writer killed afterwards (even with `kill -9`) loses nothing
/// that was committed, and one killed during a batch loses only that batch.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// use ragtrace::store::{SpanQuery, Store};
///
/// let path = dir.path().join("ragtrace.db");
/// let store = Store::open(&path)?;
/// assert_eq!(store.count()?, 0);
/// let reader = Store::open_read_only(&path)?;
/// assert!(reader.spans(&SpanQuery::new().step("chat"))?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Resource JSON to its row id, so each resource is written once.
    resources: HashMap<String, i64>,
    encoder: Encoder,
}

impl Store {
    /// Opens (creating if needed) the store at `path` for reading and
    /// writing, migrating it to the current schema.
    ///
    /// A new file is created readable by its owner only (0600 on Unix):
    /// traces hold user ids and, when captured, content. A file that is not
    /// a ragtrace store, or one written by a newer ragtrace, is refused
    /// before anything in it is changed; a file this process cannot write
    /// is refused too ([`StoreError::ReadOnly`]) rather than failing at the
    /// first insert.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path).map_err(|source| StoreError::Create {
            path: path.clone(),
            source,
        })?;
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Store::setup(conn, path, true)
    }

    /// Opens an existing store for reading only. It must already be at the
    /// current schema version.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        Store::setup(conn, path, false)
    }

    /// A store in memory (for tests and benchmarks).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Store::setup(conn, path, true)
    }

    fn setup(mut conn: Connection, path: PathBuf, write: bool) -> Result<Store, StoreError> {
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        let schema_problem = |problem| match problem {
            SchemaProblem::Foreign(application_id) => StoreError::NotAStore {
                path: path.clone(),
                application_id,
            },
            SchemaProblem::TooNew(found) => StoreError::TooNew {
                path: path.clone(),
                found,
                known: SCHEMA_VERSION,
            },
            SchemaProblem::Outdated(found) => StoreError::Outdated {
                path: path.clone(),
                found,
                known: SCHEMA_VERSION,
            },
            SchemaProblem::Sqlite(source) => StoreError::Sqlite {
                path: path.clone(),
                source,
            },
        };
        if write {
            // Look before touching: a file that is refused (another
            // application's, or a newer ragtrace's) is left exactly as it was.
            match schema::prepare(&mut conn, false) {
                Ok(()) | Err(SchemaProblem::Outdated(_)) => {}
                Err(problem) => return Err(schema_problem(problem)),
            }
            if conn.is_readonly(rusqlite::MAIN_DB).map_err(sqlite)? {
                return Err(StoreError::ReadOnly { path: path.clone() });
            }
            // WAL: readers never block the writer and see only committed
            // batches. NORMAL sync in WAL mode survives a killed process
            // (only a power loss can cost the last commits).
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
                .map_err(sqlite)?;
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(sqlite)?;
        }
        conn.set_prepared_statement_cache_capacity(32);
        schema::prepare(&mut conn, write).map_err(schema_problem)?;
        Ok(Store {
            conn,
            path,
            resources: HashMap::new(),
            encoder: Encoder::default(),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's schema version.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::version(&self.conn).map_err(|e| self.sqlite(e))
    }

    /// Writes `records` in one transaction: all of them or, on error, none.
    /// A span already stored (same trace and span id) is replaced, so
    /// ingesting the same file twice stores each span once.
    pub fn insert(&mut self, records: &[SpanRecord]) -> Result<usize, StoreError> {
        let result = self.insert_batch(records);
        if result.is_err() {
            // The batch rolled back, and with it any resource rows it added.
            self.resources.clear();
        }
        result
    }

    fn insert_batch(&mut self, records: &[SpanRecord]) -> Result<usize, StoreError> {
        if records.is_empty() {
            return Ok(0);
        }
        let path = self.path.clone();
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sqlite)?;
        let mut written = 0;
        {
            // Resources of this batch by identity, then by content.
            let mut batch_resources: HashMap<*const Attributes, Option<i64>> = HashMap::new();
            let mut insert = tx.prepare_cached(INSERT_SPAN).map_err(sqlite)?;
            for record in records {
                let key = Arc::as_ptr(&record.resource);
                let resource_id = match batch_resources.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = resource_id(&tx, &mut self.resources, &record.resource)
                            .map_err(sqlite)?;
                        batch_resources.insert(key, id);
                        id
                    }
                };
                written += self
                    .encoder
                    .insert(&mut insert, record, resource_id)
                    .map_err(sqlite)?;
            }
        }
        tx.commit().map_err(sqlite)?;
        Ok(written)
    }

    pub(crate) fn sqlite(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

/// Creates `path` empty and private to its owner if it does not exist, so
/// SQLite (which gives its `-wal` and `-shm` files the database's mode)
/// never makes a world-readable store. An existing file is left as it is.
fn create_private(path: &Path) -> std::io::Result<()> {
    if path.as_os_str() == ":memory:" || path.as_os_str().is_empty() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The row id of `resource`, inserting it the first time it is seen.
fn resource_id(
    tx: &rusqlite::Transaction<'_>,
    cache: &mut HashMap<String, i64>,
    resource: &Attributes,
) -> rusqlite::Result<Option<i64>> {
    if resource.is_empty() {
        return Ok(None);
    }
    let text = serde_json::to_string(resource).unwrap_or_default();
    if let Some(id) = cache.get(&text) {
        return Ok(Some(*id));
    }
    tx.execute(
        "INSERT OR IGNORE INTO resources (attributes) VALUES (?1)",
        [&text],
    )?;
    let id: i64 = tx.query_row(
        "SELECT id FROM resources WHERE attributes = ?1",
        [&text],
        |row| row.get(0),
    )?;
    cache.insert(text, id);
    Ok(Some(id))
}
