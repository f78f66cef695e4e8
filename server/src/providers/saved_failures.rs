//! Creations whose idempotency key the provider answers with a saved failure.
//!
//! Stripe saves "the resulting status code and body of the first request made for any given
//! idempotency key, regardless of whether it succeeds or fails. Subsequent requests with the same
//! key return the same result, including 500 errors" (docs.stripe.com/api/idempotent_requests),
//! and marks such answers `Idempotent-Replayed: true`. A payment or refund whose first request
//! failed that way can never be made with its key. So, once the key has answered a saved failure:
//! the object is looked up by paygate's own id (the request may have made it before failing:
//! the lookup is a list, which is read-after-write), and only if there is none is it asked for
//! with the next key of a fixed sequence: `<key>`, `<key>-2`, `<key>-3`. Every caller (a retry,
//! another instance, reconciliation) walks the same sequence from its start, so two of them
//! asking at once use the same key and Stripe makes one object; a key that replays a saved
//! failure is passed over, and one that made an object is found by the lookup before the next
//! key is tried. A provider that can answer `SavedFailure` must implement the lookups.

use super::{
    CreateRequest, PaymentProvider, ProviderError, ProviderPayment, ProviderRefund, RefundRequest,
};

/// How many keys of the sequence are tried before giving up (the outcome stays unknown).
const KEYS: u32 = 3;

fn nth_key(base: &str, n: u32) -> String {
    if n == 1 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

fn exhausted() -> ProviderError {
    ProviderError::Unavailable {
        message: format!("the provider answered saved failures to {KEYS} idempotency keys"),
    }
}

/// Makes the payment `request` describes once, past saved failures (see the module).
/// `created_ms` is the payment's creation time, for the lookup.
pub async fn create_payment(
    provider: &dyn PaymentProvider,
    request: &CreateRequest,
    created_ms: i64,
) -> Result<ProviderPayment, ProviderError> {
    let mut request = request.clone();
    let base = request.idempotency_key.clone();
    for n in 1..=KEYS {
        request.idempotency_key = nth_key(&base, n);
        match provider.create_payment(&request).await {
            Err(ProviderError::SavedFailure { message }) => {
                tracing::warn!(payment = %request.payment_id, key = n, %message, "the creation's key answers a saved failure; looking the payment up");
                if let Some(found) = provider
                    .find_payment(&request.payment_id, created_ms)
                    .await?
                {
                    return Ok(found);
                }
            }
            other => return other,
        }
    }
    Err(exhausted())
}

/// The same for a refund.
pub async fn refund(
    provider: &dyn PaymentProvider,
    request: &RefundRequest,
) -> Result<ProviderRefund, ProviderError> {
    let mut request = request.clone();
    let base = request.idempotency_key.clone();
    for n in 1..=KEYS {
        request.idempotency_key = nth_key(&base, n);
        match provider.refund(&request).await {
            Err(ProviderError::SavedFailure { message }) => {
                tracing::warn!(refund = %request.refund_id, key = n, %message, "the refund's key answers a saved failure; looking the refund up");
                if let Some(found) = provider
                    .find_refund(&request.payment, &request.refund_id)
                    .await?
                {
                    return Ok(found);
                }
            }
            other => return other,
        }
    }
    Err(exhausted())
}

#[cfg(test)]
mod tests {
    use super::nth_key;

    #[test]
    fn the_sequence_starts_with_the_key_itself() {
        assert_eq!(nth_key("pay_1-create", 1), "pay_1-create");
        assert_eq!(nth_key("pay_1-create", 2), "pay_1-create-2");
        assert_eq!(nth_key("pay_1-create", 3), "pay_1-create-3");
    }
}
