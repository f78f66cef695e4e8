use crate::db::Row;
use shared::api::{
    Amount, CaptureMode, CompletedSessions, CustomAmount, LineItem, Metadata, PaymentLink,
    PaymentLinkRestrictions, PaymentLinkUnavailable, ProviderName,
};
use shared::{Currency, Money};
use sqlx::Row as _;

/// What the customer pays through a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Price {
    /// The same amount for everyone (`line_items` empty, or summing to it).
    Fixed(Money),
    /// The customer chooses within `minimum..=maximum`; the form starts at `preset`.
    Custom {
        minimum: Money,
        maximum: Money,
        preset: Option<Money>,
    },
}

/// A `payment_links` row.
#[derive(Debug, Clone)]
pub struct LinkRecord {
    pub id: String,
    pub active: bool,
    pub currency: Currency,
    pub price: Price,
    pub line_items: Vec<LineItem>,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// The providers the merchant allowed; empty: every enabled provider.
    pub providers: Vec<ProviderName>,
    pub capture_mode: CaptureMode,
    pub completed_limit: Option<i64>,
    /// Unix ms.
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub const COLUMNS: &str = "id, active, currency, amount_minor, line_items, custom_minimum_minor, \
    custom_maximum_minor, custom_preset_minor, description, metadata, success_url, cancel_url, \
    providers, capture_mode, completed_limit, expires_at, created_at, updated_at";

fn corrupt(column: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("payment_links.{column} holds an unexpected value").into())
}

impl LinkRecord {
    pub fn from_row(row: &Row) -> Result<LinkRecord, sqlx::Error> {
        let currency: String = row.try_get("currency")?;
        let currency = Currency::from_code(&currency).map_err(|_| corrupt("currency"))?;
        let money = |minor: i64| Money::from_minor(minor, currency);
        let amount: Option<i64> = row.try_get("amount_minor")?;
        let minimum: Option<i64> = row.try_get("custom_minimum_minor")?;
        let maximum: Option<i64> = row.try_get("custom_maximum_minor")?;
        let preset: Option<i64> = row.try_get("custom_preset_minor")?;
        let price = match (amount, minimum, maximum) {
            (Some(amount), None, _) => Price::Fixed(money(amount)),
            (None, Some(minimum), Some(maximum)) => Price::Custom {
                minimum: money(minimum),
                maximum: money(maximum),
                preset: preset.map(money),
            },
            _ => return Err(corrupt("amount_minor")),
        };
        let active: i64 = row.try_get("active")?;
        let line_items: String = row.try_get("line_items")?;
        let metadata: String = row.try_get("metadata")?;
        let providers: String = row.try_get("providers")?;
        let capture_mode: String = row.try_get("capture_mode")?;
        Ok(LinkRecord {
            id: row.try_get("id")?,
            active: active == 1,
            currency,
            price,
            line_items: serde_json::from_str(&line_items).map_err(|_| corrupt("line_items"))?,
            description: row.try_get("description")?,
            metadata: serde_json::from_str(&metadata).map_err(|_| corrupt("metadata"))?,
            success_url: row.try_get("success_url")?,
            cancel_url: row.try_get("cancel_url")?,
            providers: crate::providers::parse_list(&providers)
                .ok_or_else(|| corrupt("providers"))?,
            capture_mode: CaptureMode::parse(&capture_mode)
                .ok_or_else(|| corrupt("capture_mode"))?,
            completed_limit: row.try_get("completed_limit")?,
            expires_at: row.try_get("expires_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// Why the link opens no session at `now_ms` with `completed` sessions paid; `None`: it
    /// does. (The limit's places held by open sessions are checked when a session is opened.)
    pub fn unavailable(&self, now_ms: i64, completed: i64) -> Option<PaymentLinkUnavailable> {
        if !self.active {
            Some(PaymentLinkUnavailable::Inactive)
        } else if self.expires_at.is_some_and(|at| now_ms >= at) {
            Some(PaymentLinkUnavailable::Expired)
        } else if self.completed_limit.is_some_and(|limit| completed >= limit) {
            Some(PaymentLinkUnavailable::LimitReached)
        } else {
            None
        }
    }

    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/pay/{}", self.id)
    }

    /// The link as the API and its events show it, with `completed` sessions paid so far.
    pub fn to_api(&self, public_url: &str, now_ms: i64, completed: i64) -> PaymentLink {
        let unavailable = self.unavailable(now_ms, completed);
        let (amount, custom_amount) = match &self.price {
            Price::Fixed(money) => (Some(Amount::from(*money)), None),
            Price::Custom {
                minimum,
                maximum,
                preset,
            } => (
                None,
                Some(CustomAmount {
                    minimum: Amount::from(*minimum),
                    maximum: Amount::from(*maximum),
                    preset: preset.map(Amount::from),
                }),
            ),
        };
        PaymentLink {
            id: self.id.clone(),
            active: self.active,
            available: unavailable.is_none(),
            unavailable_reason: unavailable,
            url: self.url(public_url),
            currency: self.currency.code().to_string(),
            amount,
            line_items: self.line_items.clone(),
            custom_amount,
            description: self.description.clone(),
            metadata: self.metadata.clone(),
            success_url: self.success_url.clone(),
            cancel_url: self.cancel_url.clone(),
            providers: self.providers.clone(),
            capture_mode: self.capture_mode,
            completed_sessions: completed,
            restrictions: self.completed_limit.map(|limit| PaymentLinkRestrictions {
                completed_sessions: CompletedSessions {
                    count: completed,
                    limit,
                },
            }),
            expires_at: self.expires_at.map(|at| at.div_euclid(1000)),
            created: self.created_at.div_euclid(1000),
            updated: self.updated_at.div_euclid(1000),
        }
    }
}
