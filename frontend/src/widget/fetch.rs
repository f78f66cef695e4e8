use super::answers::FromJson;
use super::LoadError;
use crate::http::{plausible_id, Problem};
use crate::json::Json;
use gloo_net::http::Request;
use shared::api::WidgetSession;

/// The session id is the last segment of `/checkout/{session_id}`. Anything that is not a
/// session id (`cs_` and a [`plausible_id`]) is rejected here, so a crafted path can never
/// steer the API request elsewhere (`..`, `?`, `#`).
pub fn session_id_from_path(path: &str) -> Option<&str> {
    let id = path.trim_end_matches('/').rsplit('/').next()?;
    (id.starts_with("cs_") && plausible_id(id)).then_some(id)
}

/// `GET /checkout/api/sessions/{id}` on the page's own origin.
pub async fn fetch_session(id: &str) -> Result<WidgetSession, LoadError> {
    let response = Request::get(&format!("/checkout/api/sessions/{id}"))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| LoadError::Unavailable)?;
    match response.status() {
        200 => read(response).await.ok_or(LoadError::Unavailable),
        // 404 `resource_missing`: no such session. A 400 can only be about the id in the path,
        // so it is an invalid link as well; neither gets better with a retry.
        400 | 404 => Err(LoadError::NotFound),
        _ => Err(LoadError::Unavailable),
    }
}

/// A successful answer's body, read as `T`.
async fn read<T: FromJson>(response: gloo_net::http::Response) -> Option<T> {
    T::from_json(&Json::from_response(response).await?)
}

/// Why a widget API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// An answer that is not a success, with its problem document's fields (empty when the body
    /// was not one).
    Problem {
        status: u16,
        code: String,
        detail: String,
    },
    /// No answer, or one that could not be read: the outcome of the call is unknown.
    Network,
}

impl ApiError {
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Problem { code, .. } => Some(code),
            ApiError::Network => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem { status, .. } => Some(*status),
            ApiError::Network => None,
        }
    }

    /// The problem's `detail`, which paygate writes to be shown to the caller.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ApiError::Problem { detail, .. } if !detail.is_empty() => Some(detail),
            _ => None,
        }
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> ApiError {
        ApiError::Problem {
            status: problem.status,
            code: problem.code,
            detail: problem.detail,
        }
    }
}

/// `POST /checkout/api/sessions/{id}/{action}` without a body: the server decides everything
/// from the session (the browser never sends an amount). `action` is built by the caller from
/// fixed words and ids checked with [`plausible_id`].
pub async fn post<T: FromJson>(session_id: &str, action: &str) -> Result<T, ApiError> {
    let json = send(session_id, action, None).await?;
    T::from_json(&json).ok_or(ApiError::Network)
}

/// [`post`] with a JSON body (the customer's own choices, never an amount), whose answer is
/// not needed beyond its success.
pub async fn post_choice(session_id: &str, action: &str, body: &str) -> Result<(), ApiError> {
    send(session_id, action, Some(body)).await.map(|_| ())
}

/// The request and its answer, read as JSON (an error's problem document otherwise). Not
/// generic: one copy of this in the download, whatever the answers are read as (issue 13).
async fn send(session_id: &str, action: &str, body: Option<&str>) -> Result<Json, ApiError> {
    let builder = Request::post(&format!("/checkout/api/sessions/{session_id}/{action}"))
        .header("Accept", "application/json");
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body.to_owned()),
        None => builder.build(),
    }
    .map_err(|_| ApiError::Network)?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    let status = response.status();
    if (200..300).contains(&status) {
        return Json::from_response(response).await.ok_or(ApiError::Network);
    }
    Err(Problem::read(response).await.into())
}

#[cfg(test)]
mod tests {
    use super::{session_id_from_path, ApiError, Problem};

    #[test]
    fn problems_become_errors() {
        // The body's reading is tested in `http` (in the browser); this is the conversion.
        let declined = ApiError::from(Problem {
            status: 402,
            code: "payment_declined".into(),
            detail: "Your card was declined.".into(),
            param: None,
        });
        assert_eq!(declined.status(), Some(402));
        assert_eq!(declined.code(), Some("payment_declined"));
        assert_eq!(declined.detail(), Some("Your card was declined."));

        // A proxy's page: the status alone, and no text to show.
        let proxy = ApiError::from(Problem {
            status: 502,
            code: String::new(),
            detail: String::new(),
            param: None,
        });
        assert_eq!(proxy.status(), Some(502));
        assert_eq!(proxy.code(), Some(""));
        assert_eq!(proxy.detail(), None);
    }

    #[test]
    fn takes_the_last_segment() {
        assert_eq!(
            session_id_from_path("/checkout/cs_abc123"),
            Some("cs_abc123")
        );
        assert_eq!(
            session_id_from_path("/checkout/cs_abc123/"),
            Some("cs_abc123")
        );
        assert_eq!(session_id_from_path("/checkout/cs_A-b_9"), Some("cs_A-b_9"));
    }

    #[test]
    fn rejects_what_cannot_be_a_session_id() {
        for path in [
            "/",
            "",
            "/checkout/",
            "/checkout/pay_123",
            "/checkout/cs_a%2F..",
            "/checkout/cs_a.b",
        ] {
            assert_eq!(session_id_from_path(path), None, "{path}");
        }
        assert_eq!(
            session_id_from_path(&format!("/checkout/cs_{}", "a".repeat(200))),
            None
        );
    }
}
