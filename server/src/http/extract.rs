//! Extractors whose rejections use paygate's error envelope instead of axum's plain text.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// JSON body. Malformed JSON, a wrong content type, unknown fields and missing fields all
/// answer 400 with `code` and, when serde names it, `param`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
        ),
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field: "unknown field `amout`, expected one of ..."
            let text = e.body_text();
            let mut err = ApiError::bad_request("invalid_request", clean_serde_message(&text));
            err.param = param_in_message(&text);
            err
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "malformed_json",
            format!(
                "The body is not valid JSON: {}",
                clean_serde_message(&e.body_text())
            ),
        ),
        JsonRejection::BytesRejection(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request body could not be read or is too large.",
        ),
        other => ApiError::bad_request("invalid_request", other.body_text()),
    }
}

/// Drops axum's "Failed to deserialize the JSON body into the target type: " preamble.
fn clean_serde_message(text: &str) -> String {
    text.rsplit_once(": ")
        .map(|(_, tail)| tail)
        .filter(|tail| tail.len() > 8)
        .unwrap_or(text)
        .to_string()
}

/// The request field at fault, from axum's message `"<preamble>: <path>: <serde error>"`, where
/// `<path>` comes from serde_path_to_error (`line_items[0].quantity`, `.` for the root). Written
/// in the API's bracket style: `line_items[0][quantity]`.
fn param_in_message(text: &str) -> Option<String> {
    let rest = text
        .split_once("target type: ")
        .map(|(_, r)| r)
        .unwrap_or(text);
    let (path, message) = rest.split_once(": ").unwrap_or((".", rest));
    let base = bracket_path(if path == "." { "" } else { path });
    let named = field_in_message(message);
    let joined = |field: String| {
        if base.is_empty() {
            field
        } else {
            format!("{base}[{field}]")
        }
    };
    if message.starts_with("missing field") || message.starts_with("unknown field") {
        match named {
            Some(f) if !base.ends_with(&f) => Some(joined(f)),
            _ if !base.is_empty() => Some(base),
            other => other,
        }
    } else if !base.is_empty() {
        Some(base)
    } else {
        None
    }
}

fn bracket_path(path: &str) -> String {
    let mut out = String::new();
    for (i, segment) in path.split('.').enumerate() {
        if i == 0 {
            out.push_str(segment);
        } else {
            // `a.b[0]` -> `a[b][0]`
            let (name, index) = segment
                .split_once('[')
                .map(|(n, r)| (n, format!("[{r}")))
                .unwrap_or((segment, String::new()));
            out.push_str(&format!("[{name}]{index}"));
        }
    }
    out
}

/// The field named in a serde error, written between backticks.
fn field_in_message(text: &str) -> Option<String> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    let field = &text[start..start + len];
    (!field.is_empty() && field.len() <= 64).then(|| field.to_string())
}

/// Query string, with the same envelope on rejection.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let mut err = ApiError::bad_request("invalid_request", clean_serde_message(&text));
                err.param = field_in_message(&text);
                Err(err)
            }
            Err(other) => Err(ApiError::bad_request("invalid_request", other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_found() {
        assert_eq!(
            field_in_message("unknown field `amout`, expected one of `amount`").as_deref(),
            Some("amout")
        );
        assert_eq!(
            field_in_message("missing field `currency` at line 1").as_deref(),
            Some("currency")
        );
        assert_eq!(field_in_message("expected value"), None);
    }

    #[test]
    fn params_follow_the_path() {
        let pre = "Failed to deserialize the JSON body into the target type: ";
        let cases = [
            (
                "reason: unknown variant `because`, expected one of `duplicate` at line 1",
                Some("reason"),
            ),
            (
                ".: unknown field `amout`, expected one of `amount` at line 1",
                Some("amout"),
            ),
            (
                "amout: unknown field `amout`, expected one of `amount` at line 1",
                Some("amout"),
            ),
            (
                ".: missing field `currency` at line 1 column 2",
                Some("currency"),
            ),
            (
                "line_items[0]: missing field `quantity` at line 1",
                Some("line_items[0][quantity]"),
            ),
            (
                "line_items[0].quantity: invalid type: string \"x\", expected i64",
                Some("line_items[0][quantity]"),
            ),
            (
                "metadata.k: invalid type: integer `1`, expected a string",
                Some("metadata[k]"),
            ),
            (".: invalid type: sequence, expected struct", None),
        ];
        for (tail, expected) in cases {
            assert_eq!(
                param_in_message(&format!("{pre}{tail}")).as_deref(),
                expected,
                "{tail}"
            );
        }
    }
}
