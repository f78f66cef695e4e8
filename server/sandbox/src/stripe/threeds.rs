//! The 3-D Secure challenge page, like Stripe's test page: "Complete authentication" or "Fail
//! authentication". No key: possession of the PaymentIntent's (or SetupIntent's) client secret
//! is the capability, passed along in the forms. Completing runs the payment (succeeded, or
//! requires_capture, or the card's post-authentication decline) or the card's setup; failing
//! returns the intent to `requires_payment_method` with `payment_intent_authentication_failure`
//! (`setup_intent_authentication_failure`).
//! Afterwards the page redirects to the `return_url` when the challenge was handed out as
//! `redirect_to_url`; otherwise it shows "done" and, when it runs in a frame of the Stripe.js
//! stand-in, tells the parent page by `postMessage` to the origin the stand-in named.

use super::charging::{attempt, authentication_failed, challenge_url, AttemptOptions};
use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::new_request_id;
use super::setup_intents::{self, SetupIntent};
use super::store::{Origin, PaymentIntent};
use super::App;
use crate::common::pages::{self, escape, see_other};
use crate::common::util::origin_of;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
pub struct ChallengeQuery {
    client_secret: Option<String>,
    origin: Option<String>,
}

/// `Some(origin)` when `s` is exactly an http(s) origin.
pub fn valid_origin(s: &str) -> Option<String> {
    origin_of(s).filter(|origin| origin == s)
}

fn render(app: &App, status: StatusCode, body: &str, extra_form_origin: Option<&str>) -> Response {
    let base = escape(app.config.public_base.trim_end_matches('/'));
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>3D Secure 2 Test Page</title><link rel=\"stylesheet\" href=\"{base}/js/3ds.css\"></head>\
         {body}</html>"
    );
    let own = app.config.origin();
    let csp = format!(
        "default-src 'none'; script-src 'self' {own}; style-src 'self' {own}; img-src 'self' data:; \
         form-action 'self' {own} {}; base-uri 'none'; frame-ancestors *",
        extra_form_origin.unwrap_or("")
    );
    // Framed by the Stripe.js stand-in on merchant pages: any ancestor.
    pages::page(status, html, &csp)
}

fn invalid(app: &App) -> Response {
    render(
        app,
        StatusCode::NOT_FOUND,
        "<body><main class=\"card\"><h1>Authentication link not valid</h1>\
         <p>This authentication link is not valid, or has expired.</p></main></body>",
        None,
    )
}

fn money_text(pi: &PaymentIntent) -> String {
    shared::Currency::from_code(&pi.currency.to_ascii_uppercase())
        .ok()
        .and_then(|c| super::units::decode(pi.amount, c).ok())
        .map_or_else(
            || format!("{} {}", pi.amount, pi.currency),
            |m| format!("{} {}", m.display(), m.currency()),
        )
}

/// The "done" page: tells a parent frame, if any, which PaymentIntent finished.
fn done(app: &App, pi_id: &str, status: &str, origin: Option<&str>) -> Response {
    let body = format!(
        "<body data-pi=\"{}\" data-status=\"{}\" data-origin=\"{}\"><main class=\"card\">\
         <h1>Authentication done</h1><p id=\"result\">The payment is now <b>{}</b>. You can close this window.</p>\
         </main><script src=\"{}/js/3ds.js\"></script></body>",
        escape(pi_id),
        escape(status),
        escape(origin.unwrap_or("")),
        escape(status),
        escape(app.config.public_base.trim_end_matches('/'))
    );
    render(app, StatusCode::OK, &body, None)
}

/// What a challenge is about: a payment, or a card being set up for later.
struct Challenge {
    id: String,
    client_secret: String,
    status: &'static str,
    return_url: Option<String>,
    redirect_flow: bool,
    /// What the bank asks the cardholder to confirm.
    asks: String,
    setup: bool,
}

impl Challenge {
    fn of_payment(pi: &PaymentIntent) -> Challenge {
        Challenge {
            id: pi.id.clone(),
            client_secret: pi.client_secret.clone(),
            status: pi.status,
            return_url: pi.return_url.clone(),
            redirect_flow: pi.redirect_flow,
            asks: format!("a payment of <b>{}</b>", escape(&money_text(pi))),
            setup: false,
        }
    }

    fn of_setup(si: &SetupIntent) -> Challenge {
        Challenge {
            id: si.id.clone(),
            client_secret: si.client_secret.clone(),
            status: si.status,
            return_url: si.return_url.clone(),
            redirect_flow: si.redirect_flow,
            asks: "that this card may be <b>saved for later payments</b>".to_string(),
            setup: true,
        }
    }
}

fn lookup(app: &App, id: &str, secret: Option<&str>) -> Option<Challenge> {
    let store = app.store.lock().expect("store lock");
    let challenge = if id.starts_with("seti_") {
        Challenge::of_setup(store.setup_intents.get(id)?)
    } else {
        Challenge::of_payment(store.payment_intents.get(id)?)
    };
    (Some(challenge.client_secret.as_str()) == secret).then_some(challenge)
}

pub async fn page_handler(app: &App, pi_id: &str, q: ChallengeQuery) -> Response {
    let Some(pi) = lookup(app, pi_id, q.client_secret.as_deref()) else {
        return invalid(app);
    };
    let origin = q.origin.as_deref().and_then(valid_origin);
    if pi.status != "requires_action" {
        return done(app, pi_id, pi.status, origin.as_deref());
    }
    let return_origin = pi
        .return_url
        .as_deref()
        .filter(|_| pi.redirect_flow)
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization());
    let hidden = format!(
        "<input type=\"hidden\" name=\"client_secret\" value=\"{}\">\
         <input type=\"hidden\" name=\"origin\" value=\"{}\">",
        escape(&pi.client_secret),
        escape(origin.as_deref().unwrap_or(""))
    );
    let id = format!(
        "{}/3ds/{}",
        escape(app.config.public_base.trim_end_matches('/')),
        escape(&pi.id)
    );
    let body = format!(
        "<body><main class=\"card\"><p class=\"badge\">TEST MODE</p><h1>3D Secure 2 Test Page</h1>\
         <p>paygate sandbox is asking your bank to confirm {}.</p>\
         <p class=\"hint\">This page emulates the challenge a card issuer shows. No bank is contacted.</p>\
         <div class=\"actions\">\
         <form method=\"post\" action=\"{id}/complete\">{hidden}<button type=\"submit\" id=\"complete\" class=\"primary\">Complete authentication</button></form>\
         <form method=\"post\" action=\"{id}/fail\">{hidden}<button type=\"submit\" id=\"fail\">Fail authentication</button></form>\
         </div></main></body>",
        pi.asks
    );
    render(app, StatusCode::OK, &body, return_origin.as_deref())
}

pub async fn page(
    State(app): State<App>,
    Path(pi_id): Path<String>,
    Query(q): Query<ChallengeQuery>,
) -> Response {
    page_handler(&app, &pi_id, q).await
}

#[derive(Debug, Deserialize)]
struct ChallengeForm {
    client_secret: Option<String>,
    origin: Option<String>,
}

async fn finish(app: App, pi_id: String, body: Bytes, complete: bool) -> Response {
    app.bodies.record(&body);
    let form: ChallengeForm = serde_urlencoded::from_bytes(&body).unwrap_or(ChallengeForm {
        client_secret: None,
        origin: None,
    });
    let Some(pi) = lookup(&app, &pi_id, form.client_secret.as_deref()) else {
        return invalid(&app);
    };
    let origin = form.origin.as_deref().and_then(valid_origin);
    if pi.status != "requires_action" {
        return done(&app, &pi_id, pi.status, origin.as_deref());
    }
    let request = Origin {
        request_id: Some(new_request_id()),
        idempotency_key: None,
    };
    let base = app.config.public_base.clone();
    let status = app.run(|store| {
        if pi.setup {
            return setup_intents::finish_challenge(store, &request, &pi_id, complete, &base);
        }
        let Some(pi) = store.payment_intents.get(&pi_id) else {
            return "requires_payment_method";
        };
        if pi.status != "requires_action" {
            return pi.status;
        }
        match (complete, pi.authenticating.clone()) {
            (true, Some(pm)) => {
                let _ = attempt(
                    store,
                    &request,
                    &pi_id,
                    &pm,
                    &AttemptOptions {
                        authenticated: true,
                        off_session: false,
                        use_stripe_sdk: false,
                        public_base: &base,
                    },
                );
            }
            _ => authentication_failed(store, &request, &pi_id),
        }
        store.payment_intents[&pi_id].status
    });
    if let (true, Some(return_url)) = (pi.redirect_flow, pi.return_url.as_deref()) {
        if let Ok(mut url) = url::Url::parse(return_url) {
            let outcome = match status {
                "succeeded" | "requires_capture" => "succeeded",
                "processing" => "pending",
                _ => "failed",
            };
            // Stripe's return URL names the intent by its kind (`setup_intent`,
            // `setup_intent_client_secret` for SetupIntents).
            let kind = if pi.setup {
                "setup_intent"
            } else {
                "payment_intent"
            };
            url.query_pairs_mut()
                .append_pair(kind, &pi.id)
                .append_pair(&format!("{kind}_client_secret"), &pi.client_secret)
                .append_pair("redirect_status", outcome);
            if let Some(response) = see_other(url.as_str()) {
                return response;
            }
        }
    }
    done(&app, &pi_id, status, origin.as_deref())
}

pub async fn complete(State(app): State<App>, Path(pi_id): Path<String>, body: Bytes) -> Response {
    finish(app, pi_id, body, true).await
}

pub async fn fail(State(app): State<App>, Path(pi_id): Path<String>, body: Bytes) -> Response {
    finish(app, pi_id, body, false).await
}

/// The 3-D Secure 2 source id Stripe.js authenticates, one per intent here: the attempt's id
/// (`payatt_` of a PaymentIntent, `setatt_` of a SetupIntent).
fn source_of(intent_id: &str) -> String {
    if intent_id.starts_with("seti_") {
        setup_intents::attempt_id(intent_id)
    } else {
        format!("payatt_{}", intent_id.trim_start_matches("pi_"))
    }
}

/// `next_action.use_stripe_sdk` of a 3-D Secure 2 card, in the shape Stripe gives it (Stripe's
/// own fixture `PI_VISA_3DS2_JSON` in stripe-android's `PaymentIntentFixtures.kt`, card 3220):
/// `type: "stripe_3ds2_fingerprint"` with the 3DS2 source, the directory server and the server
/// transaction id, and no URL. Stripe's OpenAPI calls the object's shape "subject to change and
/// only intended to be used by Stripe.js"; the stand-in reads it as Stripe.js does, by sending
/// the source to `POST /v1/3ds2/authenticate`. (Every authentication test card on
/// docs.stripe.com/testing is 3-D Secure 2; the older `three_d_secure_redirect` shape with a
/// `stripe_js` URL belonged to 3DS1 cards, which the emulator does not model.)
pub fn fingerprint(pi_id: &str, brand: &str) -> Value {
    let (server, id) = match brand {
        "mastercard" => ("mastercard", "A000000004"),
        "amex" => ("american_express", "A000000025"),
        _ => ("visa", "A000000003"),
    };
    json!({
        "type": "stripe_3ds2_fingerprint",
        "merchant": "acct_paygatesandbox",
        "three_d_secure_2_source": source_of(pi_id),
        "directory_server_name": server,
        "server_transaction_id": server_transaction_id(pi_id),
        "three_ds_method_url": "",
        "three_ds_optimizations": "kf",
        "directory_server_encryption": {
            "directory_server_id": id,
            "algorithm": "RSA",
            "certificate": "",
            "root_certificate_authorities": []
        },
        "one_click_authn": null
    })
}

/// A UUID-shaped id derived from the PaymentIntent (stable across reads of one challenge).
fn server_transaction_id(pi_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(pi_id.as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// `POST /v1/3ds2/authenticate` (publishable key; `source`, `browser`): what Stripe.js calls with
/// the `three_d_secure_2_source` of a `stripe_3ds2_fingerprint` action (stripe-android
/// `StripeApiRepository.start3ds2Auth` posts to the same path; the answer is its
/// `Stripe3ds2AuthResult`: `state` and the issuer's `ares` with the challenge's `acsURL`). Every
/// card here asks for a challenge, which is the emulator's 3-D Secure 2 test page.
pub async fn authenticate_2(State(app): State<App>, Extension(p): Extension<Params>) -> ApiResult {
    p.check_allowed(&[
        "source",
        "browser",
        "one_click_authn_device_support.*",
        "key",
    ])?;
    let source = p.required("source")?.to_string();
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("No such source: '{source}'"),
        )
        .with_code("resource_missing")
        .with_param("source")
    };
    let pi = {
        let store = app.store.lock().expect("store lock");
        if let Some(rest) = source.strip_prefix("setatt_") {
            store
                .setup_intents
                .get(&format!("seti_{rest}"))
                .map(Challenge::of_setup)
        } else {
            let rest = source.strip_prefix("payatt_").ok_or_else(missing)?;
            store
                .payment_intents
                .get(&format!("pi_{rest}"))
                .map(Challenge::of_payment)
        }
    };
    let Some(pi) = pi.filter(|pi| pi.status == "requires_action" && !pi.redirect_flow) else {
        return Err(missing());
    };
    let now = app.config.clock.now_ms() / 1000;
    ok(json!({
        "id": format!("threeds2_{}", pi.id.split_once('_').map_or("", |(_, r)| r)),
        "object": "three_d_secure_2",
        "ares": {
            "acsChallengeMandated": "Y",
            "acsTransID": server_transaction_id(&format!("acs{}", pi.id)),
            "acsURL": challenge_url(&app.config.public_base, &pi.id, &pi.client_secret),
            "authenticationType": "02",
            "messageType": "ARes",
            "messageVersion": "2.2.0",
            "threeDSServerTransID": server_transaction_id(&pi.id),
            "transStatus": "C"
        },
        "created": now,
        "error": null,
        "fallback_redirect_url": null,
        "livemode": false,
        "source": source,
        "state": "challenge_required"
    }))
}
