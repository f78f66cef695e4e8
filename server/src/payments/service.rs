//! Creating a payment: validate, store the row, call the provider (outside any transaction),
//! then record what the provider answered.

use super::lifecycle;
use super::repo::{self, Update};
use super::{Cause, PaymentRecord};
use crate::error::ApiError;
use crate::http::detach::to_completion;
use crate::ids::new_id;
use crate::providers::{check_amount, CreateRequest};
use crate::state::AppState;
use crate::validate;
use serde_json::json;
use shared::api::{
    CaptureMode, CreatePayment, Metadata, PaymentStatus, ProviderName, SavePaymentMethod,
};
use shared::{Currency, Money};

/// A new payment as the domain sees it, whoever asks for it: the merchant API validates its
/// JSON body into one ([`NewPayment::from_api`]); the widget builds one from the checkout
/// session, whose money is already exact.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub provider: ProviderName,
    pub money: Money,
    pub capture_mode: CaptureMode,
    pub description: Option<String>,
    pub customer: Option<String>,
    pub metadata: Metadata,
    pub return_url: Option<String>,
    pub checkout_session: Option<String>,
    /// The session's payment link, if it was opened from one.
    pub payment_link: Option<String>,
    /// A saved card of `customer` charged off session (merchant API only).
    pub payment_method: Option<String>,
    /// Who asked: the merchant API or the widget (on the timeline).
    pub cause: Cause,
    /// The payment's id when the request carried an `Idempotency-Key` (derived from it, so a
    /// retry whose first answer was lost finds the same payment); `None`: a fresh id.
    pub id: Option<String>,
}

impl NewPayment {
    /// Validates a `POST /v1/payments` body.
    pub fn from_api(body: CreatePayment) -> Result<NewPayment, ApiError> {
        let currency = Currency::from_code(&body.currency)
            .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
        let money = Money::parse(&body.amount, currency)
            .map_err(|e| ApiError::invalid("amount", e.to_string()))?;
        validate::optional_text("description", body.description.as_deref(), 1000)?;
        validate::metadata(&body.metadata)?;
        if let Some(url) = &body.return_url {
            validate::http_url("return_url", url)?;
        }
        match (&body.payment_method, body.off_session) {
            (Some(_), false) => {
                return Err(ApiError::invalid(
                    "off_session",
                    "A saved payment_method is charged without the customer: send off_session: true. A customer who is present pays through a checkout session, which offers their saved cards.",
                ))
            }
            (None, true) => {
                return Err(ApiError::invalid(
                    "payment_method",
                    "off_session needs the saved payment_method to charge.",
                ))
            }
            (Some(_), true) if body.customer.is_none() => {
                return Err(ApiError::invalid(
                    "customer",
                    "A saved payment_method is charged for its customer: send customer.",
                ))
            }
            (Some(_), true) if body.provider != ProviderName::Stripe => {
                return Err(ApiError::invalid(
                    "provider",
                    "Saved payment methods are kept at Stripe: send provider: stripe.",
                ))
            }
            _ => {}
        }
        Ok(NewPayment {
            provider: body.provider,
            money,
            capture_mode: body.capture_mode,
            description: body.description,
            customer: body.customer,
            metadata: body.metadata,
            return_url: body.return_url,
            checkout_session: None,
            payment_link: None,
            payment_method: body.payment_method,
            cause: Cause::Api,
            id: None,
        })
    }
}

/// A payment just created, with what the provider answered that paygate does not store (the
/// PaymentIntent's client secret, which the widget hands to Stripe.js).
#[derive(Debug)]
pub struct Created {
    pub payment: PaymentRecord,
    pub client_secret: Option<String>,
}

/// Creates a payment; the provider call and its recording finish even if the caller goes away
/// (see `http::detach`).
pub async fn create(state: &AppState, new: NewPayment) -> Result<Created, ApiError> {
    to_completion(create_detached(state.clone(), new)).await
}

async fn create_detached(state: AppState, new: NewPayment) -> Result<Created, ApiError> {
    let started = std::time::Instant::now();
    let mut provider_time = std::time::Duration::ZERO;
    let created = create_timed(&state, new, &mut provider_time).await;
    // paygate's own share: what this took besides waiting for the provider (`/metrics`).
    state
        .metrics
        .observe_payment_own(started.elapsed().saturating_sub(provider_time));
    created
}

async fn create_timed(
    state: &AppState,
    new: NewPayment,
    provider_time: &mut std::time::Duration,
) -> Result<Created, ApiError> {
    let money = new.money;
    if money.is_zero() {
        return Err(ApiError::invalid(
            "amount",
            "The amount must be greater than zero.",
        ));
    }
    check_amount(new.provider, money).map_err(|e| {
        ApiError::bad_request("amount_not_supported", e.to_string()).with_param("amount")
    })?;
    if !state.config.providers.contains(&new.provider) {
        return Err(ApiError::bad_request(
            "provider_not_enabled",
            format!(
                "{} is not enabled on this gateway.",
                new.provider.display_name()
            ),
        )
        .with_param("provider"));
    }
    state.providers.require(new.provider)?;
    if let Some(customer) = &new.customer {
        if !crate::customers::repo::exists(&state.db, customer).await? {
            return Err(ApiError::not_found("customer").with_param("customer"));
        }
    }
    if let (Some(pm), Some(customer)) = (&new.payment_method, &new.customer) {
        // Only a card saved for this customer, and not removed: paygate's record says whose
        // it is, so no customer can be charged with another's card.
        crate::customers::payment_methods::repo::get_usable(&state.db, customer, pm)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    "payment_method",
                    "Not a saved payment method of this customer (see GET /v1/customers/{id}/payment_methods).",
                )
            })?;
    }

    // Only an id derived from a key can exist already (a retry); a fresh one cannot.
    let id = match &new.id {
        Some(id) => {
            if let Some(existing) = repo::get(&state.db, id).await? {
                return resume(state, existing, new, provider_time).await;
            }
            id.clone()
        }
        None => new_id("pay"),
    };
    let now = state.clock.now_ms();
    let record = PaymentRecord {
        id,
        provider: new.provider,
        provider_reference: None,
        provider_authorization: None,
        provider_capture: None,
        status: PaymentStatus::RequiresPaymentMethod,
        money,
        captured_minor: 0,
        refunded_minor: 0,
        disputed_minor: 0,
        capture_mode: new.capture_mode,
        description: new.description.clone(),
        customer_id: new.customer.clone(),
        checkout_session_id: new.checkout_session.clone(),
        payment_link_id: new.payment_link.clone(),
        last_error: None,
        next_action: None,
        payment_method_id: new.payment_method.clone(),
        metadata: new.metadata.clone(),
        created_at: now,
        updated_at: now,
    };
    // The row exists before the provider hears of it: an early webhook finds it, and a crash
    // leaves a trace for reconciliation.
    let mut tx = state.db.begin_write().await?;
    repo::insert(&mut tx, &record, new.cause).await?;
    tx.commit().await?;
    ask_provider(state, &record, new, provider_time).await
}

/// A retry of a creation whose answer the caller never got (a timeout, a 5xx: the
/// `Idempotency-Key` was released), found by the id derived from that key. If the provider's
/// answer never arrived either, the provider's object is looked up by paygate's id, and only if
/// there is none is the provider asked again with the same idempotency key (it then makes the
/// object once); otherwise the payment as it stands is the answer.
async fn resume(
    state: &AppState,
    existing: PaymentRecord,
    new: NewPayment,
    provider_time: &mut std::time::Duration,
) -> Result<Created, ApiError> {
    let same_request = existing.provider == new.provider
        && existing.money == new.money
        && existing.capture_mode == new.capture_mode
        && existing.description == new.description
        && existing.customer_id == new.customer
        && existing.metadata == new.metadata
        && existing.checkout_session_id == new.checkout_session
        && existing.payment_method_id == new.payment_method;
    if !same_request {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was used for a payment with other parameters.",
        ));
    }
    if existing.provider_reference.is_some()
        || existing.status != PaymentStatus::RequiresPaymentMethod
    {
        return Ok(Created {
            payment: existing,
            client_secret: None,
        });
    }
    // The object may exist although its answer was lost, and asking again with the same key can
    // only replay what the provider saved, a 500 included (Stripe): look it up first.
    let provider = state.providers.require(existing.provider)?;
    let asked = std::time::Instant::now();
    let found = provider
        .find_payment(&existing.id, existing.created_at)
        .await;
    *provider_time += asked.elapsed();
    match found {
        Ok(Some(found)) => {
            let client_secret = found.client_secret.clone();
            let applied = lifecycle::apply(
                state,
                &existing.id,
                Update::from(found),
                new.cause,
                json!({ "operation": "create", "found": true }),
            )
            .await?;
            return Ok(Created {
                payment: applied.payment,
                client_secret,
            });
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(payment = %existing.id, error = %e, "looking up a lost creation failed; asking again")
        }
    }
    ask_provider(state, &existing, new, provider_time).await
}

/// Asks the provider to make the payment (its idempotency key comes from the payment's id, so
/// asking again cannot make a second one; past a key that replays a saved failure, see
/// `providers::saved_failures`) and records the answer.
async fn ask_provider(
    state: &AppState,
    record: &PaymentRecord,
    new: NewPayment,
    provider_time: &mut std::time::Duration,
) -> Result<Created, ApiError> {
    let provider = state.providers.require(new.provider)?;
    let mut request = provider_request(state, record).await?;
    request.return_url = new.return_url;
    let asked = std::time::Instant::now();
    let result = crate::providers::saved_failures::create_payment(
        provider.as_ref(),
        &request,
        record.created_at,
    )
    .await;
    *provider_time += asked.elapsed();

    match result {
        Ok(answer) => {
            let client_secret = answer.client_secret.clone();
            let applied = lifecycle::apply(
                state,
                &record.id,
                Update::from(answer),
                new.cause,
                json!({ "operation": "create" }),
            )
            .await?;
            Ok(Created {
                payment: applied.payment,
                client_secret,
            })
        }
        Err(e) => {
            // The outcome at the provider may be unknown (timeout): the row stays open and the
            // timeline says what happened; reconciliation settles it.
            if record.payment_method_id.is_some() {
                if let Some(created) = declined_off_session(state, record, &e, new.cause).await? {
                    return Ok(created);
                }
            }
            lifecycle::record_failure(state, &record.id, "create", &e, new.cause).await?;
            Err(ApiError::from(e))
        }
    }
}

/// An off-session charge the provider declined: Stripe made the PaymentIntent and answered 402,
/// so the PaymentIntent is found by paygate's id and recorded (its reference, and for a bank
/// that wants the customer to authenticate, the `requires_action` with paygate's page, which
/// is then the answer: the payment is open, not refused).
async fn declined_off_session(
    state: &AppState,
    payment: &PaymentRecord,
    error: &crate::providers::ProviderError,
    cause: Cause,
) -> Result<Option<Created>, ApiError> {
    if !matches!(error, crate::providers::ProviderError::Declined { .. }) {
        return Ok(None);
    }
    let provider = state.providers.require(payment.provider)?;
    let found = match provider.find_payment(&payment.id, payment.created_at).await {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::warn!(payment = %payment.id, error = %e, "could not read back a declined off-session charge");
            return Ok(None);
        }
    };
    let applied = lifecycle::apply(
        state,
        &payment.id,
        Update::from(found),
        cause,
        json!({ "operation": "create", "found": true }),
    )
    .await?;
    // Any other decline is then recorded (and answered) as a decline; the same error twice
    // tells the merchant once.
    Ok(
        (applied.payment.status == PaymentStatus::RequiresAction).then_some(Created {
            payment: applied.payment,
            client_secret: None,
        }),
    )
}

/// What the provider is asked to make for a stored payment: the same for the first request and
/// for every later one under its key (a retry, reconciliation), so the provider's idempotency
/// check sees one request.
pub async fn provider_request(
    state: &AppState,
    record: &PaymentRecord,
) -> Result<CreateRequest, ApiError> {
    let session = match &record.checkout_session_id {
        Some(session) => crate::checkout::repo::get(&state.db, session).await?,
        None => None,
    };
    // The Stripe customer goes with the payments saved cards need: an off-session charge, and
    // a checkout for a customer (which may save the card, or pay with a saved one). Other
    // payments are made as before, so a creation retried under its key is the same request.
    let for_saved_cards = record.payment_method_id.is_some()
        || session.as_ref().is_some_and(|s| s.customer_id.is_some());
    let stripe_customer = match (&record.customer_id, record.provider) {
        (Some(customer), ProviderName::Stripe) if for_saved_cards => {
            crate::customers::repo::get(&state.db, &state.cipher, customer)
                .await?
                .and_then(|c| c.stripe_customer_id)
        }
        _ => None,
    };
    if record.payment_method_id.is_some() && stripe_customer.is_none() {
        return Err(ApiError::invalid(
            "customer",
            "The customer has no Stripe customer to charge a saved card for.",
        ));
    }
    let setup_future_usage = session
        .as_ref()
        .is_some_and(|s| s.save_payment_method == Some(SavePaymentMethod::Always));
    Ok(CreateRequest {
        payment_id: record.id.clone(),
        money: record.money,
        capture_mode: record.capture_mode,
        description: record.description.clone(),
        metadata: record.metadata.clone(),
        return_url: None,
        stripe_customer,
        setup_future_usage: setup_future_usage && record.provider == ProviderName::Stripe,
        off_session_payment_method: record.payment_method_id.clone(),
        idempotency_key: format!("{}-create", record.id),
    })
}
