//! Typed attribute values as JSON, and lenient readers for them.
//!
//! Attributes are kept as a JSON object whose values keep their OTLP type:
//! ints are JSON integers, doubles are JSON numbers written with a fraction
//! or exponent (`1.0`), strings, bools, arrays and maps as themselves.
//! Non-finite doubles, which JSON cannot hold, are the strings `NaN`,
//! `Infinity` and `-Infinity` (as in OTLP/JSON); bytes are lower-case hex.

use serde_json::{Map, Number, Value};

/// A span's (or event's, or resource's) attributes: key to typed value,
/// sorted by key.
pub type Attributes = Map<String, Value>;

/// A double as JSON (non-finite values as OTLP/JSON strings).
pub fn double(value: f64) -> Value {
    match Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::String("NaN".to_owned()),
        None if value > 0.0 => Value::String("Infinity".to_owned()),
        None => Value::String("-Infinity".to_owned()),
    }
}

/// Bytes as JSON (lower-case hex).
pub fn bytes(value: &[u8]) -> Value {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(value.len() * 2);
    for b in value {
        let _ = write!(out, "{b:02x}");
    }
    Value::String(out)
}

/// An OpenTelemetry API value as JSON.
pub fn from_otel(value: &opentelemetry::Value) -> Value {
    use opentelemetry::{Array, Value as V};
    match value {
        V::Bool(b) => Value::Bool(*b),
        V::I64(i) => Value::from(*i),
        V::F64(f) => double(*f),
        V::String(s) => Value::String(s.as_str().to_owned()),
        V::Array(Array::Bool(items)) => {
            Value::Array(items.iter().map(|b| Value::Bool(*b)).collect())
        }
        V::Array(Array::I64(items)) => {
            Value::Array(items.iter().map(|i| Value::from(*i)).collect())
        }
        V::Array(Array::F64(items)) => Value::Array(items.iter().map(|f| double(*f)).collect()),
        V::Array(Array::String(items)) => Value::Array(
            items
                .iter()
                .map(|s| Value::String(s.as_str().to_owned()))
                .collect(),
        ),
        // The API marks `Value` non-exhaustive; anything newer is kept as text.
        #[allow(unreachable_patterns)]
        other => Value::String(other.to_string()),
    }
}

/// Attributes from OpenTelemetry key-values (a later duplicate key wins, as
/// OpenTelemetry SDKs do).
pub fn attributes_from_otel<'a>(
    kvs: impl IntoIterator<Item = &'a opentelemetry::KeyValue>,
) -> Attributes {
    kvs.into_iter()
        .map(|kv| (kv.key.as_str().to_owned(), from_otel(&kv.value)))
        .collect()
}

/// Reads a count: a non-negative integer, an integral double, or a decimal
/// string (`tracing-opentelemetry` exports unsigned integers as strings).
pub fn read_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            (f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a number: any JSON number, a numeric string, or the OTLP/JSON
/// spellings of non-finite doubles.
pub fn read_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

/// Reads a non-empty string.
pub fn read_str(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// Reads a bool (also `"true"` / `"false"`).
pub fn read_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_keep_their_type_and_non_finite_values_survive() {
        assert_eq!(serde_json::to_string(&double(1.0)).unwrap(), "1.0");
        assert_eq!(double(f64::NAN), Value::String("NaN".into()));
        assert!(read_f64(&double(f64::NAN)).unwrap().is_nan());
        assert_eq!(
            read_f64(&double(f64::NEG_INFINITY)),
            Some(f64::NEG_INFINITY)
        );
        let text = serde_json::to_string(&double(0.1 + 0.2)).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(read_f64(&back), Some(0.1 + 0.2));
    }

    #[test]
    fn counts_are_read_leniently_but_never_invented() {
        assert_eq!(read_u64(&Value::from(12)), Some(12));
        assert_eq!(read_u64(&Value::String("12".into())), Some(12));
        assert_eq!(read_u64(&double(12.0)), Some(12));
        assert_eq!(read_u64(&double(12.5)), None);
        assert_eq!(read_u64(&Value::from(-3)), None);
        assert_eq!(read_u64(&Value::String("twelve".into())), None);
        assert_eq!(read_u64(&Value::Bool(true)), None);
    }

    #[test]
    fn otel_values_convert_with_their_types() {
        use opentelemetry::{Array, KeyValue, StringValue};
        let attrs = attributes_from_otel(&[
            KeyValue::new("i", 7_i64),
            KeyValue::new("f", 0.5),
            KeyValue::new("s", "x"),
            KeyValue::new("b", true),
            KeyValue::new(
                "a",
                opentelemetry::Value::Array(Array::String(vec![StringValue::from("stop")])),
            ),
        ]);
        assert_eq!(
            serde_json::to_string(&attrs).unwrap(),
            r#"{"a":["stop"],"b":true,"f":0.5,"i":7,"s":"x"}"#
        );
        assert_eq!(bytes(&[0, 171]), Value::String("00ab".into()));
    }
}
