use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// An amount as responses carry it: the exact decimal string, the currency, and the integer
/// minor units (`{"amount": "19.99", "currency": "USD", "amount_minor": 1999}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amount {
    /// Decimal string with exactly the currency's number of fraction digits.
    #[cfg_attr(feature = "openapi", schema(example = "19.99"))]
    pub amount: String,
    pub currency: Currency,
    /// The same amount in the currency's minor units (ISO 4217 exponent).
    #[cfg_attr(feature = "openapi", schema(example = 1999))]
    pub amount_minor: i64,
}

impl From<Money> for Amount {
    fn from(money: Money) -> Self {
        Amount {
            amount: money.to_decimal_string(),
            currency: money.currency(),
            amount_minor: money.minor(),
        }
    }
}

impl Amount {
    /// The [`Money`] this amount stands for. `amount_minor` is authoritative.
    pub fn money(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency)
    }
}
