//! How much an OTLP body will decode into, counted before it is decoded.
//!
//! Decoding allocates a struct for every message and a string for every
//! string: an empty span is 2 bytes of protobuf (3 of JSON) and a few
//! hundred bytes once decoded. These scanners walk the body once, in linear
//! time and without allocating, and count its *items*: every message,
//! string and byte string (protobuf), or every object, array and string
//! value (JSON). A receiver refuses a body with too many before decoding it.

/// Why a body was refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// More items than the limit.
    Items(usize),
    /// Nested deeper than the limit.
    Depth(usize),
}

/// The deepest nesting scanned (prost refuses past 100, serde_json past 128).
pub(crate) const MAX_DEPTH: usize = 64;

/// The OTLP trace messages that hold other messages, for the protobuf scan.
#[derive(Clone, Copy)]
enum Message {
    Request,
    ResourceSpans,
    Resource,
    ScopeSpans,
    Scope,
    Span,
    Event,
    Link,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
    /// A message whose length-delimited fields are all strings or bytes.
    Leaf,
}

impl Message {
    /// The message type of field `field`, if it is a message.
    fn child(self, field: u64) -> Option<Message> {
        use Message::*;
        Some(match (self, field) {
            (Request, 1) => ResourceSpans,
            (ResourceSpans, 1) => Resource,
            (ResourceSpans, 2) => ScopeSpans,
            (Resource, 1) => KeyValue,
            (Resource, 3) => Leaf, // EntityRef
            (ScopeSpans, 1) => Scope,
            (ScopeSpans, 2) => Span,
            (Scope, 3) => KeyValue,
            (Span, 9) => KeyValue,
            (Span, 11) => Event,
            (Span, 13) => Link,
            (Span, 15) => Leaf, // Status
            (Event, 3) => KeyValue,
            (Link, 4) => KeyValue,
            (KeyValue, 2) => AnyValue,
            (AnyValue, 5) => ArrayValue,
            (AnyValue, 6) => KeyValueList,
            (ArrayValue, 1) => AnyValue,
            (KeyValueList, 1) => KeyValue,
            _ => return None,
        })
    }
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0_u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Counts the items of an `ExportTraceServiceRequest` in protobuf. Stops
/// counting at anything malformed (the decoder then says what is wrong).
pub(crate) fn protobuf_items(body: &[u8], limit: usize) -> Result<usize, Exceeded> {
    let mut count = 0;
    scan_message(body, Message::Request, 0, limit, &mut count)?;
    Ok(count)
}

fn scan_message(
    bytes: &[u8],
    message: Message,
    depth: usize,
    limit: usize,
    count: &mut usize,
) -> Result<(), Exceeded> {
    if depth > MAX_DEPTH {
        return Err(Exceeded::Depth(MAX_DEPTH));
    }
    let mut at = 0;
    while at < bytes.len() {
        let Some(key) = varint(bytes, &mut at) else {
            return Ok(());
        };
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                if varint(bytes, &mut at).is_none() {
                    return Ok(());
                }
            }
            1 => at = at.saturating_add(8),
            5 => at = at.saturating_add(4),
            2 => {
                let Some(len) = varint(bytes, &mut at) else {
                    return Ok(());
                };
                let Some(end) = usize::try_from(len)
                    .ok()
                    .and_then(|len| at.checked_add(len))
                    .filter(|&end| end <= bytes.len())
                else {
                    return Ok(());
                };
                *count += 1;
                if *count > limit {
                    return Err(Exceeded::Items(limit));
                }
                if let Some(child) = message.child(field) {
                    scan_message(&bytes[at..end], child, depth + 1, limit, count)?;
                }
                at = end;
            }
            // A group (deprecated): the decoder skips unknown ones and goes
            // on, so the scan must too, or what follows would go uncounted.
            3 => {
                if !skip_group(bytes, &mut at, field, depth + 1) {
                    return Ok(());
                }
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// Skips a group's fields up to its end tag; `false` if malformed.
fn skip_group(bytes: &[u8], at: &mut usize, field: u64, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    while *at < bytes.len() {
        let Some(key) = varint(bytes, at) else {
            return false;
        };
        let ok = match key & 7 {
            0 => varint(bytes, at).is_some(),
            1 => {
                *at = at.saturating_add(8);
                true
            }
            5 => {
                *at = at.saturating_add(4);
                true
            }
            2 => match varint(bytes, at)
                .and_then(|len| usize::try_from(len).ok())
                .and_then(|len| at.checked_add(len))
            {
                Some(end) if end <= bytes.len() => {
                    *at = end;
                    true
                }
                _ => false,
            },
            3 => skip_group(bytes, at, key >> 3, depth + 1),
            4 => return key >> 3 == field,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    false
}

/// Counts the items of a JSON document: objects, arrays and string values
/// (not keys). Stops counting at the end of the input; the decoder says
/// what is wrong with a malformed one.
pub(crate) fn json_items(body: &[u8], limit: usize) -> Result<usize, Exceeded> {
    let mut count = 0_usize;
    let mut depth = 0_usize;
    let mut in_string = false;
    let mut escaped = false;
    // A string just ended: it is a value unless a `:` follows.
    let mut string_ended = false;
    let bump = |count: &mut usize| {
        *count += 1;
        if *count > limit {
            Err(Exceeded::Items(limit))
        } else {
            Ok(())
        }
    };
    for &byte in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
                string_ended = true;
            }
            continue;
        }
        if byte.is_ascii_whitespace() {
            continue;
        }
        if string_ended {
            string_ended = false;
            if byte != b':' {
                bump(&mut count)?;
            }
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH * 2 {
                    return Err(Exceeded::Depth(MAX_DEPTH * 2));
                }
                bump(&mut count)?;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if string_ended {
        bump(&mut count)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message as _;

    fn request(spans: usize, attributes: usize) -> ExportTraceServiceRequest {
        let span = Span {
            name: "s".into(),
            attributes: (0..attributes)
                .map(|i| KeyValue {
                    key: format!("k{i}"),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("v".into())),
                    }),
                    ..KeyValue::default()
                })
                .collect(),
            ..Span::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span; spans],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        }
    }

    #[test]
    fn counts_messages_and_strings() {
        let body = request(3, 2).encode_to_vec();
        // 1 resource spans + 1 scope spans + 3 x (span + name + 2 x (kv + key + value + string)).
        assert_eq!(protobuf_items(&body, usize::MAX), Ok(2 + 3 * (2 + 2 * 4)));
        assert_eq!(protobuf_items(&body, 10), Err(Exceeded::Items(10)));
        let json = serde_json::to_vec(&request(3, 2)).unwrap();
        let items = json_items(&json, usize::MAX).unwrap();
        assert!(items >= 3 * (1 + 2 * 2), "{items}");
    }

    #[test]
    fn empty_spans_count_one_each() {
        // 2 bytes each on the wire: field 2 of ScopeSpans, length 0.
        let mut scope = Vec::new();
        for _ in 0..1000 {
            scope.extend_from_slice(&[0x12, 0x00]);
        }
        let mut resource = vec![0x12];
        prost::encoding::encode_varint(scope.len() as u64, &mut resource);
        resource.extend_from_slice(&scope);
        let mut body = vec![0x0a];
        prost::encoding::encode_varint(resource.len() as u64, &mut body);
        body.extend_from_slice(&resource);
        assert_eq!(protobuf_items(&body, usize::MAX), Ok(1002));
        assert_eq!(protobuf_items(&body, 1001), Err(Exceeded::Items(1001)));
        let decoded = ExportTraceServiceRequest::decode(&body[..]).unwrap();
        assert_eq!(decoded.resource_spans[0].scope_spans[0].spans.len(), 1000);
        let json = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            vec!["{}"; 1000].join(",")
        );
        assert_eq!(json_items(json.as_bytes(), usize::MAX), Ok(1000 + 6));
    }

    #[test]
    fn keys_and_escapes_are_not_values() {
        assert_eq!(json_items(br#"{"a":"x\"y","b":["c"]}"#, 100), Ok(4));
        assert_eq!(json_items(br#""just a string""#, 100), Ok(1));
    }

    #[test]
    fn malformed_input_stops_the_count_without_panicking() {
        for body in [
            &[0xff_u8; 12][..],
            &[0x0a, 0xff, 0xff, 0xff, 0x7f],
            &[0x0a],
            &[0x0b],
        ] {
            assert!(protobuf_items(body, 100).is_ok());
        }
        assert!(json_items(b"{{{{\"", 100).is_ok());
    }

    #[test]
    fn spans_after_an_unknown_group_are_counted() {
        // Field 5 of the request as a group, then 1,000 empty spans.
        let mut body = vec![(5 << 3) | 3, 0x08, 0x01, (5 << 3) | 4];
        body.extend_from_slice(&empty_spans_body(1000));
        let decoded = ExportTraceServiceRequest::decode(&body[..]);
        if let Ok(decoded) = decoded {
            let spans: usize = decoded
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            assert!(protobuf_items(&body, usize::MAX).unwrap() >= spans);
        }
        assert_eq!(protobuf_items(&body, 100), Err(Exceeded::Items(100)));
    }

    fn empty_spans_body(count: usize) -> Vec<u8> {
        let scope: Vec<u8> = [0x12_u8, 0x00].repeat(count);
        let mut resource = vec![0x12];
        prost::encoding::encode_varint(scope.len() as u64, &mut resource);
        resource.extend_from_slice(&scope);
        let mut body = vec![0x0a];
        prost::encoding::encode_varint(resource.len() as u64, &mut body);
        body.extend_from_slice(&resource);
        body
    }

    #[test]
    fn deep_nesting_is_refused() {
        let json = "[".repeat(1000);
        assert_eq!(
            json_items(json.as_bytes(), usize::MAX),
            Err(Exceeded::Depth(MAX_DEPTH * 2))
        );
        // AnyValue arrays nested 100 deep.
        let mut value = AnyValue {
            value: Some(any_value::Value::IntValue(1)),
        };
        for _ in 0..100 {
            value = AnyValue {
                value: Some(any_value::Value::ArrayValue(
                    opentelemetry_proto::tonic::common::v1::ArrayValue {
                        values: vec![value],
                    },
                )),
            };
        }
        let mut request = request(1, 0);
        request.resource_spans[0].scope_spans[0].spans[0].attributes = vec![KeyValue {
            key: "deep".into(),
            value: Some(value),
            ..KeyValue::default()
        }];
        assert_eq!(
            protobuf_items(&request.encode_to_vec(), usize::MAX),
            Err(Exceeded::Depth(MAX_DEPTH))
        );
    }
}
