//! Which provider can take which amount. The rules themselves live in `shared::providers` (one
//! place per provider); this only dispatches by name.

use shared::api::ProviderName;
use shared::providers::{paypal, stripe, ProviderAmountError};
use shared::Money;

pub fn check_amount(provider: ProviderName, money: Money) -> Result<(), ProviderAmountError> {
    match provider {
        ProviderName::Stripe => stripe::check_chargeable(money).map(|_| ()),
        ProviderName::Paypal => paypal::check_chargeable(money).map(|_| ()),
    }
}

/// Splits `candidates` into those that can take `money` and the reasons the others cannot.
pub fn providers_for_amount(
    candidates: &[ProviderName],
    money: Money,
) -> (Vec<ProviderName>, Vec<(ProviderName, ProviderAmountError)>) {
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for &p in candidates {
        match check_amount(p, money) {
            Ok(()) => ok.push(p),
            Err(e) => refused.push((p, e)),
        }
    }
    (ok, refused)
}
