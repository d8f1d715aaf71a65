//! `error.type` and the span status message of qdrant-client's errors.

use std::borrow::Cow;

use qdrant_client::QdrantError;

/// A low-cardinality class of a Qdrant error, recorded as `error.type`.
///
/// | error | class |
/// |---|---|
/// | the server answered with a gRPC status | its name: `NOT_FOUND`, `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED`, `INTERNAL`, ... |
/// | the server could not be reached (refused, reset, stopped) | `UNAVAILABLE` (qdrant-client reports `INTERNAL` "Failed to connect") |
/// | no answer within the client's timeout | `DEADLINE_EXCEEDED` (qdrant-client reports `CANCELLED` "Timeout expired") |
/// | refused before sending (see the module's "Validation") | `invalid_query` |
/// | a bad URL, an I/O error | `invalid_uri`, `io` |
/// | anything else | `_OTHER` |
pub fn error_type(error: &QdrantError) -> Cow<'static, str> {
    match error {
        QdrantError::ResponseError { status }
        | QdrantError::ResourceExhaustedError { status, .. } => {
            let code = i32::from(status.code());
            Cow::Borrowed(if is_connect_failure(code, status.message()) {
                "UNAVAILABLE"
            } else if is_client_timeout(code, status.message()) {
                "DEADLINE_EXCEEDED"
            } else {
                grpc_code_name(code)
            })
        }
        QdrantError::ConversionError(_) => Cow::Borrowed("invalid_query"),
        QdrantError::InvalidUri(_) => Cow::Borrowed("invalid_uri"),
        QdrantError::Io(_) => Cow::Borrowed("io"),
        _ => Cow::Borrowed("_OTHER"),
    }
}

/// The text a failed span's status carries: for a server answer, the
/// server's own message (qdrant-client's `Display` appends the gRPC response
/// metadata); for a connection failure, what could not be reached and why,
/// in one line.
pub fn error_message(error: &QdrantError) -> String {
    match error {
        QdrantError::ResponseError { status } => status_message(status),
        QdrantError::ResourceExhaustedError {
            status,
            retry_after_seconds,
        } => format!(
            "{} (retry after {retry_after_seconds} s)",
            status_message(status)
        ),
        other => other.to_string(),
    }
}

fn status_message(status: &tonic::Status) -> String {
    let message = status.message();
    let code = i32::from(status.code());
    if is_connect_failure(code, message) {
        // "Failed to connect to http://host:port/: tonic::transport::Error(Transport, ConnectError(...))"
        let uri_end = message.find(": ").unwrap_or(message.len());
        let reason = [
            "Connection refused",
            "connection reset",
            "timed out",
            "dns error",
        ]
        .into_iter()
        .find(|r| message.to_lowercase().contains(&r.to_lowercase()));
        return match reason {
            Some(reason) => format!("{}: {reason}", &message[..uri_end]),
            None => message[..uri_end].to_owned(),
        };
    }
    if message.is_empty() {
        grpc_code_name(code).to_owned()
    } else {
        message.to_owned()
    }
}

/// qdrant-client turns a failed (re)connection into
/// `Status::internal("Failed to connect to ...")`.
fn is_connect_failure(code: i32, message: &str) -> bool {
    code == tonic::Code::Internal as i32 && message.starts_with("Failed to connect to ")
}

/// tonic turns its client-side timeout into `Status::cancelled("Timeout expired")`.
fn is_client_timeout(code: i32, message: &str) -> bool {
    code == tonic::Code::Cancelled as i32 && message == "Timeout expired"
}

/// The canonical name of a gRPC status code.
pub(super) fn grpc_code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "_OTHER",
    }
}
