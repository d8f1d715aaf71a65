//! Re-pricing stored spans with the price tables of today
//! ([`Store::reprice`], `ragtrace reprice`).
//!
//! Each model-call span is priced again from its stored usage, model,
//! provider and service tier, at its own start time, so a price change
//! dated after a span leaves it alone. Rows are read in pages of the
//! `spans_start` index (start time, then row id) and written one
//! transaction per page: memory stays flat however many spans the store
//! holds, and a run stopped half-way leaves whole pages repriced.

use std::collections::BTreeMap;

use rusqlite::TransactionBehavior;
use rusqlite::types::ValueRef;

use super::codec::from_nanos;
use super::db::Store;
use super::error::StoreError;
use super::extract::{PRICED_STEP_SQL, priced_step};
use super::record::CostSource;
use crate::analysis::TimeRange;
use crate::instrument::keys;
use crate::pricing::{CostStatus, PriceRequest, Pricer, Usd};
use crate::steps::Usage;

/// Spans read, priced and written per transaction.
const BATCH_ROWS: usize = 10_000;

/// How far a [`Store::reprice`] run has come, passed to its progress
/// callback after each page of spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepriceProgress {
    /// Model-call spans examined so far.
    pub done: u64,
    /// Model-call spans in the range when the run started.
    pub total: u64,
}

/// What a [`Store::reprice`] run changed (or, in a dry run, would change),
/// per model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepriceReport {
    /// Model-call spans (usage and a model, step `chat`, `embeddings` or
    /// none) examined.
    pub examined: u64,
    /// Spans whose stored cost, status or breakdown changed.
    pub changed: u64,
    /// Of the changed spans, those that had no cost before.
    pub newly_priced: u64,
    /// Spans the tables cannot price (unknown model, no price in force at
    /// their start): left exactly as stored, cost or no cost.
    pub unpriced: u64,
    /// Per model (the stored `model` column), by name: every model with a
    /// changed or an unpriced span.
    pub models: Vec<ModelReprice>,
    /// `true` if nothing was written.
    pub dry_run: bool,
}

impl RepriceReport {
    /// The stored cost of the changed spans before the run (spans without
    /// a cost count as nothing).
    pub fn old_total(&self) -> Usd {
        self.models.iter().map(|m| m.old_total).sum()
    }

    /// The cost of the changed spans after the run.
    pub fn new_total(&self) -> Usd {
        self.models.iter().map(|m| m.new_total).sum()
    }
}

/// One model's part of a [`RepriceReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelReprice {
    /// The model as stored (the name the provider answered with).
    pub model: String,
    /// Spans whose cost changed.
    pub changed: u64,
    /// Of those, spans that had no cost before.
    pub newly_priced: u64,
    /// Their stored cost before, exact (no cost counts as nothing).
    pub old_total: Usd,
    /// Their cost now, exact.
    pub new_total: Usd,
    /// Spans of this model the tables cannot price, left as stored.
    pub unpriced: u64,
}

impl ModelReprice {
    fn new(model: String) -> Self {
        ModelReprice {
            model,
            changed: 0,
            newly_priced: 0,
            old_total: Usd::ZERO,
            new_total: Usd::ZERO,
            unpriced: 0,
        }
    }
}

/// The cost columns of a row: total, status and the five parts, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CostColumns {
    total: Option<i64>,
    status: Option<&'static str>,
    parts: [Option<i64>; 5],
}

/// The columns a re-pricing reads: never the attributes, only the service
/// tier out of them.
struct Row {
    rowid: i64,
    start_ns: i64,
    step: Option<String>,
    model: String,
    provider: Option<String>,
    usage: Usage,
    service_tier: Option<String>,
    old: CostColumns,
}

/// Which rows are model calls: a model, usage (the token columns are
/// written together) and a priced step (the rule of `priced_step`).
fn model_call_sql() -> String {
    format!("model IS NOT NULL AND input_tokens IS NOT NULL AND {PRICED_STEP_SQL}")
}

/// `?1` lower start bound, `?2` upper start bound, `?3`/`?4` the last
/// (start, row id) seen, `?5` page size. The index on `start_ns` holds the
/// row id after it, so pages are range reads in (start, row id) order.
fn select_page_sql() -> String {
    let tier_path = format!("$.\"{}\"", keys::GEN_AI_OPENAI_RESPONSE_SERVICE_TIER);
    format!(
        "SELECT rowid, start_ns, step, model, provider,
                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                reasoning_tokens, usage_estimated,
                cost_picousd, cost_status,
                cost_input_picousd, cost_cache_read_picousd, cost_cache_write_picousd,
                cost_output_picousd, cost_reasoning_picousd,
                CASE WHEN json_valid(attributes) THEN json_extract(attributes, '{tier_path}') END
         FROM spans
         WHERE start_ns >= ?1 AND start_ns < ?2
           AND (start_ns > ?3 OR rowid > ?4)
           AND {}
         ORDER BY start_ns, rowid
         LIMIT ?5",
        model_call_sql()
    )
}

const UPDATE_COST: &str = "UPDATE spans SET cost_picousd = ?2, cost_status = ?3, cost_source = ?4,
    cost_input_picousd = ?5, cost_cache_read_picousd = ?6, cost_cache_write_picousd = ?7,
    cost_output_picousd = ?8, cost_reasoning_picousd = ?9
    WHERE rowid = ?1";

impl Store {
    /// Prices every model-call span that started in `range` again with
    /// `pricer`, each at its own start time, and stores the result: the
    /// cost, its status, the five per-kind parts and
    /// [`CostSource::Repriced`]. Usage (and whether it was estimated) is
    /// kept as it is.
    ///
    /// Model calls are spans with usage and a model whose step is `chat`,
    /// `embeddings` or unset, the spans the store prices on write. Spans
    /// whose stored cost already equals the new one are not written, so a
    /// second run with the same tables changes nothing. A span the tables
    /// cannot price keeps what it has: a cost its producer recorded is not
    /// thrown away for an unknown.
    ///
    /// With `dry_run` nothing is written and the report says what would
    /// change. `progress` is called before the first page and after each
    /// one. Pages of 10,000 spans are written one transaction each; memory
    /// does not grow with the number of spans.
    ///
    /// The stored usage does not split cache writes by lifetime, so cache
    /// writes are priced at the five-minute rate.
    pub fn reprice(
        &mut self,
        pricer: &dyn Pricer,
        range: TimeRange,
        dry_run: bool,
        progress: &mut dyn FnMut(RepriceProgress),
    ) -> Result<RepriceReport, StoreError> {
        self.reprice_in_pages(pricer, range, dry_run, BATCH_ROWS, progress)
    }

    pub(crate) fn reprice_in_pages(
        &mut self,
        pricer: &dyn Pricer,
        range: TimeRange,
        dry_run: bool,
        page_rows: usize,
        progress: &mut dyn FnMut(RepriceProgress),
    ) -> Result<RepriceReport, StoreError> {
        let path = self.path.clone();
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let (since, until) = range.nanos();
        let total: i64 = self
            .conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM spans WHERE start_ns >= ?1 AND start_ns < ?2 AND {}",
                    model_call_sql()
                ),
                rusqlite::params![since, until],
                |row| row.get(0),
            )
            .map_err(sqlite)?;
        let total = total.max(0) as u64;
        let mut report = RepriceReport {
            dry_run,
            ..RepriceReport::default()
        };
        let mut models: BTreeMap<String, ModelReprice> = BTreeMap::new();
        progress(RepriceProgress { done: 0, total });

        let select = select_page_sql();
        let page_rows = i64::try_from(page_rows.max(1)).unwrap_or(i64::MAX);
        let (mut last_start, mut last_rowid) = (i64::MIN, i64::MIN);
        loop {
            let behavior = if dry_run {
                TransactionBehavior::Deferred
            } else {
                TransactionBehavior::Immediate
            };
            let tx = self
                .conn
                .transaction_with_behavior(behavior)
                .map_err(sqlite)?;
            let rows = {
                let mut statement = tx.prepare_cached(&select).map_err(sqlite)?;
                let lower = since.max(last_start);
                let mapped = statement
                    .query_map(
                        rusqlite::params![lower, until, last_start, last_rowid, page_rows],
                        read_row,
                    )
                    .map_err(sqlite)?;
                mapped.collect::<rusqlite::Result<Vec<Row>>>()
            }
            .map_err(sqlite)?;
            let Some(last) = rows.last() else {
                break;
            };
            (last_start, last_rowid) = (last.start_ns, last.rowid);
            {
                let mut update = tx.prepare_cached(UPDATE_COST).map_err(sqlite)?;
                for row in &rows {
                    report.examined += 1;
                    let Some(new) = price(pricer, row) else {
                        report.unpriced += 1;
                        models
                            .entry(row.model.clone())
                            .or_insert_with(|| ModelReprice::new(row.model.clone()))
                            .unpriced += 1;
                        continue;
                    };
                    if new == row.old {
                        continue;
                    }
                    report.changed += 1;
                    let entry = models
                        .entry(row.model.clone())
                        .or_insert_with(|| ModelReprice::new(row.model.clone()));
                    entry.changed += 1;
                    match row.old.total {
                        Some(picos) => entry.old_total += Usd::from_picos(i128::from(picos)),
                        None => {
                            entry.newly_priced += 1;
                            report.newly_priced += 1;
                        }
                    }
                    entry.new_total += Usd::from_picos(i128::from(new.total.unwrap_or(0)));
                    if !dry_run {
                        let [input, cache_read, cache_write, output, reasoning] = new.parts;
                        update
                            .execute(rusqlite::params![
                                row.rowid,
                                new.total,
                                new.status,
                                CostSource::Repriced.as_str(),
                                input,
                                cache_read,
                                cache_write,
                                output,
                                reasoning,
                            ])
                            .map_err(sqlite)?;
                    }
                }
            }
            if dry_run {
                tx.rollback().map_err(sqlite)?;
            } else {
                tx.commit().map_err(sqlite)?;
            }
            progress(RepriceProgress {
                done: report.examined,
                total: total.max(report.examined),
            });
        }
        report.models = models.into_values().collect();
        Ok(report)
    }
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let n = |i: usize| -> rusqlite::Result<u64> {
        Ok(row.get::<_, Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
    };
    let mut usage = Usage::new(n(5)?, n(6)?)
        .with_cache_read(n(7)?)
        .with_cache_write(n(8)?)
        .with_reasoning(n(9)?);
    usage.estimated = row.get::<_, Option<bool>>(10)?.unwrap_or(false);
    let status = row
        .get::<_, Option<String>>(12)?
        .map(|text| stored_status(&text));
    let service_tier = match row.get_ref(18)? {
        ValueRef::Text(text) if !text.is_empty() => {
            Some(String::from_utf8_lossy(text).into_owned())
        }
        _ => None,
    };
    Ok(Row {
        rowid: row.get(0)?,
        start_ns: row.get(1)?,
        step: row.get(2)?,
        model: row.get(3)?,
        provider: row.get(4)?,
        usage,
        service_tier,
        old: CostColumns {
            total: row.get(11)?,
            status,
            parts: [
                row.get(13)?,
                row.get(14)?,
                row.get(15)?,
                row.get(16)?,
                row.get(17)?,
            ],
        },
    })
}

/// A stored status as one of the known spellings (anything else never
/// equals a new status, so it is rewritten).
fn stored_status(text: &str) -> &'static str {
    [
        CostStatus::Priced,
        CostStatus::Partial,
        CostStatus::Unpriced,
    ]
    .into_iter()
    .map(CostStatus::as_str)
    .find(|known| *known == text)
    .unwrap_or("?")
}

/// The row's cost columns as `pricer` has them now; `None` when it cannot
/// price the span.
fn price(pricer: &dyn Pricer, row: &Row) -> Option<CostColumns> {
    let kind = priced_step(row.step.as_deref())?;
    let mut request = PriceRequest::new(&row.model, kind, &row.usage, from_nanos(row.start_ns));
    request.provider = row.provider.as_deref().filter(|p| !p.is_empty());
    request.service_tier = row.service_tier.as_deref();
    let cost = pricer.price(&request);
    if cost.status == CostStatus::Unpriced {
        return None;
    }
    let parts = [
        cost.input,
        cost.cached_input,
        cost.cache_write,
        cost.output,
        cost.reasoning,
    ]
    .map(|usd| Some(usd.picos_i64()));
    Some(CostColumns {
        total: Some(cost.total.picos_i64()),
        status: Some(cost.status.as_str()),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use opentelemetry::trace::{SpanId, TraceId};
    use serde_json::{Value, json};

    use super::*;
    use crate::pricing::Cost;
    use crate::store::{SpanParts, SpanQuery, SpanRecord};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn span(id: u64, start: u64, attributes: Value, pricer: Option<&dyn Pricer>) -> SpanRecord {
        let mut parts = SpanParts::new(
            TraceId::from(1_u128),
            SpanId::from(id),
            format!("span {id}"),
            at(start),
            at(start + 1),
        );
        parts.attributes = match attributes {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        parts.into_record(pricer)
    }

    fn chat(model: &str, input: u64, output: u64) -> Value {
        json!({
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": input,
            "gen_ai.usage.output_tokens": output,
        })
    }

    /// `rate` USD per 1M input and output tokens for `gpt-test`; nothing else priced.
    fn flat(rate: &'static str) -> impl Pricer {
        move |request: &PriceRequest<'_>| {
            if request.model != "gpt-test" {
                return Cost::unpriced();
            }
            let rate: Usd = rate.parse().unwrap();
            Cost::from_parts(
                rate.per_million_tokens(request.usage.uncached_input_tokens()),
                Usd::ZERO,
                Usd::ZERO,
                rate.per_million_tokens(request.usage.output_tokens),
                Usd::ZERO,
            )
        }
    }

    fn no_progress() -> impl FnMut(RepriceProgress) {
        |_| {}
    }

    #[test]
    fn the_sql_filter_is_the_rule_of_priced_step() {
        let store = Store::open_in_memory().unwrap();
        for step in [
            None,
            Some("chat"),
            Some("embeddings"),
            Some("retrieval"),
            Some("prompt"),
            Some("request"),
            Some("Chat"),
        ] {
            let sql: bool = store
                .conn
                .query_row(
                    &format!("SELECT {PRICED_STEP_SQL} FROM (SELECT ?1 AS step)"),
                    [step],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(sql, priced_step(step).is_some(), "{step:?}");
        }
    }

    #[test]
    fn pages_follow_the_start_index() {
        let store = Store::open_in_memory().unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", select_page_sql()))
            .unwrap()
            .query_map(rusqlite::params![0, 1, 0, 0, 10], |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("spans_start"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn reprices_in_pages_once_and_then_changes_nothing() {
        let mut store = Store::open_in_memory().unwrap();
        let old = flat("1");
        let mut estimated = chat("gpt-test", 1_000_000, 0);
        estimated["ragtrace.usage.estimated"] = json!(true);
        store
            .insert(&[
                // Same start time for three spans: pages of two split them.
                span(1, 100, chat("gpt-test", 1_000_000, 1_000_000), None),
                span(2, 100, chat("gpt-test", 2_000_000, 0), Some(&old)),
                span(3, 100, estimated, None),
                span(4, 200, chat("unknown-model", 10, 10), None),
                span(5, 300, json!({"ragtrace.step": "retrieval"}), None),
                span(6, 400, chat("gpt-test", 0, 3_000_000), Some(&old)),
            ])
            .unwrap();
        let before = store.spans(&SpanQuery::new()).unwrap();
        let new = flat("2");
        let mut seen = Vec::new();
        let report = store
            .reprice_in_pages(&new, TimeRange::all(), true, 2, &mut |p| seen.push(p))
            .unwrap();
        assert_eq!(store.spans(&SpanQuery::new()).unwrap(), before, "dry run");
        assert!(report.dry_run);
        assert_eq!(seen.first(), Some(&RepriceProgress { done: 0, total: 5 }));
        assert_eq!(seen.last(), Some(&RepriceProgress { done: 5, total: 5 }));
        assert_eq!(seen.len(), 4, "before, and after each of three pages");

        let wet = store
            .reprice_in_pages(&new, TimeRange::all(), false, 2, &mut no_progress())
            .unwrap();
        assert_eq!(
            wet,
            RepriceReport {
                dry_run: false,
                ..report.clone()
            }
        );
        assert_eq!(
            (wet.examined, wet.changed, wet.newly_priced, wet.unpriced),
            (5, 4, 2, 1)
        );
        let usd = |s: &str| s.parse::<Usd>().unwrap();
        assert_eq!(
            wet.models,
            vec![
                ModelReprice {
                    model: "gpt-test".into(),
                    changed: 4,
                    newly_priced: 2,
                    old_total: usd("5"),
                    new_total: usd("16"),
                    unpriced: 0,
                },
                ModelReprice {
                    model: "unknown-model".into(),
                    changed: 0,
                    newly_priced: 0,
                    old_total: Usd::ZERO,
                    new_total: Usd::ZERO,
                    unpriced: 1,
                },
            ]
        );
        let after = store.spans(&SpanQuery::new()).unwrap();
        for (a, b) in before.iter().zip(&after) {
            assert_eq!(a.usage, b.usage, "usage and its estimated flag are kept");
            assert_eq!(a.attributes, b.attributes);
        }
        let by_id = |id: u64| {
            after
                .iter()
                .find(|r| r.span_id == SpanId::from(id))
                .unwrap()
        };
        assert_eq!(by_id(1).cost, Some(usd("4")));
        assert_eq!(by_id(1).cost_source, Some(CostSource::Repriced));
        assert_eq!(by_id(1).cost_status, Some(CostStatus::Priced));
        assert_eq!(
            by_id(1).cost_breakdown.map(|b| (b.input, b.output)),
            Some((usd("2"), usd("2")))
        );
        assert!(by_id(3).usage.unwrap().estimated);
        assert_eq!(by_id(4).cost, None);
        assert_eq!(by_id(4).cost_status, Some(CostStatus::Unpriced));
        assert_eq!(by_id(4).cost_source, None);
        assert_eq!(by_id(5).cost_status, None);

        let again = store
            .reprice_in_pages(&new, TimeRange::all(), false, 2, &mut no_progress())
            .unwrap();
        assert_eq!((again.examined, again.changed, again.unpriced), (5, 0, 1));
        assert_eq!(store.spans(&SpanQuery::new()).unwrap(), after);
    }

    #[test]
    fn a_cost_the_tables_cannot_reproduce_is_kept() {
        let mut store = Store::open_in_memory().unwrap();
        let mut carried = chat("in-house-model", 100, 100);
        carried["ragtrace.cost.picousd"] = json!(123_456);
        store.insert(&[span(1, 100, carried, None)]).unwrap();
        let before = store.spans(&SpanQuery::new()).unwrap();
        let report = store
            .reprice(&flat("1"), TimeRange::all(), false, &mut no_progress())
            .unwrap();
        assert_eq!((report.changed, report.unpriced), (0, 1));
        assert_eq!(store.spans(&SpanQuery::new()).unwrap(), before);
    }

    #[test]
    fn each_span_is_priced_at_its_start_with_its_tier_and_provider() {
        let mut store = Store::open_in_memory().unwrap();
        let mut tiered = chat("gpt-test", 10, 10);
        tiered["gen_ai.openai.response.service_tier"] = json!("flex");
        tiered["gen_ai.provider.name"] = json!("openai");
        let mut embedding = chat("gpt-test", 10, 0);
        embedding["gen_ai.operation.name"] = json!("embeddings");
        store
            .insert(&[span(1, 100, tiered, None), span(2, 200, embedding, None)])
            .unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let sink = asked.clone();
        let pricer = move |request: &PriceRequest<'_>| {
            sink.lock().unwrap().push((
                request.at,
                request.step,
                request.provider.map(str::to_owned),
                request.service_tier.map(str::to_owned),
            ));
            Cost::unpriced()
        };
        let range = TimeRange::between(Some(at(50)), Some(at(250)));
        store
            .reprice(&pricer, range, true, &mut no_progress())
            .unwrap();
        use crate::steps::StepKind;
        assert_eq!(
            *asked.lock().unwrap(),
            vec![
                (
                    at(100),
                    StepKind::Chat,
                    Some("openai".to_owned()),
                    Some("flex".to_owned())
                ),
                (at(200), StepKind::Embeddings, None, None),
            ]
        );
        // The range's ends are honoured: [since, until).
        asked.lock().unwrap().clear();
        let range = TimeRange::between(Some(at(101)), Some(at(200)));
        let report = store
            .reprice(&pricer, range, true, &mut no_progress())
            .unwrap();
        assert_eq!(report.examined, 0);
        assert!(asked.lock().unwrap().is_empty());
    }
}
