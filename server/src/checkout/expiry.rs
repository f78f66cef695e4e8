//! Expired sessions accept nothing, and what they opened at the providers is given up: open
//! PaymentIntents are canceled, open PayPal orders voided. Run from the reconciliation loop.

use crate::payments::actions::{self, Action};
use crate::payments::record::COLUMNS;
use crate::payments::{Cause, PaymentRecord};
use crate::state::AppState;
use sqlx::Row;

/// Marks open sessions past their expiry as expired and cancels their open payments. Returns
/// how many sessions expired.
pub async fn sweep(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let ids: Vec<String> = sqlx::query(
        "SELECT id FROM checkout_sessions WHERE status = 'open' AND expires_at <= $1 LIMIT 100",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    let mut expired = 0;
    for id in ids {
        let done = sqlx::query(
            "UPDATE checkout_sessions SET status = 'expired', updated_at = $1 WHERE id = $2 AND status = 'open'",
        )
        .bind(now)
        .bind(&id)
        .execute(&state.db.pool)
        .await?;
        if done.rows_affected() == 0 {
            continue;
        }
        expired += 1;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE checkout_session_id = $1 AND status IN \
             ('requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture')"
        ))
        .bind(&id)
        .fetch_all(&state.db.pool)
        .await?;
        for row in rows {
            let payment = PaymentRecord::from_row(&row)?;
            if payment.provider_reference.is_none() {
                continue;
            }
            if let Err(e) =
                actions::run(state, &payment.id, Action::Cancel, Cause::Reconciliation).await
            {
                tracing::warn!(payment = %payment.id, error = %e, "could not cancel the payment of an expired session");
            }
        }
    }
    Ok(expired)
}
