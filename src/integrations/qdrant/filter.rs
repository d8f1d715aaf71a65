//! Neutral filters as Qdrant conditions, and Qdrant filters as text for spans.

use qdrant_client::qdrant::condition::ConditionOneOf;
use qdrant_client::qdrant::r#match::MatchValue;
use qdrant_client::qdrant::{Condition, Filter, Range};

use crate::steps::{Filter as NeutralFilter, FilterValue};

/// A neutral filter as Qdrant conditions (same semantics: see
/// [`crate::steps::Filter`]).
pub fn to_qdrant(filter: &NeutralFilter) -> Filter {
    match filter {
        NeutralFilter::All(filters) => Filter::must(filters.iter().map(condition)),
        other => Filter::must([condition(other)]),
    }
}

fn condition(filter: &NeutralFilter) -> Condition {
    match filter {
        NeutralFilter::Eq { key, value } => eq_condition(key, value),
        NeutralFilter::AnyOf { key, values } => {
            let strings: Option<Vec<String>> = values
                .iter()
                .map(|v| match v {
                    FilterValue::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            let integers: Option<Vec<i64>> = values
                .iter()
                .map(|v| match v {
                    FilterValue::Int(i) => Some(*i),
                    _ => None,
                })
                .collect();
            match (strings, integers) {
                (Some(strings), _) => Condition::matches(key.clone(), strings),
                (_, Some(integers)) => Condition::matches(key.clone(), integers),
                // Mixed types or booleans: one equality each, any may hold.
                _ => Filter::should(values.iter().map(|v| eq_condition(key, v))).into(),
            }
        }
        NeutralFilter::Range { key, bounds } => Condition::range(
            key.clone(),
            Range {
                gt: bounds.gt,
                gte: bounds.gte,
                lt: bounds.lt,
                lte: bounds.lte,
            },
        ),
        NeutralFilter::All(filters) => Filter::must(filters.iter().map(condition)).into(),
        NeutralFilter::Any(filters) => Filter::should(filters.iter().map(condition)).into(),
        NeutralFilter::Not(filter) => Filter::must_not([condition(filter)]).into(),
        // `Filter` is non-exhaustive; every kind above is handled.
        #[allow(unreachable_patterns)]
        _ => Filter::default().into(),
    }
}

fn eq_condition(key: &str, value: &FilterValue) -> Condition {
    match value {
        FilterValue::Str(s) => Condition::matches(key.to_owned(), s.clone()),
        FilterValue::Int(i) => Condition::matches(key.to_owned(), *i),
        FilterValue::Bool(b) => Condition::matches(key.to_owned(), *b),
        #[allow(unreachable_patterns)]
        _ => Filter::default().into(),
    }
}

/// A Qdrant filter as text: its clauses, fields and condition kinds, and
/// with `values` the values too, e.g. `must(keyword(tenant), range(year, gte))`.
pub fn filter_text(filter: &Filter, values: bool) -> String {
    let mut parts = Vec::new();
    for (name, conditions) in [
        ("must", &filter.must),
        ("should", &filter.should),
        ("must_not", &filter.must_not),
    ] {
        if !conditions.is_empty() {
            let inner: Vec<String> = conditions
                .iter()
                .map(|c| condition_text(c, values))
                .collect();
            parts.push(format!("{name}({})", inner.join(", ")));
        }
    }
    if let Some(min) = &filter.min_should {
        let inner: Vec<String> = min
            .conditions
            .iter()
            .map(|c| condition_text(c, values))
            .collect();
        parts.push(format!(
            "min_should({}, {})",
            min.min_count,
            inner.join(", ")
        ));
    }
    parts.join(", ")
}

fn condition_text(condition: &Condition, values: bool) -> String {
    match &condition.condition_one_of {
        Some(ConditionOneOf::Field(field)) => {
            let key = &field.key;
            if let Some(m) = field.r#match.as_ref().and_then(|m| m.match_value.as_ref()) {
                let (kind, value) = match m {
                    MatchValue::Keyword(s) => ("keyword", format!("{s:?}")),
                    MatchValue::Integer(i) => ("integer", i.to_string()),
                    MatchValue::Boolean(b) => ("bool", b.to_string()),
                    MatchValue::Text(s) => ("text", format!("{s:?}")),
                    MatchValue::Phrase(s) => ("phrase", format!("{s:?}")),
                    MatchValue::TextAny(s) => ("text_any", format!("{s:?}")),
                    MatchValue::Prefix(s) => ("prefix", format!("{s:?}")),
                    MatchValue::Substring(s) => ("substring", format!("{s:?}")),
                    MatchValue::Keywords(list) => ("keywords", format!("{:?}", list.strings)),
                    MatchValue::Integers(list) => ("integers", format!("{:?}", list.integers)),
                    MatchValue::ExceptKeywords(list) => {
                        ("except_keywords", format!("{:?}", list.strings))
                    }
                    MatchValue::ExceptIntegers(list) => {
                        ("except_integers", format!("{:?}", list.integers))
                    }
                };
                return if values {
                    format!("{kind}({key}, {value})")
                } else {
                    match m {
                        MatchValue::Keywords(list) | MatchValue::ExceptKeywords(list) => {
                            format!("{kind}({key}, {})", list.strings.len())
                        }
                        MatchValue::Integers(list) | MatchValue::ExceptIntegers(list) => {
                            format!("{kind}({key}, {})", list.integers.len())
                        }
                        _ => format!("{kind}({key})"),
                    }
                };
            }
            if let Some(range) = &field.range {
                let bounds: Vec<String> = [
                    ("gt", range.gt),
                    ("gte", range.gte),
                    ("lt", range.lt),
                    ("lte", range.lte),
                ]
                .into_iter()
                .filter_map(|(name, b)| {
                    b.map(|b| {
                        if values {
                            format!("{name} {b}")
                        } else {
                            name.to_owned()
                        }
                    })
                })
                .collect();
                return format!("range({key}, {})", bounds.join(", "));
            }
            let kind = if field.datetime_range.is_some() {
                "datetime_range"
            } else if field.geo_bounding_box.is_some()
                || field.geo_radius.is_some()
                || field.geo_polygon.is_some()
            {
                "geo"
            } else if field.values_count.is_some() {
                "values_count"
            } else if field.is_empty.is_some() {
                "is_empty"
            } else if field.is_null.is_some() {
                "is_null"
            } else {
                "field"
            };
            format!("{kind}({key})")
        }
        Some(ConditionOneOf::IsEmpty(c)) => format!("is_empty({})", c.key),
        Some(ConditionOneOf::IsNull(c)) => format!("is_null({})", c.key),
        Some(ConditionOneOf::HasId(c)) => format!("has_id({})", c.has_id.len()),
        Some(ConditionOneOf::HasVector(c)) => format!("has_vector({})", c.has_vector),
        Some(ConditionOneOf::Nested(c)) => format!(
            "nested({}, {})",
            c.key,
            c.filter
                .as_ref()
                .map(|f| filter_text(f, values))
                .unwrap_or_default()
        ),
        Some(ConditionOneOf::Filter(f)) => format!("filter({})", filter_text(f, values)),
        Some(ConditionOneOf::Slice(_)) => "slice".to_owned(),
        None => "empty".to_owned(),
    }
}
