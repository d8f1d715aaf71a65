//! `ragtrace reprice`: the real binary over stores filled by `ragtrace ingest`.
