//! A report read on several threads (the store split by trace id) equals
//! the report read on one, for every grouping, over the whole store and
//! over time ranges (wide and narrow, which the store reads differently).
#![cfg(feature = "store")]
#![recursion_limit = "256"]

#[path = "../examples/gen_store/synth.rs"]
mod synth;

use std::time::{Duration, UNIX_EPOCH};

use ragtrace::analysis::{GroupBy, ReportOptions, TimeRange, TraceSource, report};
use ragtrace::store::Store;

#[test]
fn a_report_read_in_parts_equals_one_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parts.db");
    let mut plan = synth::Plan::spans(20_000);
    plan.days = 3;
    synth::write(&mut Store::open(&path).unwrap(), &plan, 1_000).unwrap();
    let store = Store::open_read_only(&path).unwrap();
    assert!(store.report_parts(2).unwrap().is_some_and(|p| p.len() == 2));

    let day = UNIX_EPOCH + Duration::from_secs(synth::EPOCH_S + 86_400);
    // The whole store; a third of it (read as a walk of the whole index);
    // two hours (read by looking up the traces found in range).
    let ranges = [
        TimeRange::all(),
        TimeRange::between(Some(day), Some(day + Duration::from_secs(86_400))),
        TimeRange::between(Some(day), Some(day + Duration::from_secs(7_200))),
    ];
    for range in ranges {
        for (_, group_by) in GroupBy::ALL {
            for max_groups in [5, 50] {
                let options = ReportOptions::new()
                    .range(range)
                    .group_by(group_by)
                    .top(7)
                    .max_groups(max_groups);
                let parts = report(&store, &options).unwrap();
                let whole = report(&store, &options.clone().threads(1)).unwrap();
                assert_eq!(
                    parts, whole,
                    "{group_by:?} over {range:?}, {max_groups} groups"
                );
                assert!(parts.total.requests > 0);
            }
        }
    }
}
