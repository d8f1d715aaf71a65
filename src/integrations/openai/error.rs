//! `error.type` for async-openai's errors.

use std::borrow::Cow;

use async_openai::error::{OpenAIError, StreamError};

/// A low-cardinality class of an async-openai error, recorded as `error.type`.
///
/// | error | class |
/// |---|---|
/// | the server answered with an HTTP error (after async-openai's retries) | the status code: `429`, `500`, `401`, ... |
/// | no answer in time (the HTTP client's timeout) | `timeout` |
/// | the server could not be reached | `connection` |
/// | a body that is not what the API promises (bad JSON, unknown SSE event) | `invalid_response` |
/// | a stream that broke off (connection reset, truncated body) | `stream_error` |
/// | a request async-openai refused to send | `invalid_argument` |
/// | anything else | `_OTHER` (OpenTelemetry's fallback) |
pub fn error_type(error: &OpenAIError) -> Cow<'static, str> {
    match error {
        OpenAIError::ApiError(response) => Cow::Owned(response.status_code.as_str().to_owned()),
        OpenAIError::Reqwest(error) => http_error_type(error),
        OpenAIError::JSONDeserialize(..) => Cow::Borrowed("invalid_response"),
        OpenAIError::StreamError(error) => match error.as_ref() {
            StreamError::UnknownEvent(_) => Cow::Borrowed("invalid_response"),
            StreamError::EventStream(_) => Cow::Borrowed("stream_error"),
        },
        OpenAIError::InvalidArgument(_) => Cow::Borrowed("invalid_argument"),
        OpenAIError::FileSaveError(_) | OpenAIError::FileReadError(_) => Cow::Borrowed("io"),
        // Errors of a middleware stack: classify a transport error inside it.
        OpenAIError::Boxed(error) => {
            let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
            while let Some(error) = next {
                if let Some(http) = error.downcast_ref::<reqwest::Error>() {
                    return http_error_type(http);
                }
                next = error.source();
            }
            Cow::Borrowed("_OTHER")
        }
    }
}

fn http_error_type(error: &reqwest::Error) -> Cow<'static, str> {
    if error.is_timeout() {
        Cow::Borrowed("timeout")
    } else if error.is_connect() {
        Cow::Borrowed("connection")
    } else if let Some(status) = error.status() {
        Cow::Owned(status.as_str().to_owned())
    } else if error.is_decode() {
        Cow::Borrowed("invalid_response")
    } else if error.is_body() {
        Cow::Borrowed("stream_error")
    } else {
        Cow::Borrowed("_OTHER")
    }
}

#[cfg(test)]
mod tests {
    use async_openai::error::{ApiError, ApiErrorResponse};

    use super::*;

    #[test]
    fn classes_are_low_cardinality() {
        let api = |code: u16| {
            OpenAIError::ApiError(ApiErrorResponse {
                status_code: reqwest::StatusCode::from_u16(code).unwrap(),
                api_error: ApiError {
                    message: "details that vary per call".into(),
                    ..ApiError::default()
                },
            })
        };
        assert_eq!(error_type(&api(429)), "429");
        assert_eq!(error_type(&api(500)), "500");
        let json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(
            error_type(&OpenAIError::JSONDeserialize(json, "{".into())),
            "invalid_response"
        );
        assert_eq!(
            error_type(&OpenAIError::StreamError(Box::new(
                StreamError::EventStream("reset".into())
            ))),
            "stream_error"
        );
        assert_eq!(
            error_type(&OpenAIError::InvalidArgument("x".into())),
            "invalid_argument"
        );
        assert_eq!(
            error_type(&OpenAIError::Boxed(Box::new(std::io::Error::other("x")))),
            "_OTHER"
        );
    }
}
