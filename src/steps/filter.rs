//! [`Filter`]: a vendor-neutral payload filter a [`Query`](super::Query) can carry.

use std::fmt::{self, Write as _};

use serde_json::Value as Json;

/// A value a payload field is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterValue {
    /// A keyword (exact string).
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for FilterValue {
    fn from(value: &str) -> Self {
        FilterValue::Str(value.to_owned())
    }
}

impl From<String> for FilterValue {
    fn from(value: String) -> Self {
        FilterValue::Str(value)
    }
}

impl From<i64> for FilterValue {
    fn from(value: i64) -> Self {
        FilterValue::Int(value)
    }
}

impl From<i32> for FilterValue {
    fn from(value: i32) -> Self {
        FilterValue::Int(i64::from(value))
    }
}

impl From<u32> for FilterValue {
    fn from(value: u32) -> Self {
        FilterValue::Int(i64::from(value))
    }
}

impl From<bool> for FilterValue {
    fn from(value: bool) -> Self {
        FilterValue::Bool(value)
    }
}

impl FilterValue {
    /// `true` if the stored JSON value `stored` equals this one.
    fn equals(&self, stored: &Json) -> bool {
        match (self, stored) {
            (FilterValue::Str(a), Json::String(b)) => a == b,
            (FilterValue::Int(a), Json::Number(b)) => b.as_i64() == Some(*a),
            (FilterValue::Bool(a), Json::Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for FilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Str(s) => write!(f, "{s:?}"),
            FilterValue::Int(i) => write!(f, "{i}"),
            FilterValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Bounds of a numeric range condition; unset bounds are open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Bounds {
    /// Greater than.
    pub gt: Option<f64>,
    /// Greater than or equal.
    pub gte: Option<f64>,
    /// Less than.
    pub lt: Option<f64>,
    /// Less than or equal.
    pub lte: Option<f64>,
}

impl Bounds {
    fn contains(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
    }

    fn set(&self) -> impl Iterator<Item = (&'static str, f64)> {
        [
            ("gt", self.gt),
            ("gte", self.gte),
            ("lt", self.lt),
            ("lte", self.lte),
        ]
        .into_iter()
        .filter_map(|(name, bound)| bound.map(|b| (name, b)))
    }
}

/// A vendor-neutral payload filter a [`Query`](super::Query) can carry.
///
/// The common cases of a multi-tenant RAG service (a tenant or ACL equality,
/// an any-of over groups, a date or price range) and their combinations, in
/// one form that every retriever understands: `QdrantRetriever` turns it into
/// a Qdrant `Filter`, `MemoryRetriever` evaluates it with
/// [`Filter::matches`]. Semantics follow Qdrant's, so both agree:
///
/// - a key is a payload field; dots reach into nested objects (`meta.lang`);
/// - when the stored value is an array, a condition holds if it holds for
///   any element;
/// - a missing field (or `null`) satisfies no condition, so `not(eq(..))`
///   keeps points without the field;
/// - ranges compare numbers (integers and floats alike); equality and any-of
///   compare strings, integers and booleans exactly (floats never match).
///
/// ```
/// use ragtrace::steps::{Filter, Query};
///
/// let filter = Filter::all([
///     Filter::eq("tenant", "acme"),
///     Filter::any_of("group", ["staff", "admins"]),
///     Filter::range("year").gte(2020.0),
/// ]);
/// let vector = [0.1_f32, 0.7];
/// let query = Query::vector(&vector).filter(&filter);
/// // What a span records with content capture off: the shape, not the values.
/// assert_eq!(filter.shape(), "all(eq(tenant), any_of(group, 2), range(year, gte))");
/// # let _ = query;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Filter {
    /// The field equals the value.
    Eq {
        /// The payload field.
        key: String,
        /// The value it must equal.
        value: FilterValue,
    },
    /// The field equals one of the values (at least one).
    AnyOf {
        /// The payload field.
        key: String,
        /// The values it may equal.
        values: Vec<FilterValue>,
    },
    /// The field is a number within the bounds (at least one bound set).
    Range {
        /// The payload field.
        key: String,
        /// The bounds.
        bounds: Bounds,
    },
    /// Every filter holds (an empty list always holds).
    All(Vec<Filter>),
    /// At least one filter holds (the list must not be empty).
    Any(Vec<Filter>),
    /// The filter does not hold.
    Not(Box<Filter>),
}

/// Why a filter cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// A condition names no field.
    #[error("a filter condition has an empty key")]
    EmptyKey,
    /// An any-of lists no values, or an `any` no filters (such a filter
    /// could match nothing, which stores read differently).
    #[error("`{0}` in the filter lists nothing to match")]
    EmptyList(String),
    /// A range sets no bound, or a bound is not a finite number.
    #[error("range on `{0}` needs at least one finite bound")]
    BadRange(String),
    /// Nested deeper than [`Filter::MAX_DEPTH`] levels.
    #[error("the filter is nested more than {} levels deep", Filter::MAX_DEPTH)]
    TooDeep,
    /// More than [`Filter::MAX_ITEMS`] conditions and listed values.
    #[error("the filter has more than {} conditions and values", Filter::MAX_ITEMS)]
    TooLarge,
}

impl Filter {
    /// `key` equals `value`.
    pub fn eq(key: impl Into<String>, value: impl Into<FilterValue>) -> Self {
        Filter::Eq {
            key: key.into(),
            value: value.into(),
        }
    }

    /// `key` equals one of `values`.
    pub fn any_of<V: Into<FilterValue>>(
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Filter::AnyOf {
            key: key.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// A range on `key`; set its bounds with [`gt`](Self::gt),
    /// [`gte`](Self::gte), [`lt`](Self::lt), [`lte`](Self::lte).
    pub fn range(key: impl Into<String>) -> Self {
        Filter::Range {
            key: key.into(),
            bounds: Bounds::default(),
        }
    }

    /// Every one of `filters`.
    pub fn all(filters: impl IntoIterator<Item = Filter>) -> Self {
        Filter::All(filters.into_iter().collect())
    }

    /// At least one of `filters`.
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Self {
        Filter::Any(filters.into_iter().collect())
    }

    /// Not `filter`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(filter: Filter) -> Self {
        Filter::Not(Box::new(filter))
    }

    fn bound(mut self, set: impl FnOnce(&mut Bounds)) -> Self {
        if let Filter::Range { bounds, .. } = &mut self {
            set(bounds);
        }
        self
    }

    /// A range's lower bound, exclusive (no effect on other filters).
    pub fn gt(self, bound: f64) -> Self {
        self.bound(|b| b.gt = Some(bound))
    }

    /// A range's lower bound, inclusive (no effect on other filters).
    pub fn gte(self, bound: f64) -> Self {
        self.bound(|b| b.gte = Some(bound))
    }

    /// A range's upper bound, exclusive (no effect on other filters).
    pub fn lt(self, bound: f64) -> Self {
        self.bound(|b| b.lt = Some(bound))
    }

    /// A range's upper bound, inclusive (no effect on other filters).
    pub fn lte(self, bound: f64) -> Self {
        self.bound(|b| b.lte = Some(bound))
    }

    /// How deep `all` / `any` / `not` may nest: a filter built from a
    /// request's input cannot make validation, conversion or recording
    /// recurse without bound.
    pub const MAX_DEPTH: usize = 32;

    /// How many conditions and any-of values a filter may hold in all.
    pub const MAX_ITEMS: usize = 100_000;

    /// Checks that every condition can be sent as it reads, and that the
    /// filter is within [`MAX_DEPTH`](Self::MAX_DEPTH) and
    /// [`MAX_ITEMS`](Self::MAX_ITEMS).
    pub fn validate(&self) -> Result<(), FilterError> {
        let mut items = 0;
        self.check(0, &mut items)
    }

    fn check(&self, depth: usize, items: &mut usize) -> Result<(), FilterError> {
        if depth > Filter::MAX_DEPTH {
            return Err(FilterError::TooDeep);
        }
        *items += match self {
            Filter::AnyOf { values, .. } => values.len().max(1),
            _ => 1,
        };
        if *items > Filter::MAX_ITEMS {
            return Err(FilterError::TooLarge);
        }
        let nested = |filters: &[Filter], items: &mut usize| {
            filters.iter().try_for_each(|f| f.check(depth + 1, items))
        };
        match self {
            Filter::Eq { key, .. } => check_key(key),
            Filter::AnyOf { key, values } => {
                check_key(key)?;
                if values.is_empty() {
                    return Err(FilterError::EmptyList(format!("any_of({key})")));
                }
                Ok(())
            }
            Filter::Range { key, bounds } => {
                check_key(key)?;
                let mut set = bounds.set().peekable();
                if set.peek().is_none() || !set.all(|(_, b)| b.is_finite()) {
                    return Err(FilterError::BadRange(key.clone()));
                }
                Ok(())
            }
            Filter::All(filters) => nested(filters, items),
            Filter::Any(filters) => {
                if filters.is_empty() {
                    return Err(FilterError::EmptyList("any".to_owned()));
                }
                nested(filters, items)
            }
            Filter::Not(filter) => filter.check(depth + 1, items),
        }
    }

    /// `true` if a document with this payload passes the filter.
    pub fn matches(&self, payload: &serde_json::Map<String, Json>) -> bool {
        match self {
            Filter::Eq { key, value } => any_element(lookup(payload, key), |v| value.equals(v)),
            Filter::AnyOf { key, values } => any_element(lookup(payload, key), |v| {
                values.iter().any(|value| value.equals(v))
            }),
            Filter::Range { key, bounds } => any_element(lookup(payload, key), |v| {
                v.as_f64().is_some_and(|x| bounds.contains(x))
            }),
            Filter::All(filters) => filters.iter().all(|f| f.matches(payload)),
            Filter::Any(filters) => filters.iter().any(|f| f.matches(payload)),
            Filter::Not(filter) => !filter.matches(payload),
        }
    }

    /// The filter's shape: its structure, fields and condition kinds, with
    /// no values (what a span records while content capture is off), e.g.
    /// `all(eq(tenant), range(year, gte))`.
    pub fn shape(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, false);
        out
    }

    /// The filter with its values, e.g. `all(eq(tenant, "acme"), range(year, gte 2020))`
    /// (recorded only when content capture is on, and then redacted).
    pub fn with_values(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, true);
        out
    }

    fn write(&self, out: &mut String, values: bool) {
        // Writing to a String cannot fail.
        let _ = match self {
            Filter::Eq { key, value } if values => write!(out, "eq({key}, {value})"),
            Filter::Eq { key, .. } => write!(out, "eq({key})"),
            Filter::AnyOf { key, values: list } if values => {
                let list: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(out, "any_of({key}, [{}])", list.join(", "))
            }
            Filter::AnyOf { key, values: list } => write!(out, "any_of({key}, {})", list.len()),
            Filter::Range { key, bounds } => {
                let parts: Vec<String> = bounds
                    .set()
                    .map(|(name, b)| {
                        if values {
                            format!("{name} {b}")
                        } else {
                            name.to_owned()
                        }
                    })
                    .collect();
                write!(out, "range({key}, {})", parts.join(", "))
            }
            Filter::All(list) | Filter::Any(list) => {
                out.push_str(if matches!(self, Filter::All(_)) {
                    "all("
                } else {
                    "any("
                });
                for (i, filter) in list.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    filter.write(out, values);
                }
                out.push(')');
                Ok(())
            }
            Filter::Not(filter) => {
                out.push_str("not(");
                filter.write(out, values);
                out.push(')');
                Ok(())
            }
        };
    }
}

fn check_key(key: &str) -> Result<(), FilterError> {
    if key.is_empty() {
        Err(FilterError::EmptyKey)
    } else {
        Ok(())
    }
}

/// The value at a dotted path (`meta.lang`), if every step is an object field.
fn lookup<'p>(payload: &'p serde_json::Map<String, Json>, key: &str) -> Option<&'p Json> {
    let mut parts = key.split('.');
    let mut value = payload.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// `test` on the value, or on any element when it is an array.
fn any_element(value: Option<&Json>, test: impl Fn(&Json) -> bool) -> bool {
    match value {
        None | Some(Json::Null) => false,
        Some(Json::Array(items)) => items.iter().any(test),
        Some(other) => test(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payload(value: Json) -> serde_json::Map<String, Json> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn each_condition_kind_on_scalars_arrays_nesting_and_missing_fields() {
        let p = payload(json!({
            "tenant": "acme", "year": 2021, "score": 0.5, "public": true,
            "groups": ["staff", "ops"], "meta": { "lang": "en" }, "none": null
        }));
        assert!(Filter::eq("tenant", "acme").matches(&p));
        assert!(!Filter::eq("tenant", "Acme").matches(&p));
        assert!(Filter::eq("year", 2021).matches(&p));
        assert!(!Filter::eq("year", "2021").matches(&p), "types must agree");
        assert!(Filter::eq("public", true).matches(&p));
        assert!(Filter::eq("groups", "ops").matches(&p), "any array element");
        assert!(Filter::eq("meta.lang", "en").matches(&p));
        assert!(!Filter::eq("missing", "x").matches(&p));
        assert!(!Filter::eq("none", "x").matches(&p));
        assert!(Filter::not(Filter::eq("missing", "x")).matches(&p));
        assert!(Filter::any_of("tenant", ["x", "acme"]).matches(&p));
        assert!(Filter::any_of("groups", ["admins", "staff"]).matches(&p));
        assert!(!Filter::any_of("groups", ["admins"]).matches(&p));
        assert!(Filter::range("year").gte(2021.0).lt(2022.0).matches(&p));
        assert!(!Filter::range("year").gt(2021.0).matches(&p));
        assert!(Filter::range("score").lte(0.5).matches(&p));
        assert!(!Filter::range("tenant").gte(0.0).matches(&p));
        assert!(Filter::all([]).matches(&p));
        assert!(Filter::any([Filter::eq("tenant", "x"), Filter::eq("public", true)]).matches(&p));
    }

    #[test]
    fn shapes_hide_values_and_validation_refuses_what_cannot_be_sent() {
        let f = Filter::all([
            Filter::eq("tenant", "acme"),
            Filter::not(Filter::any_of("group", [1, 2])),
            Filter::any([Filter::range("year").gt(1.5).lte(3.0)]),
        ]);
        assert_eq!(
            f.shape(),
            "all(eq(tenant), not(any_of(group, 2)), any(range(year, gt, lte)))"
        );
        assert_eq!(
            f.with_values(),
            "all(eq(tenant, \"acme\"), not(any_of(group, [1, 2])), any(range(year, gt 1.5, lte 3)))"
        );
        assert_eq!(f.validate(), Ok(()));
        assert_eq!(
            Filter::range("year").validate(),
            Err(FilterError::BadRange("year".into()))
        );
        assert_eq!(
            Filter::range("y").gt(f64::NAN).validate(),
            Err(FilterError::BadRange("y".into()))
        );
        assert!(matches!(
            Filter::any_of::<&str>("g", []).validate(),
            Err(FilterError::EmptyList(_))
        ));
        assert!(matches!(
            Filter::all([Filter::any([])]).validate(),
            Err(FilterError::EmptyList(_))
        ));
        assert_eq!(Filter::eq("", 1).validate(), Err(FilterError::EmptyKey));
        let mut deep = Filter::eq("k", 1);
        for _ in 0..=Filter::MAX_DEPTH {
            deep = Filter::Not(Box::new(deep));
        }
        assert_eq!(deep.validate(), Err(FilterError::TooDeep));
        let wide = Filter::any_of("k", 0..=(Filter::MAX_ITEMS as i64));
        assert_eq!(wide.validate(), Err(FilterError::TooLarge));
    }
}
