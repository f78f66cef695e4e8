//! The console's pages and their URLs (History API routing under `/admin`):
//! - `/admin?status=...&currency=...`: the payment history, filters in the query;
//! - `/admin/payments/{id}`: one payment;
//! - `/admin/audit?before=...`: the audit log;
//! - `/admin/webhooks`: the merchant's webhook endpoints;
//! - `/admin/webhooks/{id}?status=...`: one endpoint and its deliveries, filtered by status;
//! - `/admin/inbox`: the provider webhooks parked after their last attempt;
//! - `/admin/links`: the payment links;
//! - `/admin/disputes?open=true`: disputes, optionally only those awaiting a response;
//! - `/admin/subscriptions?attention=true&cursor=...`: subscriptions, optionally only those with
//!   an unpaid invoice.

use super::query::{encode, history_from_search, history_to_search, join, pairs};
use crate::http::plausible_id;
use shared::api::admin::HistoryQuery;

/// Where the console's pages live.
pub const BASE: &str = "/admin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    History(HistoryQuery),
    Payment(String),
    Audit {
        before: Option<i64>,
    },
    Webhooks,
    /// `status`: `pending`, `delivered` or `failed`; `None` shows every delivery.
    WebhookEndpoint {
        id: String,
        status: Option<String>,
    },
    Parked,
    PaymentLinks,
    Disputes {
        open: bool,
    },
    Subscriptions {
        attention: bool,
        cursor: Option<String>,
    },
    NotFound,
}

/// The delivery statuses the server knows; anything else in a URL is dropped (every delivery).
pub const DELIVERY_STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

impl Route {
    /// The page of a path and query string (`location.pathname`, `location.search`).
    pub fn parse(path: &str, search: &str) -> Route {
        let Some(rest) = path.strip_prefix(BASE) else {
            return Route::NotFound;
        };
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Route::History(history_from_search(search)),
            ["payments", id] if plausible_id(id) => Route::Payment((*id).to_string()),
            ["audit"] => Route::Audit {
                before: pairs(search)
                    .find(|(key, _)| key == "before")
                    .and_then(|(_, value)| value.parse().ok()),
            },
            ["webhooks"] => Route::Webhooks,
            ["inbox"] => Route::Parked,
            ["links"] => Route::PaymentLinks,
            ["disputes"] => Route::Disputes {
                open: pairs(search).any(|(key, value)| key == "open" && value == "true"),
            },
            ["subscriptions"] => {
                let mut attention = false;
                let mut cursor = None;
                for (key, value) in pairs(search) {
                    match key.as_str() {
                        "attention" => attention = value == "true",
                        "cursor" if !value.is_empty() => cursor = Some(value),
                        _ => {}
                    }
                }
                Route::Subscriptions { attention, cursor }
            }
            ["webhooks", id] if plausible_id(id) => Route::WebhookEndpoint {
                id: (*id).to_string(),
                status: pairs(search)
                    .find(|(key, _)| key == "status")
                    .map(|(_, value)| value)
                    .filter(|value| DELIVERY_STATUSES.contains(&value.as_str())),
            },
            _ => Route::NotFound,
        }
    }

    /// The page the browser shows now.
    pub fn current() -> Route {
        let location = leptos::prelude::window().location();
        Route::parse(
            &location.pathname().unwrap_or_default(),
            &location.search().unwrap_or_default(),
        )
    }

    /// The URL of the page (path and query).
    pub fn href(&self) -> String {
        match self {
            Route::History(query) => {
                let search = history_to_search(query);
                if search.is_empty() {
                    BASE.to_string()
                } else {
                    format!("{BASE}?{search}")
                }
            }
            Route::Payment(id) => format!("{BASE}/payments/{id}"),
            Route::Audit { before: None } => format!("{BASE}/audit"),
            Route::Audit {
                before: Some(before),
            } => format!("{BASE}/audit?before={before}"),
            Route::Webhooks => format!("{BASE}/webhooks"),
            Route::WebhookEndpoint { id, status: None } => format!("{BASE}/webhooks/{id}"),
            Route::WebhookEndpoint {
                id,
                status: Some(status),
            } => format!("{BASE}/webhooks/{id}?status={}", encode(status)),
            Route::Parked => format!("{BASE}/inbox"),
            Route::PaymentLinks => format!("{BASE}/links"),
            Route::Disputes { open: false } => format!("{BASE}/disputes"),
            Route::Disputes { open: true } => format!("{BASE}/disputes?open=true"),
            Route::Subscriptions { attention, cursor } => {
                let search = join(&[
                    (
                        "attention",
                        if *attention {
                            "true".to_string()
                        } else {
                            String::new()
                        },
                    ),
                    ("cursor", cursor.clone().unwrap_or_default()),
                ]);
                if search.is_empty() {
                    format!("{BASE}/subscriptions")
                } else {
                    format!("{BASE}/subscriptions?{search}")
                }
            }
            Route::NotFound => BASE.to_string(),
        }
    }

    /// The document's title on this page.
    pub fn title(&self) -> String {
        match self {
            Route::History(_) => "Payments · paygate admin".to_string(),
            Route::Payment(id) => format!("Payment {id} · paygate admin"),
            Route::Audit { .. } => "Audit log · paygate admin".to_string(),
            Route::Webhooks => "Webhooks · paygate admin".to_string(),
            Route::WebhookEndpoint { id, .. } => format!("Webhook endpoint {id} · paygate admin"),
            Route::Parked => "Parked events · paygate admin".to_string(),
            Route::PaymentLinks => "Payment links · paygate admin".to_string(),
            Route::Disputes { .. } => "Disputes · paygate admin".to_string(),
            Route::Subscriptions { .. } => "Subscriptions · paygate admin".to_string(),
            Route::NotFound => "Not found · paygate admin".to_string(),
        }
    }

    /// Which main navigation entry this page belongs to.
    pub fn section(&self) -> Section {
        match self {
            Route::History(_) | Route::Payment(_) => Section::Payments,
            Route::Audit { .. } => Section::Audit,
            Route::Webhooks | Route::WebhookEndpoint { .. } => Section::Webhooks,
            Route::Parked => Section::Parked,
            Route::PaymentLinks => Section::PaymentLinks,
            Route::Disputes { .. } => Section::Disputes,
            Route::Subscriptions { .. } => Section::Subscriptions,
            Route::NotFound => Section::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Payments,
    PaymentLinks,
    Disputes,
    Subscriptions,
    Webhooks,
    Parked,
    Audit,
    None,
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::api::PaymentStatus;

    #[test]
    fn parses_every_page() {
        assert_eq!(
            Route::parse("/admin", ""),
            Route::History(HistoryQuery::default())
        );
        assert_eq!(
            Route::parse("/admin/", "?status=failed"),
            Route::History(HistoryQuery {
                status: Some(PaymentStatus::Failed),
                ..HistoryQuery::default()
            })
        );
        assert_eq!(
            Route::parse("/admin/payments/pay_123", ""),
            Route::Payment("pay_123".into())
        );
        assert_eq!(
            Route::parse("/admin/audit", "?before=77"),
            Route::Audit { before: Some(77) }
        );
        assert_eq!(
            Route::parse("/admin/audit", ""),
            Route::Audit { before: None }
        );
        assert_eq!(Route::parse("/admin/webhooks", ""), Route::Webhooks);
        assert_eq!(Route::parse("/admin/inbox", ""), Route::Parked);
        assert_eq!(Route::parse("/admin/links", ""), Route::PaymentLinks);
        assert_eq!(
            Route::parse("/admin/disputes", "?open=true"),
            Route::Disputes { open: true }
        );
        assert_eq!(
            Route::parse("/admin/subscriptions", "?attention=true&cursor=5.sub_1"),
            Route::Subscriptions {
                attention: true,
                cursor: Some("5.sub_1".into())
            }
        );
        assert_eq!(
            Route::parse("/admin/webhooks/we_1", "?status=failed"),
            Route::WebhookEndpoint {
                id: "we_1".into(),
                status: Some("failed".into())
            }
        );
        // An unknown status shows every delivery rather than failing the page.
        assert_eq!(
            Route::parse("/admin/webhooks/we_1", "?status=lost"),
            Route::WebhookEndpoint {
                id: "we_1".into(),
                status: None
            }
        );
        for (path, search) in [
            ("/admin/webhooks/we_1%2F..", ""),
            ("/admin/webhooks/we_1/deliveries", ""),
            ("/admin/payments/pay_1%2F..", ""),
            ("/admin/payments/", ""),
            ("/admin/nope", ""),
            ("/checkout/cs_1", ""),
            ("/administrator", ""),
        ] {
            assert_eq!(Route::parse(path, search), Route::NotFound, "{path}");
        }
    }

    #[test]
    fn hrefs_parse_back() {
        let routes = [
            Route::History(HistoryQuery::default()),
            Route::History(HistoryQuery {
                currency: Some("JPY".into()),
                q: Some("5O190127TN364715T".into()),
                cursor: Some("abc".into()),
                ..HistoryQuery::default()
            }),
            Route::Payment("pay_9".into()),
            Route::Audit { before: None },
            Route::Audit { before: Some(5) },
            Route::Webhooks,
            Route::PaymentLinks,
            Route::Disputes { open: false },
            Route::Disputes { open: true },
            Route::Subscriptions {
                attention: false,
                cursor: None,
            },
            Route::Subscriptions {
                attention: true,
                cursor: Some("9.sub_a".into()),
            },
            Route::History(HistoryQuery {
                payment_link: Some("plink_9".into()),
                ..HistoryQuery::default()
            }),
            Route::WebhookEndpoint {
                id: "we_9".into(),
                status: None,
            },
            Route::WebhookEndpoint {
                id: "we_9".into(),
                status: Some("pending".into()),
            },
        ];
        for route in routes {
            let href = route.href();
            let (path, search) = href.split_once('?').unwrap_or((&href, ""));
            assert_eq!(Route::parse(path, search), route, "{href}");
        }
    }
}
