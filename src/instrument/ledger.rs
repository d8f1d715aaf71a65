//! The request ledger: exact totals that child steps add to, readable in code.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::pricing::{Cost, CostStatus, Usd};
use crate::steps::{StepKind, Usage};

/// Totals of one kind of step within a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepTotals {
    /// Steps of this kind that ran (finished, failed or cancelled).
    pub count: u32,
    /// Steps of this kind that failed.
    pub failed: u32,
    /// Steps of this kind the caller dropped before they finished.
    pub cancelled: u32,
    /// Time spent in steps of this kind; concurrent steps each count in full.
    pub duration: Duration,
    /// Token usage of this kind of step.
    pub usage: Usage,
    /// Cost of this kind of step (exact).
    pub cost: Usd,
    /// Whether that cost is known; `None` when no step of this kind had usage to price.
    pub cost_status: Option<CostStatus>,
}

/// What one request cost and did, rolled up from its steps.
///
/// Read it with [`Request::summary`](super::Request::summary) when the
/// request ends, to return cost in a response header, bill a tenant or
/// enforce a budget; it is kept whether or not any tracing backend is
/// installed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Per step kind, in request order: embeddings, retrieval, prompt, chat.
    pub by_step: [StepTotals; 5],
    /// Token usage of all steps.
    pub usage: Usage,
    /// Cost of all steps, exact: the sum of the steps' costs.
    pub cost: Usd,
    /// Whether that cost is known; `None` when no step had usage to price.
    pub cost_status: Option<CostStatus>,
    /// Steps that ran.
    pub steps: u32,
    /// Steps that failed.
    pub failed_steps: u32,
}

impl Summary {
    /// The totals of one step kind.
    pub fn step(&self, kind: StepKind) -> &StepTotals {
        &self.by_step[index(kind)]
    }

    /// `true` when any step failed.
    pub fn any_failed(&self) -> bool {
        self.failed_steps > 0
    }
}

const fn index(kind: StepKind) -> usize {
    match kind {
        StepKind::Embeddings => 0,
        StepKind::Retrieval => 1,
        StepKind::Prompt => 2,
        StepKind::Chat => 3,
        StepKind::Rerank => 4,
    }
}

/// How a step ended, as the ledger counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Failed,
    Cancelled,
}

/// The running totals of one request. Steps add to it as they end.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    totals: Mutex<Summary>,
    /// The wall clock and the monotonic clock read together once, the first
    /// time a step needs a wall-clock start (for pricing), so later steps get
    /// theirs from their monotonic reading alone.
    anchor: OnceLock<(SystemTime, Instant)>,
    /// The request's output text, when the application sets one.
    pub(crate) output: Mutex<Option<String>>,
}

impl Ledger {
    /// The wall-clock time of a monotonic reading taken during the request.
    pub(crate) fn wall_clock_at(&self, at: Instant) -> SystemTime {
        let &(wall, mono) = self
            .anchor
            .get_or_init(|| (SystemTime::now(), Instant::now()));
        match at.checked_duration_since(mono) {
            Some(later) => wall + later,
            None => wall.checked_sub(mono - at).unwrap_or(wall),
        }
    }

    pub(crate) fn record(
        &self,
        kind: StepKind,
        outcome: Outcome,
        duration: Duration,
        usage: Option<&Usage>,
        cost: Option<&Cost>,
    ) {
        // A poisoned lock only means another step panicked mid-update; the
        // totals are plain counters, so keep counting rather than lose them.
        let mut totals = self.totals.lock().unwrap_or_else(|p| p.into_inner());
        let step = &mut totals.by_step[index(kind)];
        step.count += 1;
        step.duration = step.duration.saturating_add(duration);
        match outcome {
            Outcome::Ok => {}
            Outcome::Failed => step.failed += 1,
            Outcome::Cancelled => step.cancelled += 1,
        }
        if let Some(usage) = usage {
            step.usage.add(usage);
        }
        if let Some(cost) = cost {
            step.cost += cost.total;
            step.cost_status = Some(combine(step.cost_status, cost.status));
        }
        totals.steps += 1;
        if outcome == Outcome::Failed {
            totals.failed_steps += 1;
        }
        if let Some(usage) = usage {
            totals.usage.add(usage);
        }
        if let Some(cost) = cost {
            totals.cost += cost.total;
            totals.cost_status = Some(combine(totals.cost_status, cost.status));
        }
    }

    pub(crate) fn snapshot(&self) -> Summary {
        self.totals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn combine(so_far: Option<CostStatus>, next: CostStatus) -> CostStatus {
    match so_far {
        None => next,
        Some(status) => status.combine(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_sums_of_steps_and_status_combines() {
        let ledger = Ledger::default();
        let priced = Cost::from_parts(
            Usd::from_picos(3),
            Usd::ZERO,
            Usd::ZERO,
            Usd::from_picos(4),
            Usd::ZERO,
        );
        ledger.record(
            StepKind::Embeddings,
            Outcome::Ok,
            Duration::from_millis(2),
            Some(&Usage::new(10, 0)),
            Some(&priced),
        );
        ledger.record(
            StepKind::Retrieval,
            Outcome::Failed,
            Duration::from_millis(5),
            None,
            None,
        );
        ledger.record(
            StepKind::Chat,
            Outcome::Ok,
            Duration::from_millis(7),
            Some(&Usage::new(100, 20)),
            Some(&Cost::unpriced()),
        );
        let s = ledger.snapshot();
        assert_eq!(s.steps, 3);
        assert_eq!(s.failed_steps, 1);
        assert_eq!(s.usage, Usage::new(110, 20));
        assert_eq!(s.cost, Usd::from_picos(7));
        assert_eq!(s.cost_status, Some(CostStatus::Partial));
        assert_eq!(s.step(StepKind::Retrieval).cost_status, None);
        assert_eq!(s.step(StepKind::Chat).duration, Duration::from_millis(7));
    }
}
