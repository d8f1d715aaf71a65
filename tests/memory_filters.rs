//! `MemoryRetriever` honours vendor-neutral filters: for random corpora,
//! random filter trees, thresholds and top-k, it returns exactly what a
//! brute-force "filter, then rank" over the same documents returns.
//!
//! Vectors have small integer components and the index scores by dot
//! product, so every score is exact and ties (broken by insertion order)
//! are real ties.

use proptest::prelude::*;
use ragtrace::integrations::memory::{Document, MemoryRetriever, Metric};
use ragtrace::steps::{Filter, FilterValue, Query, Retriever, ScoreKind};
use serde_json::{Value, json};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

/// One payload field value: a keyword, an integer, a float, a bool, a list
/// of keywords, null, or nothing at all.
fn field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        (0..3usize).prop_map(|i| Some(json!(TENANTS[i]))),
        (2018..2025i64).prop_map(|y| Some(json!(y))),
        (0..8i64).prop_map(|x| Some(json!(x as f64 / 4.0))),
        any::<bool>().prop_map(|b| Some(json!(b))),
        prop::collection::vec(0..3usize, 0..3)
            .prop_map(|v| Some(json!(v.iter().map(|i| TENANTS[*i]).collect::<Vec<_>>()))),
    ]
}

fn payload() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    (field(), field(), field()).prop_map(|(a, b, c)| {
        let mut map = serde_json::Map::new();
        for (key, value) in [("tenant", a), ("year", b), ("flag", c)] {
            if let Some(value) = value {
                map.insert(key.to_owned(), value);
            }
        }
        // A nested field, reached as `meta.tenant`.
        if let Some(Value::String(t)) = map.get("tenant").cloned() {
            map.insert("meta".to_owned(), json!({ "tenant": t }));
        }
        map
    })
}

fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("tenant"),
        Just("year"),
        Just("flag"),
        Just("meta.tenant"),
        Just("missing"),
    ]
}

fn value() -> impl Strategy<Value = FilterValue> {
    prop_oneof![
        (0..3usize).prop_map(|i| FilterValue::from(TENANTS[i])),
        (2018..2025i64).prop_map(FilterValue::from),
        any::<bool>().prop_map(FilterValue::from),
    ]
}

fn bound() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (2018..2025i64).prop_map(|x| Some(x as f64)),
        (0..8i64).prop_map(|x| Some(x as f64 / 4.0))
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (key(), value()).prop_map(|(k, v)| Filter::eq(k, v)),
        (key(), prop::collection::vec(value(), 1..4)).prop_map(|(k, vs)| Filter::any_of(k, vs)),
        (key(), bound(), bound(), bound(), bound())
            .prop_filter("a range needs a bound", |(_, a, b, c, d)| {
                a.is_some() || b.is_some() || c.is_some() || d.is_some()
            })
            .prop_map(|(k, gt, gte, lt, lte)| {
                let mut f = Filter::range(k);
                if let Some(b) = gt {
                    f = f.gt(b);
                }
                if let Some(b) = gte {
                    f = f.gte(b);
                }
                if let Some(b) = lt {
                    f = f.lt(b);
                }
                if let Some(b) = lte {
                    f = f.lte(b);
                }
                f
            }),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Filter::all),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Filter::any),
            inner.prop_map(Filter::not),
        ]
    })
}

/// The brute force: an independent reading of the documented semantics.
fn passes(filter: &Filter, payload: &serde_json::Map<String, Value>) -> bool {
    let at = |key: &str| -> Vec<Value> {
        let mut value = Some(&Value::Object(payload.clone())).cloned();
        for part in key.split('.') {
            value = value.and_then(|v| v.get(part).cloned());
        }
        match value {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(items)) => items,
            Some(one) => vec![one],
        }
    };
    let equal = |v: &FilterValue, x: &Value| match v {
        FilterValue::Str(s) => x.as_str() == Some(s.as_str()),
        FilterValue::Int(i) => x.is_i64() && x.as_i64() == Some(*i),
        FilterValue::Bool(b) => x.as_bool() == Some(*b),
        _ => unreachable!(),
    };
    match filter {
        Filter::Eq { key, value } => at(key).iter().any(|x| equal(value, x)),
        Filter::AnyOf { key, values } => at(key).iter().any(|x| values.iter().any(|v| equal(v, x))),
        Filter::Range { key, bounds } => at(key).iter().filter_map(Value::as_f64).any(|x| {
            bounds.gt.is_none_or(|b| x > b)
                && bounds.gte.is_none_or(|b| x >= b)
                && bounds.lt.is_none_or(|b| x < b)
                && bounds.lte.is_none_or(|b| x <= b)
        }),
        Filter::All(filters) => filters.iter().all(|f| passes(f, payload)),
        Filter::Any(filters) => filters.iter().any(|f| passes(f, payload)),
        Filter::Not(f) => !passes(f, payload),
        _ => unreachable!(),
    }
}

fn vector() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec((-4..=4i32).prop_map(|x| x as f32), 3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn filtered_search_equals_filter_then_rank(
        docs in prop::collection::vec((vector(), payload()), 0..24),
        query in vector(),
        filter in filter(),
        top_k in 1..10usize,
        threshold in prop_oneof![Just(None), (-10..10i32).prop_map(|t| Some(t as f32))],
    ) {
        let mut index = MemoryRetriever::new("p").metric(Metric::Dot);
        for (i, (v, p)) in docs.iter().enumerate() {
            index.insert(Document::new(i.to_string(), v.clone()).with_payload(p.clone())).unwrap();
        }
        let mut q = Query::vector(&query).top_k(top_k).filter(&filter);
        if let Some(t) = threshold {
            q = q.score_threshold(t);
        }
        let hits = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(index.retrieve(&q))
            .unwrap();
        prop_assert_eq!(hits.score_kind(), Some(ScoreKind::Similarity));

        let mut expected: Vec<(usize, f64)> = docs
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| passes(&filter, p))
            .map(|(i, (v, _))| {
                (i, v.iter().zip(&query).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum())
            })
            .filter(|(_, s)| threshold.is_none_or(|t| *s >= f64::from(t)))
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        expected.truncate(top_k);
        let got: Vec<(String, f64)> = hits.iter().map(|h| (h.id.clone(), h.score)).collect();
        let expected: Vec<(String, f64)> = expected.into_iter().map(|(i, s)| (i.to_string(), s)).collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn refused_queries_say_why_without_searching() {
    let index = MemoryRetriever::new("m")
        .with_documents([Document::new("a", vec![1.0, 0.0])])
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let v = [1.0_f32, 0.0];
    let error = |q: Query<'_>| {
        let e = rt.block_on(index.retrieve(&q)).unwrap_err();
        (MemoryRetriever::error_type(&e).into_owned(), e.to_string())
    };
    assert_eq!(
        error(Query::vector(&v).top_k(0)),
        (
            "invalid_query".to_owned(),
            "index `m`: top_k is 0: the query could return no hits".to_owned()
        )
    );
    let empty_any = Filter::any([]);
    assert_eq!(
        error(Query::vector(&v).filter(&empty_any)).0,
        "invalid_query"
    );
    assert_eq!(
        error(Query::vector(&[f32::NAN, 0.0])).0,
        "non_finite_vector"
    );
    assert_eq!(error(Query::vector(&[])).0, "empty_vector");
    let (ix, vs) = ([1_u32], [0.5_f32]);
    assert_eq!(
        error(Query::vector(&v).sparse(&ix, &vs)).0,
        "unsupported_sparse"
    );
    let native = 7_u8;
    assert_eq!(
        error(Query::vector(&v).native(&native)).0,
        "unsupported_native"
    );
    let zero_default = MemoryRetriever::new("z").top_k(0);
    let e = rt
        .block_on(zero_default.retrieve(&Query::vector(&v)))
        .unwrap_err();
    assert_eq!(MemoryRetriever::error_type(&e), "invalid_query");
}
