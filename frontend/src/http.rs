//! What both apps share of talking to paygate's JSON APIs: which ids may go into a request's
//! path, and what a failed response's problem document (RFC 9457, `application/problem+json`)
//! says. Each app builds its own error type from [`Problem`].

use crate::json::Json;
use gloo_net::http::Response;

/// The longest id [`plausible_id`] accepts.
pub const MAX_ID_LEN: usize = 128;

/// Whether `id` may go into a request's URL as one path segment: 1 to [`MAX_ID_LEN`] ASCII
/// letters, digits, `_` and `-`.
///
/// The check exists so that a value (from the page's URL, a provider's answer, a log entry) can
/// never change a request's path or query: no `/`, `.` (hence no `..`), `?`, `#` or `%` (hence
/// no percent-encoded one either) gets through. paygate's ids (`pay_…`, `cs_…`) and provider ids
/// such as PayPal order ids (`5O190127TN364715T`) pass.
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What the apps read of a response that is not a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status of the response.
    pub status: u16,
    /// The problem's machine-readable `code`; empty when the body did not say.
    pub code: String,
    /// The problem's `detail` (written to be shown to the caller), or its `title` when there is
    /// no detail; empty when the body said neither (not a problem document: the status is all
    /// there is to go by).
    pub detail: String,
    /// The request field at fault, when the problem names one.
    pub param: Option<String>,
}

impl Problem {
    /// The problem of a failed response with this status and body text.
    ///
    /// Only the fields the apps read, each only when it is a string: any JSON object is read as
    /// far as it goes, and anything else (a proxy's HTML error page, an empty body) as an empty
    /// one. Read with the browser's parser ([`crate::json`]).
    pub fn from_body(status: u16, body: &str) -> Problem {
        let body = Json::parse(body);
        let field = |key: &str| body.as_ref().and_then(|body| body.get(key).str());
        let non_empty = |text: Option<String>| text.filter(|text| !text.is_empty());
        Problem {
            status,
            code: field("code").unwrap_or_default(),
            detail: non_empty(field("detail"))
                .or_else(|| non_empty(field("title")))
                .unwrap_or_default(),
            param: field("param"),
        }
    }

    /// Reads the problem of a response that is not a success (consumes its body; read any
    /// header first). A body that cannot be read counts as empty.
    pub async fn read(response: Response) -> Problem {
        let body = response.text().await.unwrap_or_default();
        Problem::from_body(response.status(), &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_cannot_leave_their_path_segment() {
        assert!(plausible_id("5O190127TN364715T"));
        for id in ["", "a/b", "..", "a?b", "a#b", "a%2Fb"] {
            assert!(!plausible_id(id), "{id}");
        }
    }

    #[test]
    fn nothing_that_steers_a_request_passes() {
        for id in [
            "",
            "/",
            "a/b",
            "pay_1/..",
            "..",
            ".",
            "a.b",
            "a?b",
            "a?expand=1",
            "a#b",
            "%2F",
            "a%2Fb",
            "a b",
            "a\\b",
            "a\nb",
            "pay_é",
        ] {
            assert!(!plausible_id(id), "{id:?}");
        }
    }

    #[test]
    fn ids_have_a_length_limit() {
        assert!(plausible_id(&"a".repeat(MAX_ID_LEN)));
        assert!(!plausible_id(&"a".repeat(MAX_ID_LEN + 1)));
        assert!(plausible_id("a"));
    }

    #[test]
    fn real_ids_pass() {
        for id in [
            // PayPal order ids: upper-case letters and digits.
            "5O190127TN364715T",
            "8AB12345CD678901E",
            // paygate ids: a prefix and 24 alphanumerics.
            "pay_Ab3dEf6hIj9kLm2nOp5qRs8t",
            "cs_Ab3dEf6hIj9kLm2nOp5qRs8t",
            "re_000000000000000000000000",
            "cs_A-b_9",
        ] {
            assert!(plausible_id(id), "{id}");
        }
        assert_eq!("pay_Ab3dEf6hIj9kLm2nOp5qRs8t".len(), 4 + 24);
    }
}

/// `Problem` reads JSON with the browser's parser, so these run in the browser.
#[cfg(all(test, target_arch = "wasm32"))]
mod problem_tests {
    use super::Problem;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn reads_a_problem_document() {
        let body = r#"{"type": "https://paygate.dev/errors/invalid_request", "title": "Bad Request",
            "status": 400, "detail": "currency must be three letters", "code": "invalid_request",
            "param": "currency"}"#;
        assert_eq!(
            Problem::from_body(400, body),
            Problem {
                status: 400,
                code: "invalid_request".into(),
                detail: "currency must be three letters".into(),
                param: Some("currency".into()),
            }
        );
    }

    #[wasm_bindgen_test]
    fn title_stands_in_for_a_missing_detail() {
        for body in [
            r#"{"title": "Conflict", "code": "session_expired"}"#,
            r#"{"title": "Conflict", "code": "session_expired", "detail": ""}"#,
            r#"{"title": "Conflict", "code": "session_expired", "detail": null}"#,
        ] {
            let problem = Problem::from_body(409, body);
            assert_eq!(problem.detail, "Conflict", "{body}");
            assert_eq!(problem.code, "session_expired", "{body}");
            assert_eq!(problem.param, None, "{body}");
        }
    }

    #[wasm_bindgen_test]
    fn anything_else_leaves_the_status_alone() {
        let empty = |status| Problem {
            status,
            code: String::new(),
            detail: String::new(),
            param: None,
        };
        for body in [
            "",
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "Service Unavailable",
            "null",
            "[1, 2]",
            r#""an error""#,
            r#"{"code": 17}"#,
            "{}",
        ] {
            assert_eq!(Problem::from_body(502, body), empty(502), "{body:?}");
        }
        // Fields of other shapes are skipped, not fatal.
        let partial = Problem::from_body(429, r#"{"error": "slow down", "detail": "Wait."}"#);
        assert_eq!(partial.detail, "Wait.");
        assert_eq!(partial.code, "");
    }
}
