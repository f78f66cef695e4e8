//! Opening a checkout session: the server decides the amount (from `amount` or by summing the
//! line items) and which providers can take it.

use super::record::SessionRecord;
use super::repo;
use crate::db::Tx;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::providers::providers_for_amount;
use crate::state::AppState;
use crate::validate;
use shared::api::{
    Amount, CaptureMode, CheckoutMode, CheckoutSessionStatus, CreateCheckoutSession, LineItem,
    ProviderName, SavePaymentMethod,
};
use shared::{Currency, Money};

pub const DEFAULT_EXPIRY_SECS: i64 = 24 * 60 * 60;
const MIN_EXPIRY_SECS: i64 = 60;
const MAX_EXPIRY_SECS: i64 = 7 * 24 * 60 * 60;
const MAX_LINE_ITEMS: usize = 100;
const MAX_QUANTITY: i64 = 10_000;

/// The amount to charge and the priced line items.
pub fn price(body: &CreateCheckoutSession) -> Result<(Money, Vec<LineItem>), ApiError> {
    let currency = Currency::from_code(&body.currency)
        .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
    if body.mode == CheckoutMode::Setup {
        // Nothing is charged: the amount is 0 (the currency stays, as Stripe asks for one in
        // setup mode, and names what later payments will likely be in).
        let param = if body.amount.is_some() {
            Some("amount")
        } else if !body.line_items.is_empty() {
            Some("line_items")
        } else {
            None
        };
        if let Some(param) = param {
            return Err(ApiError::invalid(
                param,
                format!("A session in setup mode charges nothing: leave out {param}."),
            ));
        }
        return Ok((Money::zero(currency), Vec::new()));
    }
    let (money, items) = match (&body.amount, body.line_items.is_empty()) {
        (Some(_), false) => {
            return Err(ApiError::invalid(
                "amount",
                "Send either amount or line_items, not both.",
            ))
        }
        (None, true) => return Err(ApiError::invalid("amount", "Send amount or line_items.")),
        (Some(amount), true) => (
            Money::parse(amount, currency)
                .map_err(|e| ApiError::invalid("amount", e.to_string()))?,
            Vec::new(),
        ),
        (None, false) => {
            if body.line_items.len() > MAX_LINE_ITEMS {
                return Err(ApiError::invalid(
                    "line_items",
                    format!("At most {MAX_LINE_ITEMS} line items."),
                ));
            }
            let mut total = Money::zero(currency);
            let mut items = Vec::with_capacity(body.line_items.len());
            for (i, item) in body.line_items.iter().enumerate() {
                let param = |f: &str| format!("line_items[{i}][{f}]");
                validate::optional_text(&param("name"), Some(&item.name), 200)?;
                if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                    return Err(ApiError::invalid(
                        param("quantity"),
                        format!("quantity must be between 1 and {MAX_QUANTITY}."),
                    ));
                }
                let unit = Money::parse(&item.unit_amount, currency)
                    .map_err(|e| ApiError::invalid(param("unit_amount"), e.to_string()))?;
                let line = unit
                    .checked_mul(item.quantity)
                    .map_err(|e| ApiError::invalid(param("quantity"), e.to_string()))?;
                total = total
                    .checked_add(line)
                    .map_err(|e| ApiError::invalid("line_items", e.to_string()))?;
                items.push(LineItem {
                    name: item.name.trim().to_string(),
                    quantity: item.quantity,
                    unit_amount: Amount::from(unit),
                    total: Amount::from(line),
                });
            }
            (total, items)
        }
    };
    if money.is_zero() {
        return Err(ApiError::invalid(
            "amount",
            "The amount must be greater than zero.",
        ));
    }
    Ok((money, items))
}

/// Creates a session. `id`: the id derived from the request's `Idempotency-Key`, if it had one.
/// A request whose instance died after the session was written, but before its answer was
/// stored, runs again once the key's lock runs out; it then finds the session it made instead
/// of making a second one (the key's fingerprint guarantees the same body).
pub async fn create(
    state: &AppState,
    body: CreateCheckoutSession,
    id: Option<String>,
) -> Result<SessionRecord, ApiError> {
    match begin_create(state, body, id).await? {
        Created::New(record, tx) => {
            tx.commit().await?;
            Ok(record)
        }
        Created::Existing(record) => Ok(record),
    }
}

/// A session written in a transaction not yet committed (the caller may add to it: the
/// request's stored answer), or the one a request with the same key already made.
pub enum Created {
    New(SessionRecord, Tx),
    Existing(SessionRecord),
}

/// [`create`] up to the commit, which is the caller's.
pub async fn begin_create(
    state: &AppState,
    body: CreateCheckoutSession,
    id: Option<String>,
) -> Result<Created, ApiError> {
    if let Some(id) = &id {
        if let Some(existing) = repo::get(&state.db, id).await? {
            return Ok(Created::Existing(existing));
        }
    }
    let (record, email) = new_record(state, body, id)?;
    check_customer(state, &record).await?;
    let mut tx = state.db.begin_write().await?;
    let inserted = repo::insert(
        &mut tx,
        &record,
        email.as_deref(),
        &state.cipher,
        &state.config.public_url,
    )
    .await;
    match inserted {
        Ok(()) => {}
        // The same keyed request, run twice at once after its lock ran out: the first wins.
        Err(e) if crate::db::is_unique_violation(&e) => {
            drop(tx);
            return repo::get(&state.db, &record.id)
                .await?
                .map(Created::Existing)
                .ok_or_else(|| ApiError::internal("checkout session vanished"));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Created::New(record, tx))
}

/// The session's customer exists and is mirrored at Stripe: a customer whose creation at
/// Stripe never finished has no cards and could not be given one. (What [`new_record`] cannot
/// check without the database.)
pub async fn check_customer(state: &AppState, record: &SessionRecord) -> Result<(), ApiError> {
    let Some(customer) = &record.customer_id else {
        return Ok(());
    };
    let mirrored = crate::customers::repo::get(&state.db, &state.cipher, customer)
        .await?
        .ok_or_else(|| ApiError::not_found("customer").with_param("customer"))?
        .stripe_customer_id
        .is_some();
    if !mirrored {
        return Err(ApiError::invalid(
            "customer",
            "This customer has no Stripe customer yet; create it again.",
        ));
    }
    Ok(())
}

/// A new session from a request (validated, priced, not stored) and its customer's email;
/// `id` if derived from an `Idempotency-Key`, else a fresh one.
pub fn new_record(
    state: &AppState,
    body: CreateCheckoutSession,
    id: Option<String>,
) -> Result<(SessionRecord, Option<String>), ApiError> {
    let (money, line_items) = price(&body)?;
    validate::optional_text("description", body.description.as_deref(), 1000)?;
    validate::session_metadata(&body.metadata)?;
    if let Some(email) = &body.customer_email {
        validate::email("customer_email", email)?;
    }
    for (param, url) in [
        ("success_url", &body.success_url),
        ("cancel_url", &body.cancel_url),
    ] {
        if let Some(url) = url {
            validate::http_url(param, url)?;
        }
    }
    let expires_in = body.expires_in.unwrap_or(DEFAULT_EXPIRY_SECS);
    if !(MIN_EXPIRY_SECS..=MAX_EXPIRY_SECS).contains(&expires_in) {
        return Err(ApiError::invalid(
            "expires_in",
            format!("expires_in must be between {MIN_EXPIRY_SECS} and {MAX_EXPIRY_SECS} seconds."),
        ));
    }

    let enabled = &state.config.providers;
    let allowed = match &body.providers {
        Some(list) if list.is_empty() => {
            return Err(ApiError::invalid(
                "providers",
                "Allow at least one provider.",
            ))
        }
        Some(list) => {
            if let Some(p) = list.iter().find(|p| !enabled.contains(p)) {
                return Err(ApiError::bad_request(
                    "provider_not_enabled",
                    format!("{} is not enabled on this gateway.", p.display_name()),
                )
                .with_param("providers"));
            }
            let mut list = list.clone();
            list.dedup();
            list
        }
        None => enabled.clone(),
    };
    let allowed = saving_providers(&body, allowed)?;
    let (usable, refused) = if body.mode == CheckoutMode::Setup {
        (setup_providers(&body, &allowed)?, Vec::new())
    } else {
        providers_for_amount(&allowed, money)
    };
    if usable.is_empty() {
        let reasons = refused
            .iter()
            .map(|(_, e)| e.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        return Err(ApiError::bad_request(
            "amount_not_supported",
            format!(
                "No allowed provider can take {}: {reasons}",
                money.display()
            ),
        )
        .with_param("amount"));
    }

    let now = state.clock.now_ms();
    let record = SessionRecord {
        id: id.unwrap_or_else(|| new_id("cs")),
        status: CheckoutSessionStatus::Open,
        money,
        line_items,
        description: body.description.map(|d| d.trim().to_string()),
        customer_email_ciphertext: None,
        metadata: body.metadata,
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        providers: usable,
        capture_mode: body.capture_mode,
        expires_at: now + expires_in * 1000,
        completed_payment_id: None,
        payment_link_id: None,
        customer_id: body.customer,
        save_payment_method: match body.mode {
            CheckoutMode::Setup => Some(SavePaymentMethod::Always),
            CheckoutMode::Payment => body.save_payment_method,
        },
        mode: body.mode,
        setup_intent_id: None,
        setup_payment_method_id: None,
        created_at: now,
    };
    let email = body.customer_email.as_deref().map(|e| e.trim().to_string());
    Ok((record, email))
}

/// A setup session saves a card for its customer at Stripe: it needs both, charges nothing (so
/// nothing is captured later), and saves whatever the customer enters.
fn setup_providers(
    body: &CreateCheckoutSession,
    allowed: &[ProviderName],
) -> Result<Vec<ProviderName>, ApiError> {
    if body.customer.is_none() {
        return Err(ApiError::invalid(
            "customer",
            "A session in setup mode saves a card for a customer: send customer.",
        ));
    }
    if body.save_payment_method == Some(SavePaymentMethod::Optional) {
        return Err(ApiError::invalid(
            "save_payment_method",
            "A session in setup mode always saves the card; leave out save_payment_method or send always.",
        ));
    }
    if body.capture_mode == CaptureMode::Manual {
        return Err(ApiError::invalid(
            "capture_mode",
            "A session in setup mode charges nothing, so there is nothing to capture.",
        ));
    }
    if body
        .providers
        .as_ref()
        .is_some_and(|p| p.contains(&ProviderName::Paypal))
    {
        return Err(ApiError::invalid(
            "providers",
            "A session in setup mode saves a card at Stripe; PayPal cannot be offered.",
        ));
    }
    // `saving_providers` has checked that Stripe is among them.
    debug_assert!(allowed.contains(&ProviderName::Stripe));
    Ok(vec![ProviderName::Stripe])
}

/// The providers a session for a customer may offer. Cards are saved at Stripe, so a session
/// for a customer needs Stripe; one that always saves the card offers only Stripe (PayPal
/// cannot save here, as Stripe Checkout hides methods that cannot be set up for later), and
/// saving needs a customer to save for.
fn saving_providers(
    body: &CreateCheckoutSession,
    allowed: Vec<ProviderName>,
) -> Result<Vec<ProviderName>, ApiError> {
    if let Some(customer) = &body.customer {
        if !crate::ids::has_shape(customer, "cus") {
            return Err(ApiError::invalid(
                "customer",
                "customer must be a paygate customer id (cus_...).",
            ));
        }
        if !allowed.contains(&ProviderName::Stripe) {
            return Err(ApiError::invalid(
                "customer",
                "A session for a customer needs Stripe, where their cards are kept.",
            ));
        }
    }
    match body.save_payment_method {
        None => Ok(allowed),
        Some(_) if body.customer.is_none() => Err(ApiError::invalid(
            "save_payment_method",
            "A card is saved for a customer: send customer too.",
        )),
        Some(SavePaymentMethod::Always) => Ok(vec![ProviderName::Stripe]),
        Some(SavePaymentMethod::Optional) => Ok(allowed),
    }
}
