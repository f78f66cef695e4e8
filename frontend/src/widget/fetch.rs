use super::LoadError;
use gloo_net::http::Request;
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

#[cfg(test)]
mod tests {
    use super::session_id_from_path;

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
