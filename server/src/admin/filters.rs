//! The history filters (`HistoryQuery`), checked once and turned into SQL over `payments p`, or
//! over the daily rollup when every filter is one the rollup keeps.

use super::days;
use crate::crypto::DataCipher;
use crate::error::ApiError;
use shared::api::admin::HistoryQuery;
use shared::api::{PaymentStatus, ProviderName};
use shared::{Currency, Money};

/// A query under construction with `$n` placeholders and their values, in order.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Adds a value and returns its placeholder.
    pub fn param(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for b in &self.binds {
            q = match b {
                Bind::Text(t) => q.bind(t.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub status: Option<PaymentStatus>,
    pub provider: Option<ProviderName>,
    pub currency: Option<Currency>,
    pub from_day: Option<i64>,
    pub to_day: Option<i64>,
    pub amount_min: Option<i64>,
    pub amount_max: Option<i64>,
    /// The email's blind index under each configured data key (a rotation may be half done).
    pub email_indexes: Option<Vec<String>>,
    pub search: Option<String>,
    /// Only payments of sessions opened from this payment link.
    pub payment_link: Option<String>,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Filters {
    pub fn parse(q: &HistoryQuery, cipher: &DataCipher) -> Result<Filters, ApiError> {
        let currency = present(&q.currency)
            .map(|c| {
                Currency::from_code(c).map_err(|e| ApiError::invalid("currency", e.to_string()))
            })
            .transpose()?;
        let from_day = present(&q.from)
            .map(|d| days::parse(d, "from"))
            .transpose()?;
        let to_day = present(&q.to).map(|d| days::parse(d, "to")).transpose()?;
        if let (Some(from), Some(to)) = (from_day, to_day) {
            if from > to {
                return Err(ApiError::invalid("from", "from must not be after to."));
            }
        }
        let amount = |value: &Option<String>, param: &str| -> Result<Option<i64>, ApiError> {
            let Some(text) = present(value) else {
                return Ok(None);
            };
            let currency = currency.ok_or_else(|| {
                ApiError::invalid(param, "Choose a currency to filter by amount.")
            })?;
            let minor = Money::parse(text, currency)
                .map(|m| m.minor())
                .map_err(|e| ApiError::invalid(param, e.to_string()))?;
            // The totals look one minor unit past each bound (`outside_amount_range`).
            if minor == i64::MAX {
                return Err(ApiError::invalid(param, format!("{param} is too large.")));
            }
            Ok(Some(minor))
        };
        let amount_min = amount(&q.amount_min, "amount_min")?;
        let amount_max = amount(&q.amount_max, "amount_max")?;
        if let (Some(min), Some(max)) = (amount_min, amount_max) {
            if min > max {
                return Err(ApiError::invalid(
                    "amount_min",
                    "amount_min must not exceed amount_max.",
                ));
            }
        }
        let email_indexes = match present(&q.email) {
            Some(e) if e.len() > 254 || !e.contains('@') => {
                return Err(ApiError::invalid("email", "Enter a whole email address."))
            }
            Some(e) => Some(cipher.email_indexes(e)),
            None => None,
        };
        let search = match present(&q.q) {
            Some(s) if s.len() > 255 => {
                return Err(ApiError::invalid("q", "The search text is too long."))
            }
            other => other.map(str::to_string),
        };
        let payment_link = match present(&q.payment_link) {
            Some(id) if !crate::ids::has_shape(id, "plink") => {
                return Err(ApiError::invalid(
                    "payment_link",
                    "Not a payment link id (plink_...).",
                ))
            }
            other => other.map(str::to_string),
        };
        Ok(Filters {
            payment_link,
            status: q.status,
            provider: q.provider,
            currency,
            from_day,
            to_day,
            amount_min,
            amount_max,
            email_indexes,
            search,
        })
    }

    /// The same filters without the amount range.
    pub fn without_amount_range(&self) -> Filters {
        Filters {
            amount_min: None,
            amount_max: None,
            ..self.clone()
        }
    }

    /// The payments the other filters match but the amount range leaves out: below its lower
    /// bound, above its upper bound (empty without a range).
    pub fn outside_amount_range(&self) -> Vec<Filters> {
        let base = self.without_amount_range();
        let mut out = Vec::new();
        if let Some(below) = self.amount_min.and_then(|min| min.checked_sub(1)) {
            out.push(Filters {
                amount_max: Some(below),
                ..base.clone()
            });
        }
        if let Some(above) = self.amount_max.and_then(|max| max.checked_add(1)) {
            out.push(Filters {
                amount_min: Some(above),
                ..base.clone()
            });
        }
        out
    }

    /// Whether the daily rollup can answer totals for these filters exactly.
    pub fn rollup_answers(&self) -> bool {
        self.amount_min.is_none()
            && self.amount_max.is_none()
            && self.email_indexes.is_none()
            && self.search.is_none()
            && self.payment_link.is_none()
    }

    /// ` AND ...` conditions over `payments p`. With `use_amount_index` false the amount bounds
    /// are written as `+p.amount_minor`, which keeps SQLite from choosing the amount index (a
    /// no-op for PostgreSQL, which plans from statistics): for a page of a broad amount range,
    /// walking the newest rows of the currency finds 50 matches at once, while the amount index
    /// would fetch and sort every match first.
    pub fn push_payment_conditions(&self, sql: &mut Sql, use_amount_index: bool) {
        let amount = if use_amount_index {
            "p.amount_minor"
        } else {
            "+p.amount_minor"
        };
        if let Some(s) = self.status {
            let p = sql.param(Bind::Text(s.as_str().into()));
            sql.text += &format!(" AND p.status = {p}");
        }
        if let Some(pr) = self.provider {
            let p = sql.param(Bind::Text(pr.as_str().into()));
            sql.text += &format!(" AND p.provider = {p}");
        }
        if let Some(c) = self.currency {
            let p = sql.param(Bind::Text(c.code().into()));
            sql.text += &format!(" AND p.currency = {p}");
        }
        if let Some(d) = self.from_day {
            let p = sql.param(Bind::Int(d * days::DAY_MS));
            sql.text += &format!(" AND p.created_at >= {p}");
        }
        if let Some(d) = self.to_day {
            let p = sql.param(Bind::Int((d + 1) * days::DAY_MS));
            sql.text += &format!(" AND p.created_at < {p}");
        }
        if let Some(a) = self.amount_min {
            let p = sql.param(Bind::Int(a));
            sql.text += &format!(" AND {amount} >= {p}");
        }
        if let Some(a) = self.amount_max {
            let p = sql.param(Bind::Int(a));
            sql.text += &format!(" AND {amount} <= {p}");
        }
        if let Some(indexes) = &self.email_indexes {
            // Through the customer or the checkout session, each found by its indexed column.
            let list = |sql: &mut Sql| {
                indexes
                    .iter()
                    .map(|i| sql.param(Bind::Text(i.clone())))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let a = list(sql);
            let b = list(sql);
            sql.text += &format!(
                " AND p.id IN (SELECT id FROM payments WHERE customer_id IN \
                 (SELECT id FROM customers WHERE email_index IN ({a})) \
                 UNION SELECT id FROM payments WHERE checkout_session_id IN \
                 (SELECT id FROM checkout_sessions WHERE customer_email_index IN ({b})))"
            );
        }
        if let Some(link) = &self.payment_link {
            let p = sql.param(Bind::Text(link.clone()));
            sql.text += &format!(
                " AND p.checkout_session_id IN (SELECT id FROM checkout_sessions WHERE payment_link_id = {p})"
            );
        }
        if let Some(text) = &self.search {
            // Each provider reference column is indexed behind `provider`, hence the IN.
            let ps: Vec<String> = (0..4)
                .map(|_| sql.param(Bind::Text(text.clone())))
                .collect();
            sql.text += &format!(
                " AND p.id IN (SELECT id FROM payments WHERE id = {} \
                 UNION SELECT id FROM payments WHERE provider IN ('stripe', 'paypal') AND provider_reference = {} \
                 UNION SELECT id FROM payments WHERE provider IN ('stripe', 'paypal') AND provider_authorization = {} \
                 UNION SELECT id FROM payments WHERE provider IN ('stripe', 'paypal') AND provider_capture = {})",
                ps[0], ps[1], ps[2], ps[3]
            );
        }
    }

    /// ` AND ...` conditions over `payment_daily_totals` (only when [`Self::rollup_answers`]).
    pub fn push_rollup_conditions(&self, sql: &mut Sql) {
        if let Some(s) = self.status {
            let p = sql.param(Bind::Text(s.as_str().into()));
            sql.text += &format!(" AND status = {p}");
        }
        if let Some(pr) = self.provider {
            let p = sql.param(Bind::Text(pr.as_str().into()));
            sql.text += &format!(" AND provider = {p}");
        }
        if let Some(c) = self.currency {
            let p = sql.param(Bind::Text(c.code().into()));
            sql.text += &format!(" AND currency = {p}");
        }
        if let Some(d) = self.from_day {
            let p = sql.param(Bind::Int(d));
            sql.text += &format!(" AND day >= {p}");
        }
        if let Some(d) = self.to_day {
            let p = sql.param(Bind::Int(d));
            sql.text += &format!(" AND day <= {p}");
        }
    }
}
