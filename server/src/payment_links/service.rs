//! Making a link from the merchant's request, and opening a checkout session from a link for
//! one customer. Both go through the checkout session's own validation
//! (`checkout::service::new_record`), so a link can only hold what a session accepts, and every
//! session it opens is priced by the server exactly as a session made through the API.

use super::record::{LinkRecord, Price};
use super::repo;
use crate::checkout::record::SessionRecord;
use crate::checkout::{self, service::DEFAULT_EXPIRY_SECS};
use crate::error::ApiError;
use crate::ids::new_id;
use crate::state::AppState;
use axum::http::StatusCode;
use shared::api::{
    CreateCheckoutSession, CreatePaymentLink, LineItemRequest, PaymentLinkUnavailable,
};
use shared::{Currency, Money};

/// A link's limit: at most this many paid sessions.
pub const MAX_COMPLETED_LIMIT: i64 = 1_000_000;
/// How far ahead a link's expiry may be.
const MAX_LINK_LIFETIME_SECS: i64 = 366 * 24 * 60 * 60;
/// A session opened from a link with a limit holds one of its places until it is paid or
/// expires, so it expires sooner than other sessions: an abandoned visit gives its place back
/// within half an hour (Stripe's shortest Checkout Session lifetime).
pub const LIMITED_SESSION_SECS: i64 = 30 * 60;
/// When every place left is held by open sessions, the customer is asked to come back after
/// about this long.
const BUSY_RETRY_SECS: u64 = 60;

/// The session request a visit to `link` makes; `chosen`: the customer's amount for a link
/// with a custom amount (a decimal string, checked here against the bounds).
fn session_request(
    link: &LinkRecord,
    chosen: Option<&str>,
) -> Result<CreateCheckoutSession, ApiError> {
    let amount = match &link.price {
        Price::Fixed(money) if link.line_items.is_empty() => Some(money.to_decimal_string()),
        Price::Fixed(_) => None,
        Price::Custom {
            minimum, maximum, ..
        } => {
            let text = chosen
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::invalid("amount", "Enter the amount to pay."))?;
            let money = Money::parse(text, link.currency)
                .map_err(|e| ApiError::invalid("amount", e.to_string()))?;
            if money.minor() < minimum.minor() || money.minor() > maximum.minor() {
                return Err(ApiError::invalid(
                    "amount",
                    format!(
                        "Enter an amount from {} to {}.",
                        minimum.display(),
                        maximum.display()
                    ),
                ));
            }
            Some(money.to_decimal_string())
        }
    };
    Ok(CreateCheckoutSession {
        amount,
        currency: link.currency.code().to_string(),
        line_items: link
            .line_items
            .iter()
            .map(|item| LineItemRequest {
                name: item.name.clone(),
                unit_amount: item.unit_amount.amount.clone(),
                quantity: item.quantity,
            })
            .collect(),
        description: link.description.clone(),
        customer_email: None,
        metadata: link.metadata.clone(),
        success_url: link.success_url.clone(),
        cancel_url: link.cancel_url.clone(),
        providers: (!link.providers.is_empty()).then(|| link.providers.clone()),
        capture_mode: link.capture_mode,
        expires_in: Some(if link.completed_limit.is_some() {
            LIMITED_SESSION_SECS
        } else {
            DEFAULT_EXPIRY_SECS
        }),
        customer: None,
        save_payment_method: None,
        mode: Default::default(),
    })
}

/// Validates a `POST /v1/payment_links` body into a new (unsaved) link.
pub fn new_link(state: &AppState, body: CreatePaymentLink) -> Result<LinkRecord, ApiError> {
    let currency = Currency::from_code(&body.currency)
        .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
    let parse = |param: &str, text: &str| {
        Money::parse(text, currency).map_err(|e| ApiError::invalid(param, e.to_string()))
    };
    let price = match (
        &body.amount,
        body.line_items.is_empty(),
        &body.custom_amount,
    ) {
        (None, true, None) => {
            return Err(ApiError::invalid(
                "amount",
                "Send amount, line_items or custom_amount.",
            ))
        }
        (Some(_), false, _) | (Some(_), _, Some(_)) | (None, false, Some(_)) => {
            return Err(ApiError::invalid(
                "amount",
                "Send only one of amount, line_items and custom_amount.",
            ))
        }
        // Priced below by the session's own rules (line items summed).
        (Some(_), true, None) | (None, false, None) => None,
        (None, true, Some(custom)) => {
            let minimum = parse("custom_amount[minimum]", &custom.minimum)?;
            let maximum = parse("custom_amount[maximum]", &custom.maximum)?;
            if minimum.is_zero() {
                return Err(ApiError::invalid(
                    "custom_amount[minimum]",
                    "The minimum must be greater than zero.",
                ));
            }
            if maximum.minor() < minimum.minor() {
                return Err(ApiError::invalid(
                    "custom_amount[maximum]",
                    "The maximum must not be below the minimum.",
                ));
            }
            let preset = custom
                .preset
                .as_deref()
                .map(|p| parse("custom_amount[preset]", p))
                .transpose()?;
            if preset.is_some_and(|p| p.minor() < minimum.minor() || p.minor() > maximum.minor()) {
                return Err(ApiError::invalid(
                    "custom_amount[preset]",
                    "The preset must lie between the minimum and the maximum.",
                ));
            }
            Some(Price::Custom {
                minimum,
                maximum,
                preset,
            })
        }
    };
    let completed_limit = body
        .restrictions
        .as_ref()
        .map(|r| r.completed_sessions.limit);
    if completed_limit.is_some_and(|l| !(1..=MAX_COMPLETED_LIMIT).contains(&l)) {
        return Err(ApiError::invalid(
            "restrictions[completed_sessions][limit]",
            format!("The limit must be between 1 and {MAX_COMPLETED_LIMIT}."),
        ));
    }
    let now = state.clock.now_ms();
    if let Some(at) = body.expires_at {
        let now_secs = now.div_euclid(1000);
        if at <= now_secs || at > now_secs + MAX_LINK_LIFETIME_SECS {
            return Err(ApiError::invalid(
                "expires_at",
                "expires_at must be a Unix time in the future, at most a year ahead.",
            ));
        }
    }
    let mut link = LinkRecord {
        id: new_id("plink"),
        active: true,
        currency,
        // A fixed price is filled in below, from the session the link would open.
        price: price.clone().unwrap_or(Price::Fixed(Money::zero(currency))),
        line_items: Vec::new(),
        description: body.description.as_deref().map(|d| d.trim().to_string()),
        metadata: body.metadata.clone(),
        success_url: body.success_url.clone(),
        cancel_url: body.cancel_url.clone(),
        providers: body.providers.clone().unwrap_or_default(),
        capture_mode: body.capture_mode,
        completed_limit,
        expires_at: body.expires_at.map(|at| at * 1000),
        created_at: now,
        updated_at: now,
    };
    // Everything else is what a session checks: the same rules, the same errors. A fixed
    // price is taken from the session the link would open; a custom amount's bounds must
    // each be an amount some allowed provider can take.
    let check = |amount: Option<String>, line_items: Vec<LineItemRequest>| {
        checkout::service::new_record(
            state,
            CreateCheckoutSession {
                amount,
                line_items,
                ..blank_request(&body)
            },
            None,
        )
    };
    match &price {
        None => {
            let (session, _) = check(body.amount.clone(), body.line_items.clone())?;
            link.price = Price::Fixed(session.money);
            link.line_items = session.line_items;
        }
        Some(Price::Custom {
            minimum, maximum, ..
        }) => {
            for (param, bound) in [
                ("custom_amount[minimum]", minimum),
                ("custom_amount[maximum]", maximum),
            ] {
                check(Some(bound.to_decimal_string()), Vec::new())
                    .map_err(|e| e.with_param(param))?;
            }
        }
        Some(Price::Fixed(_)) => {}
    }
    if let Some(list) = &body.providers {
        let mut list = list.clone();
        list.dedup();
        link.providers = list;
    }
    Ok(link)
}

/// A session request with the body's common fields, for checking a link before its price is
/// known.
fn blank_request(body: &CreatePaymentLink) -> CreateCheckoutSession {
    CreateCheckoutSession {
        amount: None,
        currency: body.currency.clone(),
        line_items: Vec::new(),
        description: body.description.clone(),
        customer_email: None,
        metadata: body.metadata.clone(),
        success_url: body.success_url.clone(),
        cancel_url: body.cancel_url.clone(),
        providers: body.providers.clone(),
        capture_mode: body.capture_mode,
        expires_in: None,
        customer: None,
        save_payment_method: None,
        mode: Default::default(),
    }
}

/// Why a visit could not open a session, in words for the customer.
pub fn unavailable_message(reason: PaymentLinkUnavailable) -> &'static str {
    match reason {
        PaymentLinkUnavailable::Inactive => "This payment link is no longer active.",
        PaymentLinkUnavailable::Expired => "This payment link has expired.",
        PaymentLinkUnavailable::LimitReached => {
            "This payment link has reached its limit: it takes no more payments."
        }
    }
}

/// Opens a fresh checkout session from the link `id` for one customer (`chosen`: the amount
/// for a link with a custom amount). In one write transaction the link is locked, checked
/// (active, not expired, a place left under its limit) and the session with its
/// `checkout.session.created` event written; so a limit is never exceeded however many
/// customers arrive at once.
pub async fn open_session(
    state: &AppState,
    id: &str,
    chosen: Option<&str>,
) -> Result<SessionRecord, ApiError> {
    let link = repo::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment link"))?;
    // Priced and validated before the transaction: nothing slow happens under the lock.
    let (mut session, _) =
        checkout::service::new_record(state, session_request(&link, chosen)?, None)?;
    session.payment_link_id = Some(link.id.clone());

    let now = state.clock.now_ms();
    let mut tx = state.db.begin_write().await?;
    let link = repo::get_for_update(&state.db, &mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment link"))?;
    let taken = repo::places_taken(&mut tx, &link.id, now).await?;
    if let Some(reason) = link.unavailable(now, taken.paid) {
        return Err(ApiError::new(
            StatusCode::GONE,
            "payment_link_unavailable",
            unavailable_message(reason),
        ));
    }
    if link
        .completed_limit
        .is_some_and(|limit| taken.paid + taken.open >= limit)
    {
        let mut busy = ApiError::conflict(
            "payment_link_busy",
            "Every remaining place is held by a customer who is paying now. Try again in a few minutes.",
        );
        busy.retry_after = Some(BUSY_RETRY_SECS);
        return Err(busy);
    }
    checkout::repo::insert(
        &mut tx,
        &session,
        None,
        &state.cipher,
        &state.config.public_url,
    )
    .await?;
    tx.commit().await?;
    Ok(session)
}
