//! Saved payment methods: cards a customer saved at Stripe in a checkout (with
//! `setup_future_usage: off_session`), listed and removed through the merchant API and charged
//! later without the customer (`POST /v1/payments` with `off_session`). paygate keeps what can
//! be shown (brand, last four digits, expiry) and whose card it is; Stripe keeps the card.
//!
//! A card is recorded when paygate sees it attached: at once when the widget's checkout that
//! saved it completes, and from Stripe's `payment_method.*` events (read back, so the order in
//! which `attached` and `detached` arrive does not matter). Each is recorded once.

pub mod repo;
pub mod routes;

use crate::db::Tx;
use crate::error::ApiError;
use crate::events;
use crate::inbox::effect::Applied;
use crate::providers::CardFacts;
use crate::state::AppState;
use repo::SavedCard;
use serde_json::json;

pub use routes::router;

/// Records `card`, attached at Stripe to the Stripe customer of paygate's `customer_id`, with its
/// `payment_method.attached` event (once: a card already recorded is left as it is).
pub async fn record_attached(
    tx: &mut Tx,
    customer_id: &str,
    card: &CardFacts,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let saved = SavedCard {
        id: card.id.clone(),
        customer_id: customer_id.to_string(),
        brand: card.brand.clone(),
        last4: card.last4.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        created_at: now_ms,
        detached_at: None,
    };
    let inserted = repo::insert(tx, &saved).await?;
    if !inserted {
        // Known already: Stripe may have a new expiry for it (`payment_method.updated`, or
        // `payment_method.automatically_updated` when the bank sent new details).
        return repo::update_details(tx, &saved).await;
    }
    {
        events::record(
            tx,
            "payment_method.attached",
            &saved.id,
            &json!(saved.to_api()),
            now_ms,
        )
        .await?;
    }
    Ok(inserted)
}

/// Marks the card detached, with its `payment_method.detached` event (once).
pub async fn record_detached(
    tx: &mut Tx,
    card_id: &str,
    now_ms: i64,
) -> Result<Option<SavedCard>, sqlx::Error> {
    let Some(detached) = repo::mark_detached(tx, card_id, now_ms).await? else {
        return Ok(None);
    };
    events::record(
        tx,
        "payment_method.detached",
        &detached.id,
        &json!(detached.to_api()),
        now_ms,
    )
    .await?;
    Ok(Some(detached))
}

/// A card as Stripe has it now, from an event: recorded for the paygate customer its Stripe
/// customer mirrors, or marked detached when it has none. A card of a Stripe customer paygate
/// did not make is not paygate's and is left alone.
pub async fn apply_provider_card(
    state: &AppState,
    tx: &mut Tx,
    card: &CardFacts,
) -> Result<Applied, sqlx::Error> {
    let now = state.clock.now_ms();
    let changed = match &card.provider_customer {
        Some(stripe_customer) => {
            match crate::customers::repo::id_for_stripe_customer(tx, stripe_customer).await? {
                Some(customer) => record_attached(tx, &customer, card, now).await?,
                None => false,
            }
        }
        None => record_detached(tx, &card.id, now).await?.is_some(),
    };
    Ok(Applied::done(changed, None))
}

/// After a checkout's payment succeeded: the card it was paid with, if Stripe attached it to the
/// session's customer (the customer chose to save it, or the merchant always saves), is
/// recorded now rather than when Stripe's event arrives.
pub async fn record_from_payment(
    state: &AppState,
    customer_id: &str,
    payment_method: &str,
) -> Result<(), ApiError> {
    let stripe = state.providers.require_stripe("Saved payment methods")?;
    let Some(customer) = crate::customers::repo::get(&state.db, &state.cipher, customer_id).await?
    else {
        return Ok(());
    };
    let Some(card) = stripe.retrieve_card(payment_method).await? else {
        return Ok(());
    };
    if card.provider_customer.is_none() || card.provider_customer != customer.stripe_customer_id {
        return Ok(()); // not saved (the customer left the box unticked)
    }
    let mut tx = state.db.begin_write().await?;
    record_attached(&mut tx, customer_id, &card, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(())
}
