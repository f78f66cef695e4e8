//! The admin API (`/admin/api/...`, same origin, cookie session) over `gloo-net`. Every
//! state-changing call carries the session's CSRF token; errors arrive as problem documents
//! whose `detail` is shown to the admin.

use super::query::{audit_api_query, history_api_query, stats_api_query};
use crate::http::{plausible_id, Problem};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use shared::api::admin::{
    AdminRefund, AdminSession, AuditPage, DailyStats, DailyStatsQuery, HistoryPage, HistoryQuery,
    ParkedProviderEvent, PaymentDetail, ProviderEventReplayed, SignIn, WebhookResent, CSRF_HEADER,
};
use shared::api::{
    CreatePaymentLink, Dispute, List, PaymentLink, Refund, SubmitDisputeEvidence, Subscription,
    UpdatePaymentLink, WebhookDelivery, WebhookEndpoint,
};
use web_sys::RequestCredentials;

/// Why an admin API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 401 on a signed-in call: the session has ended (expired, or signed out elsewhere).
    SessionEnded,
    /// 429: too many attempts; `retry_after` in seconds when the server said.
    RateLimited { retry_after: Option<u64> },
    /// Any other answer that is not a success, with the problem document's fields (or what
    /// stands in for them when the body was not one).
    Problem {
        status: u16,
        code: String,
        detail: String,
        param: Option<String>,
    },
    /// No answer, or one that could not be read.
    Network,
}

impl ApiError {
    /// The sentence shown to the admin.
    pub fn message(&self) -> String {
        match self {
            ApiError::SessionEnded => "Your session has ended. Sign in again.".to_string(),
            ApiError::RateLimited {
                retry_after: Some(1),
            } => "Too many attempts, try again in 1 second.".to_string(),
            ApiError::RateLimited {
                retry_after: Some(seconds),
            } => format!("Too many attempts, try again in {seconds} seconds."),
            ApiError::RateLimited { retry_after: None } => {
                "Too many attempts, try again later.".to_string()
            }
            ApiError::Problem { detail, .. } => detail.clone(),
            ApiError::Network => {
                "paygate could not be reached. Check the connection and try again.".to_string()
            }
        }
    }

    /// The request field at fault, when the server named one.
    pub fn param(&self) -> Option<&str> {
        match self {
            ApiError::Problem { param, .. } => param.as_deref(),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::SessionEnded => Some(401),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Problem { status, .. } => Some(*status),
            ApiError::Network => None,
        }
    }
}

impl From<Problem> for ApiError {
    /// Any failure but a 401 or a 429. Without a detail to show (the body was not a problem
    /// document: a proxy's error page, say), the status is all there is to tell.
    fn from(problem: Problem) -> ApiError {
        let Problem {
            status,
            code,
            detail,
            param,
        } = problem;
        ApiError::Problem {
            status,
            code,
            detail: if detail.is_empty() {
                format!("paygate answered with HTTP status {status}. Try again.")
            } else {
                detail
            },
            param,
        }
    }
}

/// `Retry-After` in seconds (the delay form; an HTTP date is not worth a countdown).
pub fn retry_after_seconds(value: Option<&str>) -> Option<u64> {
    value?.trim().parse().ok()
}

fn same_origin(builder: RequestBuilder) -> RequestBuilder {
    builder
        .credentials(RequestCredentials::SameOrigin)
        .header("Accept", "application/json")
}

async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    request
        .map_err(|_| ApiError::Network)?
        .send()
        .await
        .map_err(|_| ApiError::Network)
}

/// The error of a response that is not a success. A 401 means the session ended, except on
/// sign-in, where the caller maps it to "wrong credentials".
async fn failure(response: Response) -> ApiError {
    let status = response.status();
    match status {
        401 => ApiError::SessionEnded,
        429 => ApiError::RateLimited {
            retry_after: retry_after_seconds(response.headers().get("retry-after").as_deref()),
        },
        _ => Problem::read(response).await.into(),
    }
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        response.json::<T>().await.map_err(|_| ApiError::Network)
    } else {
        Err(failure(response).await)
    }
}

/// `GET path?query`; gloo-net encodes the query (`URLSearchParams`).
async fn get<T: DeserializeOwned>(
    path: &str,
    query: Vec<(&'static str, String)>,
) -> Result<T, ApiError> {
    let mut builder = same_origin(Request::get(path));
    if !query.is_empty() {
        builder = builder.query(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    json(send(builder.build()).await?).await
}

/// `GET /admin/api/session`: who is signed in, or `None` (401: show the sign-in form).
pub async fn session() -> Result<Option<AdminSession>, ApiError> {
    match get::<AdminSession>("/admin/api/session", Vec::new()).await {
        Ok(session) => Ok(Some(session)),
        Err(ApiError::SessionEnded) => Ok(None),
        Err(error) => Err(error),
    }
}

/// `POST /admin/api/session`. A 401 here is a wrong email or password, not an ended session.
pub async fn sign_in(body: &SignIn) -> Result<AdminSession, ApiError> {
    let response = send(same_origin(Request::post("/admin/api/session")).json(body)).await?;
    if response.status() == 401 {
        let detail = Some(Problem::read(response).await.detail)
            .filter(|detail| !detail.is_empty())
            .unwrap_or_else(|| "Wrong email or password.".to_string());
        return Err(ApiError::Problem {
            status: 401,
            code: "invalid_credentials".to_string(),
            detail,
            param: None,
        });
    }
    json(response).await
}

/// `DELETE /admin/api/session` (204). A 401 means there was no session left to end: signed out
/// all the same.
pub async fn sign_out(csrf_token: &str) -> Result<(), ApiError> {
    let request = same_origin(Request::delete("/admin/api/session"))
        .header(CSRF_HEADER, csrf_token)
        .build();
    let response = send(request).await?;
    match response.status() {
        200..=299 | 401 => Ok(()),
        _ => Err(failure(response).await),
    }
}

/// `GET /admin/api/payments?...`.
pub async fn history(query: &HistoryQuery) -> Result<HistoryPage, ApiError> {
    get("/admin/api/payments", history_api_query(query)).await
}

/// `GET /admin/api/stats/daily?...`.
pub async fn daily_stats(query: &DailyStatsQuery) -> Result<DailyStats, ApiError> {
    get("/admin/api/stats/daily", stats_api_query(query)).await
}

/// What the server would answer for an id that cannot be one (never sent).
fn not_found(what: &str) -> ApiError {
    ApiError::Problem {
        status: 404,
        code: "resource_missing".to_string(),
        detail: format!("There is no such {what}."),
        param: None,
    }
}

/// `GET /admin/api/payments/{id}`.
pub async fn payment(id: &str) -> Result<PaymentDetail, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("payment"));
    }
    get(&format!("/admin/api/payments/{id}"), Vec::new()).await
}

/// `POST /admin/api/payments/{id}/refunds` with the CSRF token and an idempotency key that the
/// caller keeps for retries of the same confirmation.
pub async fn refund(
    id: &str,
    body: &AdminRefund,
    csrf_token: &str,
    idempotency_key: &str,
) -> Result<Refund, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("payment"));
    }
    let request = same_origin(Request::post(&format!("/admin/api/payments/{id}/refunds")))
        .header(CSRF_HEADER, csrf_token)
        .header("Idempotency-Key", idempotency_key)
        .json(body);
    json(send(request).await?).await
}

/// `GET /admin/api/audit?before=...&limit=50`.
pub async fn audit(before: Option<i64>) -> Result<AuditPage, ApiError> {
    get("/admin/api/audit", audit_api_query(before)).await
}

/// `GET /admin/api/webhook_endpoints`: every endpoint (no secrets).
pub async fn webhook_endpoints() -> Result<List<WebhookEndpoint>, ApiError> {
    get("/admin/api/webhook_endpoints", Vec::new()).await
}

/// `GET /admin/api/webhook_endpoints/{id}`.
pub async fn webhook_endpoint(id: &str) -> Result<WebhookEndpoint, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("webhook endpoint"));
    }
    get(&format!("/admin/api/webhook_endpoints/{id}"), Vec::new()).await
}

/// `GET /admin/api/webhook_endpoints/{id}/deliveries?status=...&starting_after=...`: a page of
/// the endpoint's deliveries, newest first, each with every attempt.
pub async fn deliveries(
    id: &str,
    status: Option<&str>,
    starting_after: Option<&str>,
) -> Result<List<WebhookDelivery>, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("webhook endpoint"));
    }
    let mut query = Vec::new();
    if let Some(status) = status {
        query.push(("status", status.to_string()));
    }
    if let Some(cursor) = starting_after {
        query.push(("starting_after", cursor.to_string()));
    }
    get(
        &format!("/admin/api/webhook_endpoints/{id}/deliveries"),
        query,
    )
    .await
}

/// `POST /admin/api/webhook_endpoints/{endpoint}/deliveries/{delivery}/resend` with the CSRF
/// token: the delivery's event is queued again for the endpoint.
pub async fn resend(
    endpoint: &str,
    delivery: &str,
    csrf_token: &str,
) -> Result<WebhookResent, ApiError> {
    if !plausible_id(endpoint) || !plausible_id(delivery) {
        return Err(not_found("webhook delivery"));
    }
    let request = same_origin(Request::post(&format!(
        "/admin/api/webhook_endpoints/{endpoint}/deliveries/{delivery}/resend"
    )))
    .header(CSRF_HEADER, csrf_token)
    .build();
    json(send(request).await?).await
}

/// `GET /admin/api/disputes?status=needs_response&limit=100`: the newest disputes (only those
/// awaiting a response with `open`).
pub async fn disputes(open: bool) -> Result<List<Dispute>, ApiError> {
    let mut query = vec![("limit", "100".to_string())];
    if open {
        query.push(("status", "needs_response".to_string()));
    }
    get("/admin/api/disputes", query).await
}

/// `POST /admin/api/disputes/{id}/evidence` with the CSRF token.
pub async fn submit_dispute_evidence(
    id: &str,
    body: &SubmitDisputeEvidence,
    csrf_token: &str,
) -> Result<Dispute, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("dispute"));
    }
    let request = same_origin(Request::post(&format!("/admin/api/disputes/{id}/evidence")))
        .header(CSRF_HEADER, csrf_token)
        .json(body);
    json(send(request).await?).await
}

/// `POST /admin/api/disputes/{id}/close` with the CSRF token: the dispute is accepted (lost).
pub async fn accept_dispute(id: &str, csrf_token: &str) -> Result<Dispute, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("dispute"));
    }
    let request = same_origin(Request::post(&format!("/admin/api/disputes/{id}/close")))
        .header(CSRF_HEADER, csrf_token)
        .build();
    json(send(request).await?).await
}

/// `GET /admin/api/subscriptions?attention=...&cursor=...`: a page of subscriptions, newest
/// first.
pub async fn subscriptions(
    attention: bool,
    cursor: Option<&str>,
) -> Result<List<Subscription>, ApiError> {
    let mut query = Vec::new();
    if attention {
        query.push(("attention", "true".to_string()));
    }
    if let Some(cursor) = cursor {
        query.push(("cursor", cursor.to_string()));
    }
    get("/admin/api/subscriptions", query).await
}

/// `GET /admin/api/payment_links?limit=100`: the newest links.
pub async fn payment_links() -> Result<List<PaymentLink>, ApiError> {
    get(
        "/admin/api/payment_links",
        vec![("limit", "100".to_string())],
    )
    .await
}

/// `POST /admin/api/payment_links` with the CSRF token: a new link.
pub async fn create_payment_link(
    body: &CreatePaymentLink,
    csrf_token: &str,
) -> Result<PaymentLink, ApiError> {
    let request = same_origin(Request::post("/admin/api/payment_links"))
        .header(CSRF_HEADER, csrf_token)
        .json(body);
    json(send(request).await?).await
}

/// `POST /admin/api/payment_links/{id}` with the CSRF token: switches the link off or on.
pub async fn set_payment_link_active(
    id: &str,
    active: bool,
    csrf_token: &str,
) -> Result<PaymentLink, ApiError> {
    if !plausible_id(id) {
        return Err(not_found("payment link"));
    }
    let request = same_origin(Request::post(&format!("/admin/api/payment_links/{id}")))
        .header(CSRF_HEADER, csrf_token)
        .json(&UpdatePaymentLink {
            active: Some(active),
        });
    json(send(request).await?).await
}

/// `GET /admin/api/provider_events/parked`: the provider webhooks parked after their last
/// attempt, newest first.
pub async fn parked_events() -> Result<List<ParkedProviderEvent>, ApiError> {
    get("/admin/api/provider_events/parked", Vec::new()).await
}

/// `POST /admin/api/provider_events/{provider}/{event_id}/replay` with the CSRF token: the event
/// is due again.
pub async fn replay_event(
    provider: &str,
    event_id: &str,
    csrf_token: &str,
) -> Result<ProviderEventReplayed, ApiError> {
    // Provider event ids (`evt_...`, `WH-...`) are letters, digits, '_' and '-': anything
    // else would change the path.
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 255
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !safe(provider) || !safe(event_id) {
        return Err(not_found("provider event"));
    }
    let request = same_origin(Request::post(&format!(
        "/admin/api/provider_events/{provider}/{event_id}/replay"
    )))
    .header(CSRF_HEADER, csrf_token)
    .build();
    json(send(request).await?).await
}

/// A fresh idempotency key: 128 random bits from `crypto.getRandomValues` (`Math.random` only
/// if the Web Crypto API is missing), hex-encoded.
pub fn idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|window| window.crypto().ok())
        .is_some_and(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            // Math.random() is in [0, 1): its scaled integer part is 0..=255. Not money.
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    let mut key = String::from("admin_");
    for byte in bytes {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            ApiError::RateLimited {
                retry_after: Some(30)
            }
            .message(),
            "Too many attempts, try again in 30 seconds."
        );
        assert_eq!(
            ApiError::RateLimited { retry_after: None }.message(),
            "Too many attempts, try again later."
        );
        assert_eq!(retry_after_seconds(Some(" 12 ")), Some(12));
        assert_eq!(
            retry_after_seconds(Some("Wed, 21 Oct 2026 07:28:00 GMT")),
            None
        );
        assert_eq!(retry_after_seconds(None), None);
    }

    #[test]
    fn problems_become_errors() {
        // The body's reading is tested in `http` (in the browser); this is the conversion.
        let problem = Problem {
            status: 400,
            code: "invalid_request".into(),
            detail: "Unknown status.".into(),
            param: Some("status".into()),
        };
        let error = ApiError::from(problem);
        assert_eq!(error.message(), "Unknown status.");
        assert_eq!(error.param(), Some("status"));
        assert_eq!(error.status(), Some(400));

        // What a proxy's HTML page reads as: the status alone.
        let proxy = ApiError::from(Problem {
            status: 502,
            code: String::new(),
            detail: String::new(),
            param: None,
        });
        assert_eq!(
            proxy,
            ApiError::Problem {
                status: 502,
                code: String::new(),
                detail: "paygate answered with HTTP status 502. Try again.".to_string(),
                param: None,
            }
        );
    }
}
