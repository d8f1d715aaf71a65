//! `ragtrace report`: what requests cost and where the money went, grouped
//! by request, step, model, provider, user, session, name, day or hour.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use super::distribution::Distribution;
use super::range::{TimeRange, from_nanos, to_nanos};
use super::requests::{RequestRow, request_span, rfc3339};
use super::source::{AnalysisError, TraceSource};
use super::totals::{Totals, usd};
use crate::pricing::{CostStatus, Usd};
use crate::store::SpanRecord;

/// Groups kept by name; the rest are summed into one `(other N)` row, so
/// the groups still add up to the grand total.
const MAX_TRACKED_NAMES: usize = 10_000;

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GroupBy {
    /// Each request on its own.
    Request,
    /// The RAG step of each span (`request`, `embeddings`, `retrieval`, `prompt`, `chat`).
    Step,
    /// The model of each span.
    Model,
    /// The provider of each span.
    Provider,
    /// The request's user.
    User,
    /// The request's session.
    Session,
    /// The request's name (route or workflow).
    Name,
    /// The UTC day the request started.
    Day,
    /// The UTC hour the request started.
    Hour,
}

impl GroupBy {
    /// Every grouping, by name.
    pub const ALL: [(&'static str, GroupBy); 9] = [
        ("request", GroupBy::Request),
        ("step", GroupBy::Step),
        ("model", GroupBy::Model),
        ("provider", GroupBy::Provider),
        ("user", GroupBy::User),
        ("session", GroupBy::Session),
        ("name", GroupBy::Name),
        ("day", GroupBy::Day),
        ("hour", GroupBy::Hour),
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        GroupBy::ALL
            .iter()
            .find(|(_, g)| *g == self)
            .map_or("", |(name, _)| name)
    }

    /// `true` where each span is put in a group of its own kind (step,
    /// model, provider): a request then counts in every group it touched.
    pub fn by_span(self) -> bool {
        matches!(self, GroupBy::Step | GroupBy::Model | GroupBy::Provider)
    }
}

/// What to report on.
///
/// ```
/// use ragtrace::analysis::{GroupBy, ReportOptions, TimeRange};
///
/// let options = ReportOptions::new().group_by(GroupBy::Model).top(5);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReportOptions {
    /// Requests that started in this range.
    pub range: TimeRange,
    /// How to group.
    pub group_by: GroupBy,
    /// How many of the most expensive requests to list.
    pub top: usize,
    /// Groups listed at most; the rest are summed into one row.
    pub max_groups: usize,
    /// Threads to read on where the source can split its traces (the
    /// report is the same whatever the number).
    pub threads: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            range: TimeRange::all(),
            group_by: GroupBy::Model,
            top: 10,
            max_groups: 50,
            threads: 2,
        }
    }
}

impl ReportOptions {
    /// Every request, by model, the top 10 listed.
    pub fn new() -> Self {
        ReportOptions::default()
    }

    /// Requests that started in `range`.
    pub fn range(mut self, range: TimeRange) -> Self {
        self.range = range;
        self
    }

    /// How to group.
    pub fn group_by(mut self, group_by: GroupBy) -> Self {
        self.group_by = group_by;
        self
    }

    /// How many of the most expensive requests to list.
    pub fn top(mut self, top: usize) -> Self {
        self.top = top;
        self
    }

    /// Threads to read on (at least one; two by default).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// How many groups to list before summing the rest into one row.
    pub fn max_groups(mut self, max_groups: usize) -> Self {
        self.max_groups = max_groups.max(1);
        self
    }
}

/// A cost spread, serialized as exact decimal strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CostSpread {
    /// Mean (rounded to the picodollar).
    #[serde(serialize_with = "usd")]
    pub mean: Usd,
    /// Median.
    #[serde(serialize_with = "usd")]
    pub p50: Usd,
    /// 95th percentile.
    #[serde(serialize_with = "usd")]
    pub p95: Usd,
    /// Largest.
    #[serde(serialize_with = "usd")]
    pub max: Usd,
}

/// A latency spread, in seconds when serialized.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LatencySpread {
    /// Mean.
    #[serde(serialize_with = "secs")]
    pub mean: Duration,
    /// Median.
    #[serde(serialize_with = "secs")]
    pub p50: Duration,
    /// 95th percentile.
    #[serde(serialize_with = "secs")]
    pub p95: Duration,
    /// Largest.
    #[serde(serialize_with = "secs")]
    pub max: Duration,
}

/// One group of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GroupRow {
    /// The group's key (a model, a step, a day, ...). Missing values are
    /// `(none)`; groups beyond the limit are summed as `(other N)`.
    pub key: String,
    /// Requests in the group. By step, model or provider: requests with a
    /// span in it, so a request counts in each group it touched, and in an
    /// `(other N)` row once per group folded into it.
    pub requests: u64,
    /// Sums over the group's spans.
    pub totals: Totals,
    /// Cost per unit: per request, or per model call (spans with a cost
    /// status; an unpriced call counts as zero) for step, model and provider.
    pub cost: CostSpread,
    /// Latency per unit: request duration, or span duration.
    pub latency: LatencySpread,
    /// `false` if the spreads are within 0.5% rather than exact (groups of
    /// more than 16,384 units).
    pub exact_percentiles: bool,
}

/// One of the most expensive requests, with its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TopRequest {
    /// The request.
    pub request: RequestRow,
    /// Its spans' figures by step, in the order the steps first ran.
    pub steps: Vec<StepCost>,
}

/// A request's spend in one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StepCost {
    /// The step (`(none)` for spans of no known step).
    pub step: String,
    /// The models it called, joined by `, `.
    pub models: String,
    /// Sums over the step's spans.
    pub totals: Totals,
    /// Summed span durations.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
}

/// A model whose spans could not be priced (fully or in part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UnpricedModel {
    /// The model as recorded.
    pub model: String,
    /// Spans with no price at all.
    pub unpriced_spans: u64,
    /// Spans with some usage kind unpriced.
    pub partial_spans: u64,
}

/// Cost in one time bucket, split by model and by step (for charts).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TimeBucket {
    /// Bucket start.
    #[serde(serialize_with = "rfc3339")]
    pub start: SystemTime,
    /// Requests that started in it.
    pub requests: u64,
    /// Cost by model (the largest models; the rest as `(other)`).
    pub by_model: Vec<(String, Amount)>,
    /// Cost by step.
    pub by_step: Vec<(String, Amount)>,
}

/// An exact amount that serializes as a decimal string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Amount(#[serde(serialize_with = "usd")] pub Usd);

/// A cost report: groups, the most expensive requests, the grand total,
/// and what is not priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The range reported on.
    #[serde(serialize_with = "range")]
    pub range: TimeRange,
    /// The grouping.
    pub group_by: GroupBy,
    /// Groups by cost, largest first (days and hours in time order, steps
    /// in pipeline order); their totals add up to `total`.
    pub groups: Vec<GroupRow>,
    /// Every request, as one group.
    pub total: GroupRow,
    /// The most expensive requests.
    pub top_requests: Vec<TopRequest>,
    /// Models with spans that have no price, most spans first.
    pub unpriced: Vec<UnpricedModel>,
    /// Cost over time (hourly over up to 3 days, daily beyond).
    pub timeline: Vec<TimeBucket>,
    /// Width of a timeline bucket.
    #[serde(serialize_with = "secs")]
    pub bucket: Duration,
    /// Per-request cost histogram: 24 equal bins from zero to the 99th
    /// percentile (the last bin holds the rest).
    pub cost_histogram: Histogram,
    /// Latency by step (every span grouped by its step), for charts.
    pub steps: Vec<GroupRow>,
}

/// Equal-width bins of money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Histogram {
    /// Width of each bin.
    #[serde(serialize_with = "usd")]
    pub width: Usd,
    /// Counts per bin, from zero.
    pub counts: Vec<u64>,
}

impl Report {
    /// The share of the known cost that rests on estimated token counts (0 to 1).
    pub fn estimated_share(&self) -> f64 {
        let cost = self.total.totals.cost.picos();
        if cost == 0 {
            0.0
        } else {
            self.total.totals.estimated_cost.picos() as f64 / cost as f64
        }
    }
}

/// Builds the report `options` ask for.
pub fn report(source: &dyn TraceSource, options: &ReportOptions) -> Result<Report, AnalysisError> {
    report_with_progress(source, options, &mut |_| {})
}

/// [`report`], telling `progress` how many spans it has read so far (every
/// few thousand spans), for a progress bar over a large store.
pub fn report_with_progress(
    source: &dyn TraceSource,
    options: &ReportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, AnalysisError> {
    // Two threads where the source can split its traces (by trace id):
    // each part is summed by its own builder, and the builders are merged
    // in trace-id order, which gives the report one thread would.
    if options.threads > 1
        && let Some(parts) = source.report_parts(options.threads)?
        && parts.len() > 1
    {
        return report_in_parts(parts, options, progress);
    }
    let mut builder = Builder::new(options, 0);
    let (mut read, mut told) = (0_u64, 0_u64);
    source.report_traces(&options.range, &mut |spans| {
        builder.add_trace(spans);
        read += spans.len() as u64;
        if read - told >= 4_096 {
            told = read;
            progress(read);
        }
        ControlFlow::Continue(())
    })?;
    progress(read);
    Ok(builder.finish())
}

fn report_in_parts(
    parts: Vec<Box<dyn TraceSource + Send>>,
    options: &ReportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, AnalysisError> {
    let others_read = AtomicU64::new(0);
    let mut parts = parts.into_iter();
    let first = parts.next().expect("more than one part");
    let (first, rest) = std::thread::scope(|scope| {
        let others_read = &others_read;
        let handles: Vec<_> = parts
            .enumerate()
            .map(|(i, part)| {
                scope.spawn(move || -> Result<Builder<'_>, AnalysisError> {
                    let mut builder = Builder::new(options, i as u64 + 1);
                    part.report_traces(&options.range, &mut |spans| {
                        builder.add_trace(spans);
                        others_read.fetch_add(spans.len() as u64, Ordering::Relaxed);
                        ControlFlow::Continue(())
                    })?;
                    Ok(builder)
                })
            })
            .collect();
        // The first part on this thread, which also tells the progress.
        let mut builder = Builder::new(options, 0);
        let (mut read, mut told) = (0_u64, 0_u64);
        let first = first
            .report_traces(&options.range, &mut |spans| {
                builder.add_trace(spans);
                read += spans.len() as u64;
                if read - told >= 4_096 {
                    told = read;
                    progress(read + others_read.load(Ordering::Relaxed));
                }
                ControlFlow::Continue(())
            })
            .map(|()| builder);
        let rest: Vec<Result<Builder<'_>, AnalysisError>> = handles
            .into_iter()
            .map(|handle| match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect();
        (first, rest)
    });
    let mut builder = first?;
    for part in rest {
        builder.absorb(part?);
    }
    progress(builder.total.totals.spans);
    Ok(builder.finish())
}

/// One group being summed.
#[derive(Default)]
struct Acc {
    requests: u64,
    /// The last request counted (by-span groupings count each request once).
    last_request: Option<opentelemetry::trace::TraceId>,
    totals: Totals,
    cost: Distribution,
    latency: Distribution,
}

impl Acc {
    fn count_request(&mut self, trace: opentelemetry::trace::TraceId) {
        if self.last_request != Some(trace) {
            self.last_request = Some(trace);
            self.requests += 1;
        }
    }

    fn merge(&mut self, other: &Acc) {
        self.requests += other.requests;
        self.totals.merge(&other.totals);
        self.cost.merge(&other.cost);
        self.latency.merge(&other.latency);
    }

    fn row(&self, key: String) -> GroupRow {
        let usd = |v: Option<u64>| Usd::from_picos(i128::from(v.unwrap_or(0)));
        let dur = |v: Option<u64>| Duration::from_nanos(v.unwrap_or(0));
        GroupRow {
            key,
            requests: self.requests,
            totals: self.totals.clone(),
            cost: CostSpread {
                mean: usd(self.cost.mean()),
                p50: usd(self.cost.percentile(0.5)),
                p95: usd(self.cost.percentile(0.95)),
                max: usd(self.cost.max()),
            },
            latency: LatencySpread {
                mean: dur(self.latency.mean()),
                p50: dur(self.latency.percentile(0.5)),
                p95: dur(self.latency.percentile(0.95)),
                max: dur(self.latency.max()),
            },
            exact_percentiles: self.cost.is_exact() && self.latency.is_exact(),
        }
    }
}

struct Builder<'o> {
    options: &'o ReportOptions,
    groups: HashMap<String, Acc>,
    /// Groups beyond [`MAX_TRACKED_NAMES`] or `max_groups`, summed together.
    overflow: Acc,
    /// Groups folded into `overflow` by `max_groups`.
    overflow_keys: u64,
    /// Some keys were never tracked (more than [`MAX_TRACKED_NAMES`]).
    overflow_untracked: bool,
    /// By request: the costliest requests so far.
    by_request: Costliest<(String, Box<Acc>)>,
    total: Acc,
    steps: HashMap<String, Acc>,
    top: Costliest<Box<TopRequest>>,
    seq: u64,
    unpriced: BTreeMap<String, (u64, u64)>,
    /// Bucket start (ns) to (requests, cost by model, cost by step).
    timeline: BTreeMap<i64, Bucket>,
    first_ns: i64,
    last_ns: i64,
    /// The last day or hour key formatted, by its index.
    time_key: (Option<i64>, String),
}

/// The costliest values seen so far: a min-heap by (cost, reverse arrival),
/// so the cheapest (and, among equals, the latest) is dropped first.
type Costliest<T> = BinaryHeap<Reverse<(Usd, u64, Unordered<T>)>>;

/// A value carried in a heap, ordered only by the cost and sequence
/// beside it.
struct Unordered<T>(T);

impl<T> PartialEq for Unordered<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Unordered<T> {}
impl<T> PartialOrd for Unordered<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Unordered<T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

const NONE: &str = "(none)";

impl<'o> Builder<'o> {
    /// A builder for part `part` of the traces (in trace-id order): its
    /// arrival sequence starts above every earlier part's, so ties between
    /// equally costly requests break as on one thread.
    fn new(options: &'o ReportOptions, part: u64) -> Self {
        Builder {
            options,
            groups: HashMap::default(),
            overflow: Acc::default(),
            overflow_keys: 0,
            overflow_untracked: false,
            by_request: BinaryHeap::new(),
            total: Acc::default(),
            steps: HashMap::default(),
            top: BinaryHeap::new(),
            seq: part << 48,
            unpriced: BTreeMap::new(),
            timeline: BTreeMap::new(),
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            time_key: (None, String::new()),
        }
    }

    fn group(&mut self, key: &str) -> &mut Acc {
        // Looked up before inserting, so a known key allocates nothing.
        if self.groups.contains_key(key) {
            return self.groups.get_mut(key).expect("just found");
        }
        if self.groups.len() >= MAX_TRACKED_NAMES {
            self.overflow_untracked = true;
            return &mut self.overflow;
        }
        self.groups.entry(key.to_owned()).or_default()
    }

    /// By request, only the costliest `max_groups` requests are kept as
    /// rows (each request is complete when it arrives); the rest are summed.
    fn add_request_row(&mut self, key: String, acc: Acc) {
        self.seq += 1;
        let cost = acc.totals.cost;
        self.by_request.push(Reverse((
            cost,
            u64::MAX - self.seq,
            Unordered((key, Box::new(acc))),
        )));
        if self.by_request.len() > self.options.max_groups
            && let Some(Reverse((_, _, Unordered((_, evicted))))) = self.by_request.pop()
        {
            self.overflow.merge(&evicted);
            self.overflow_keys += 1;
        }
    }

    fn add_trace(&mut self, spans: &[SpanRecord]) {
        let Some(root) = request_span(spans) else {
            return;
        };
        if !self.options.range.contains(root.start) {
            return;
        }
        // The request's sums, as `RequestRow::of` makes them; the row
        // itself (names, ids) is built only for the top requests.
        let mut request = Totals::default();
        let mut end = root.end();
        for span in spans {
            request.add_span(span);
            end = end.max(span.end());
        }
        let request_cost = request.cost;
        let trace = root.trace_id;
        let cost_picos = non_negative(request_cost);
        let duration_ns = nanos(end.duration_since(root.start).unwrap_or(Duration::ZERO));

        self.total.requests += 1;
        self.total.totals.merge(&request);
        self.total.cost.add(cost_picos);
        self.total.latency.add(duration_ns);

        let group_by = self.options.group_by;
        if group_by.by_span() {
            for span in spans {
                let key = match group_by {
                    GroupBy::Step => span.step.as_deref(),
                    GroupBy::Model => span.model.as_deref(),
                    _ => span.provider.as_deref(),
                }
                .unwrap_or(NONE);
                let acc = self.group(key);
                acc.count_request(trace);
                acc.totals.add_span(span);
                if span.cost_status.is_some() {
                    acc.cost.add(span.cost.map_or(0, non_negative));
                }
                acc.latency.add(nanos(span.duration));
            }
        } else if group_by == GroupBy::Request {
            let mut one = Acc::default();
            one.requests += 1;
            one.totals.merge(&request);
            one.cost.add(cost_picos);
            one.latency.add(duration_ns);
            // A request that cannot enter the costliest rows (it would be
            // the first one out) is summed at once, without its key.
            let enters = self.by_request.len() < self.options.max_groups
                || self
                    .by_request
                    .peek()
                    .is_some_and(|Reverse((cost, _, _))| request_cost > *cost);
            if enters {
                self.add_request_row(trace.to_string(), one);
            } else {
                self.seq += 1;
                self.overflow.merge(&one);
                self.overflow_keys += 1;
            }
        } else {
            // Day and hour keys are formatted once per day or hour (the
            // previous one is kept, taken out while the group is updated).
            let mut time_key = std::mem::take(&mut self.time_key);
            let key: &str = match group_by {
                GroupBy::User => root.user_id.as_deref().unwrap_or(NONE),
                GroupBy::Session => root.session_id.as_deref().unwrap_or(NONE),
                GroupBy::Name => &root.name,
                _ => {
                    let (width, format): (i64, fn(SystemTime) -> String) =
                        if group_by == GroupBy::Day {
                            (24 * HOUR_NS, day_key)
                        } else {
                            (HOUR_NS, hour_key)
                        };
                    let index = to_nanos(root.start).div_euclid(width);
                    if time_key.0 != Some(index) {
                        time_key = (Some(index), format(root.start));
                    }
                    &time_key.1
                }
            };
            let acc = self.group(key);
            acc.requests += 1;
            acc.totals.merge(&request);
            acc.cost.add(cost_picos);
            acc.latency.add(duration_ns);
            self.time_key = time_key;
        }

        // Latency and cost by step, whatever the grouping.
        for span in spans {
            let step = span.step.as_deref().unwrap_or(NONE);
            let acc = if self.steps.contains_key(step) {
                self.steps.get_mut(step)
            } else if self.steps.len() < 64 {
                Some(self.steps.entry(step.to_owned()).or_default())
            } else {
                None
            };
            if let Some(acc) = acc {
                acc.count_request(trace);
                acc.totals.add_span(span);
                if span.cost_status.is_some() {
                    acc.cost.add(span.cost.map_or(0, non_negative));
                }
                acc.latency.add(nanos(span.duration));
            }
            if let Some(model) = &span.model {
                let (unpriced, partial) = match span.cost_status {
                    Some(CostStatus::Unpriced) => (1, 0),
                    Some(CostStatus::Partial) => (0, 1),
                    _ => (0, 0),
                };
                if unpriced + partial > 0
                    && (self.unpriced.contains_key(model)
                        || self.unpriced.len() < MAX_TRACKED_NAMES)
                {
                    let entry = self.unpriced.entry(model.clone()).or_default();
                    entry.0 += unpriced;
                    entry.1 += partial;
                }
            }
        }

        // The timeline, at an hour's grain; finish() merges to days if long.
        let start_ns = to_nanos(root.start);
        self.first_ns = self.first_ns.min(start_ns);
        self.last_ns = self.last_ns.max(start_ns);
        let hour = start_ns.div_euclid(HOUR_NS) * HOUR_NS;
        let bucket = self.timeline.entry(hour).or_default();
        bucket.0 += 1;
        for span in spans {
            if let Some(cost) = span.cost {
                let model = span.model.as_deref().unwrap_or(NONE);
                let model = if bucket.1.contains_key(model) || bucket.1.len() < 64 {
                    model
                } else {
                    "(other)"
                };
                add_cost(&mut bucket.1, model, cost);
                add_cost(&mut bucket.2, span.step.as_deref().unwrap_or(NONE), cost);
            }
        }

        if self.options.top > 0 {
            self.seq += 1;
            let enters = self.top.len() < self.options.top
                || self
                    .top
                    .peek()
                    .is_some_and(|Reverse((c, _, _))| request_cost > *c);
            if enters {
                let entry = TopRequest {
                    steps: step_costs(spans, root),
                    request: RequestRow::of(root, spans),
                };
                // Ties: the earlier request stays (higher sequence is smaller).
                self.top.push(Reverse((
                    entry.request.cost,
                    u64::MAX - self.seq,
                    Unordered(Box::new(entry)),
                )));
                if self.top.len() > self.options.top {
                    self.top.pop();
                }
            }
        }
    }

    /// Adds the sums of `later`, built over traces that all come after
    /// this builder's (in trace-id order). The result is what one builder
    /// fed both parts in order gives, except near the caps on tracked names
    /// (10,000 group keys, 64 steps, 64 models an hour), where which names
    /// are kept can differ (the sums still add up).
    fn absorb(&mut self, later: Builder<'o>) {
        self.total.merge(&later.total);
        for (key, acc) in later.groups {
            if let Some(ours) = self.groups.get_mut(&key) {
                ours.merge(&acc);
            } else if self.groups.len() < MAX_TRACKED_NAMES {
                self.groups.insert(key, acc);
            } else {
                self.overflow.merge(&acc);
                self.overflow_untracked = true;
            }
        }
        self.overflow.merge(&later.overflow);
        self.overflow_keys += later.overflow_keys;
        self.overflow_untracked |= later.overflow_untracked;
        for entry in later.by_request {
            self.by_request.push(entry);
            if self.by_request.len() > self.options.max_groups
                && let Some(Reverse((_, _, Unordered((_, evicted))))) = self.by_request.pop()
            {
                self.overflow.merge(&evicted);
                self.overflow_keys += 1;
            }
        }
        for (step, acc) in later.steps {
            if let Some(ours) = self.steps.get_mut(&step) {
                ours.merge(&acc);
            } else if self.steps.len() < 64 {
                self.steps.insert(step, acc);
            }
        }
        for entry in later.top {
            self.top.push(entry);
            if self.top.len() > self.options.top {
                self.top.pop();
            }
        }
        self.seq = self.seq.max(later.seq);
        for (model, (unpriced, partial)) in later.unpriced {
            if self.unpriced.contains_key(&model) || self.unpriced.len() < MAX_TRACKED_NAMES {
                let entry = self.unpriced.entry(model).or_default();
                entry.0 += unpriced;
                entry.1 += partial;
            }
        }
        for (hour, (requests, models, steps)) in later.timeline {
            let bucket = self.timeline.entry(hour).or_default();
            bucket.0 += requests;
            for (model, cost) in models {
                let model = if bucket.1.contains_key(&model) || bucket.1.len() < 64 {
                    model
                } else {
                    "(other)".to_owned()
                };
                add_cost(&mut bucket.1, &model, cost);
            }
            for (step, cost) in steps {
                add_cost(&mut bucket.2, &step, cost);
            }
        }
        self.first_ns = self.first_ns.min(later.first_ns);
        self.last_ns = self.last_ns.max(later.last_ns);
    }

    fn finish(self) -> Report {
        let mut rows: Vec<(String, Acc)> = self.groups.into_iter().collect();
        rows.extend(
            self.by_request
                .into_iter()
                .map(|Reverse((_, _, Unordered((key, acc))))| (key, *acc)),
        );
        rows.sort_by(|(ka, a), (kb, b)| {
            b.totals
                .cost
                .cmp(&a.totals.cost)
                .then(b.requests.cmp(&a.requests))
                .then(ka.cmp(kb))
        });
        match self.options.group_by {
            GroupBy::Day | GroupBy::Hour => rows.sort_by(|(ka, _), (kb, _)| ka.cmp(kb)),
            GroupBy::Step => rows.sort_by_key(|(k, _)| step_order(k)),
            _ => {}
        }
        let mut other = self.overflow;
        let mut other_keys = self.overflow_keys;
        let keep = self.options.max_groups;
        if rows.len() > keep {
            for (_, acc) in rows.drain(keep..) {
                other.merge(&acc);
                other_keys += 1;
            }
        }
        let mut groups: Vec<GroupRow> = rows.iter().map(|(k, acc)| acc.row(k.clone())).collect();
        if other.totals.spans > 0 || other.requests > 0 {
            let label = if self.overflow_untracked {
                "(other)".to_owned()
            } else {
                format!("(other {other_keys})")
            };
            groups.push(other.row(label));
        }

        let mut steps: Vec<GroupRow> = self
            .steps
            .iter()
            .map(|(k, acc)| acc.row(k.clone()))
            .collect();
        steps.sort_by_key(|row| step_order(&row.key));

        let mut top: Vec<TopRequest> = self
            .top
            .into_iter()
            .map(|Reverse((_, _, t))| *t.0)
            .collect();
        top.sort_by(|a, b| {
            b.request
                .cost
                .cmp(&a.request.cost)
                .then(a.request.start.cmp(&b.request.start))
        });

        let mut unpriced: Vec<UnpricedModel> = self
            .unpriced
            .into_iter()
            .map(|(model, (unpriced_spans, partial_spans))| UnpricedModel {
                model,
                unpriced_spans,
                partial_spans,
            })
            .collect();
        unpriced.sort_by(|a, b| {
            (b.unpriced_spans + b.partial_spans).cmp(&(a.unpriced_spans + a.partial_spans))
        });

        let span_ns = self.last_ns.saturating_sub(self.first_ns);
        let bucket_ns = if span_ns > 3 * 24 * HOUR_NS {
            24 * HOUR_NS
        } else {
            HOUR_NS
        };
        let timeline = timeline(self.timeline, bucket_ns);

        let upper = self.total.cost.percentile(0.99).unwrap_or(0).max(1);
        let counts = self.total.cost.histogram(24, upper);
        let width = Usd::from_picos(i128::from((upper / 24).max(1)));

        Report {
            range: self.options.range,
            group_by: self.options.group_by,
            groups,
            total: self.total.row("total".into()),
            top_requests: top,
            unpriced,
            timeline,
            bucket: Duration::from_nanos(bucket_ns as u64),
            cost_histogram: Histogram { width, counts },
            steps,
        }
    }
}

const HOUR_NS: i64 = 3_600_000_000_000;

/// A timeline bucket being summed: requests, cost by model, cost by step.
type Bucket = (u64, HashMap<String, Usd>, HashMap<String, Usd>);

/// Adds `cost` to `key`'s entry, allocating the key only the first time.
fn add_cost(costs: &mut HashMap<String, Usd>, key: &str, cost: Usd) {
    match costs.get_mut(key) {
        Some(sum) => *sum += cost,
        None => {
            costs.insert(key.to_owned(), cost);
        }
    }
}

/// Merges hourly buckets into buckets of `width` and keeps the eight
/// costliest models per bucket (the rest as `(other)`).
fn timeline(hourly: BTreeMap<i64, Bucket>, width: i64) -> Vec<TimeBucket> {
    let mut merged: BTreeMap<i64, Bucket> = BTreeMap::new();
    for (start, (requests, models, steps)) in hourly {
        let bucket = merged.entry(start.div_euclid(width) * width).or_default();
        bucket.0 += requests;
        for (model, cost) in models {
            *bucket.1.entry(model).or_default() += cost;
        }
        for (step, cost) in steps {
            *bucket.2.entry(step).or_default() += cost;
        }
    }
    merged
        .into_iter()
        .map(|(start, (requests, models, steps))| TimeBucket {
            start: from_nanos(start),
            requests,
            by_model: largest(models, 8),
            by_step: largest(steps, 8),
        })
        .collect()
}

fn largest(costs: HashMap<String, Usd>, keep: usize) -> Vec<(String, Amount)> {
    let mut sorted: Vec<(String, Usd)> = costs.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<(String, Amount)> = Vec::new();
    let mut rest = Usd::ZERO;
    let mut has_rest = false;
    for (i, (key, cost)) in sorted.into_iter().enumerate() {
        if i < keep {
            out.push((key, Amount(cost)));
        } else {
            rest += cost;
            has_rest = true;
        }
    }
    if has_rest {
        out.push(("(other)".into(), Amount(rest)));
    }
    out
}

/// A request's figures by step, in the order the steps first ran.
fn step_costs(spans: &[SpanRecord], root: &SpanRecord) -> Vec<StepCost> {
    let mut out: Vec<StepCost> = Vec::new();
    for span in spans {
        if span.span_id == root.span_id {
            continue;
        }
        let step = span.step.as_deref().unwrap_or(NONE);
        let index = match out.iter().position(|s| s.step == step) {
            Some(i) => i,
            None => {
                out.push(StepCost {
                    step: step.to_owned(),
                    models: String::new(),
                    totals: Totals::default(),
                    duration: Duration::ZERO,
                });
                out.len() - 1
            }
        };
        let entry = &mut out[index];
        entry.totals.add_span(span);
        entry.duration += span.duration;
        if let Some(model) = &span.model
            && !entry.models.split(", ").any(|m| m == model)
        {
            if !entry.models.is_empty() {
                entry.models.push_str(", ");
            }
            entry.models.push_str(model);
        }
    }
    out
}

fn step_order(step: &str) -> (usize, String) {
    let rank = [
        "request",
        "embeddings",
        "retrieval",
        "rerank",
        "prompt",
        "chat",
    ]
    .iter()
    .position(|s| *s == step)
    .unwrap_or(6);
    (rank, step.to_owned())
}

fn non_negative(usd: Usd) -> u64 {
    u64::try_from(usd.picos().max(0)).unwrap_or(u64::MAX)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn day_key(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| NONE.into())
}

fn hour_key(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.strftime("%Y-%m-%dT%H:00Z").to_string())
        .unwrap_or_else(|_| NONE.into())
}

fn secs<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn range<S: serde::Serializer>(range: &TimeRange, serializer: S) -> Result<S::Ok, S::Error> {
    use super::range::Rfc3339;
    use serde::ser::SerializeStruct;
    let mut s = serializer.serialize_struct("TimeRange", 2)?;
    s.serialize_field("since", &range.since.map(|t| t.fmt_rfc3339()))?;
    s.serialize_field("until", &range.until.map(|t| t.fmt_rfc3339()))?;
    s.end()
}
