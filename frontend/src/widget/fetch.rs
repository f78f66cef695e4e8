use super::LoadError;
use gloo_net::http::Request;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use shared::api::WidgetSession;

/// The session id is the last segment of `/checkout/{session_id}`. Anything that is not a
/// plausible id (`cs_` + URL-safe characters) is rejected here, so a crafted path can never
/// steer the API request elsewhere (`..`, `?`, `#`).
pub fn session_id_from_path(path: &str) -> Option<&str> {
    let id = path.trim_end_matches('/').rsplit('/').next()?;
    let plausible = id.starts_with("cs_")
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    plausible.then_some(id)
}

/// `GET /checkout/api/sessions/{id}` on the page's own origin.
pub async fn fetch_session(id: &str) -> Result<WidgetSession, LoadError> {
    let response = Request::get(&format!("/checkout/api/sessions/{id}"))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| LoadError::Unavailable)?;
    match response.status() {
        200 => response
            .json::<WidgetSession>()
            .await
            .map_err(|_| LoadError::Unavailable),
        // 404 `resource_missing`: no such session. A 400 can only be about the id in the path,
        // so it is an invalid link as well; neither gets better with a retry.
        400 | 404 => Err(LoadError::NotFound),
        _ => Err(LoadError::Unavailable),
    }
}

/// Why a widget API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// An RFC 9457 problem document from paygate.
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

/// Only what the widget reads of a problem document; everything else is optional, so a proxy's
/// bare error page still yields a status.
#[derive(Deserialize, Default)]
struct ProblemBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    detail: String,
}

/// `POST /checkout/api/sessions/{id}/{action}` without a body: the server decides everything
/// from the session (the browser never sends an amount). `action` is built by the caller from
/// fixed words and ids checked with [`plausible_id`].
pub async fn post<T: DeserializeOwned>(session_id: &str, action: &str) -> Result<T, ApiError> {
    let response = Request::post(&format!("/checkout/api/sessions/{session_id}/{action}"))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let status = response.status();
    if (200..300).contains(&status) {
        return response.json::<T>().await.map_err(|_| ApiError::Network);
    }
    let body = response.json::<ProblemBody>().await.unwrap_or_default();
    Err(ApiError::Problem {
        status,
        code: body.code,
        detail: body.detail,
    })
}

/// A provider id that may go into a path segment (PayPal order ids are upper-case
/// alphanumerics): nothing that could change the request's path or query.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::{plausible_id, session_id_from_path};

    #[test]
    fn order_ids_cannot_leave_their_path_segment() {
        assert!(plausible_id("5O190127TN364715T"));
        for id in ["", "a/b", "..", "a?b", "a#b", "a%2Fb"] {
            assert!(!plausible_id(id), "{id}");
        }
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
