//! The widget API's answers, read from parsed JSON without serde (why: [`crate::json`]).
//!
//! Each reader takes exactly the JSON the server's serde types write (`shared::api::widget`),
//! and the tests hold every reader to what serde_json makes of the same text. A field of the
//! wrong type, a missing required field or an unknown enum value makes the whole answer
//! unreadable (`None`), as it would with serde.

use crate::json::Json;
use shared::api::{
    Amount, CaptureMode, CheckoutSessionStatus, LineItem, PaymentStatus, ProviderName,
    SavePaymentMethod, WidgetOutcome, WidgetPaypalOrder, WidgetProvider, WidgetSavedCard,
    WidgetSession, WidgetStripeIntent,
};
use shared::Currency;

/// An answer type the widget reads from the API's JSON.
pub trait FromJson: Sized {
    fn from_json(json: &Json) -> Option<Self>;
}

fn currency(json: &Json) -> Option<Currency> {
    json.str()?.parse().ok()
}

/// The three fields of an amount. The decimal string must be exactly the minor units' own
/// spelling: the server writes both from one `Money` (`Amount::from`), so any other string is a
/// broken answer. (Comparing spellings, not parsing the string, keeps `Money::parse` and its
/// error messages out of the download.)
fn amount_fields(json: &Json) -> Option<Amount> {
    let amount = Amount {
        amount: json.get("amount").str()?,
        currency: currency(&json.get("currency"))?,
        amount_minor: json.get("amount_minor").int()?,
    };
    (amount.money().to_decimal_string() == amount.amount).then_some(amount)
}

fn line_item(json: &Json) -> Option<LineItem> {
    Some(LineItem {
        name: json.get("name").str()?,
        quantity: json.get("quantity").int()?,
        unit_amount: amount_fields(&json.get("unit_amount"))?,
        total: amount_fields(&json.get("total"))?,
    })
}

fn provider(json: &Json) -> Option<WidgetProvider> {
    Some(WidgetProvider {
        provider: ProviderName::parse(&json.get("provider").str()?)?,
        public_key: json.get("public_key").str()?,
        script_url: json.get("script_url").str()?,
    })
}

fn saved_card(json: &Json) -> Option<WidgetSavedCard> {
    Some(WidgetSavedCard {
        id: json.get("id").str()?,
        label: json.get("label").str()?,
    })
}

/// Every item of an array field, each read by `read`.
fn all<T>(json: &Json, read: fn(&Json) -> Option<T>) -> Option<Vec<T>> {
    json.items()?.iter().map(read).collect()
}

impl FromJson for WidgetSession {
    fn from_json(json: &Json) -> Option<WidgetSession> {
        let total = amount_fields(json)?;
        let capture_mode = match json.get("capture_mode").optional_str()? {
            None => CaptureMode::default(),
            Some(mode) => CaptureMode::parse(&mode)?,
        };
        let save_payment_method = match json.get("save_payment_method").optional_str()? {
            None => None,
            Some(save) => Some(SavePaymentMethod::parse(&save)?),
        };
        Some(WidgetSession {
            id: json.get("id").str()?,
            merchant_name: json.get("merchant_name").str()?,
            description: json.get("description").optional_str()?,
            amount: total.amount,
            currency: total.currency,
            amount_minor: total.amount_minor,
            line_items: all(&json.get("line_items"), line_item)?,
            status: CheckoutSessionStatus::parse(&json.get("status").str()?)?,
            providers: all(&json.get("providers"), provider)?,
            expires_at: json.get("expires_at").int()?,
            success_url: json.get("success_url").optional_str()?,
            cancel_url: json.get("cancel_url").optional_str()?,
            capture_mode,
            save_payment_method,
            // Left out (`#[serde(default)]`): none.
            saved_cards: match json.get("saved_cards") {
                cards if cards.is_missing() => Vec::new(),
                cards => all(&cards, saved_card)?,
            },
            setup: json.get("setup").flag()?,
        })
    }
}

impl FromJson for WidgetStripeIntent {
    fn from_json(json: &Json) -> Option<WidgetStripeIntent> {
        Some(WidgetStripeIntent {
            client_secret: json.get("client_secret").str()?,
            payment: json.get("payment").str()?,
        })
    }
}

impl FromJson for WidgetPaypalOrder {
    fn from_json(json: &Json) -> Option<WidgetPaypalOrder> {
        Some(WidgetPaypalOrder {
            order_id: json.get("order_id").str()?,
            payment: json.get("payment").str()?,
        })
    }
}

impl FromJson for WidgetOutcome {
    fn from_json(json: &Json) -> Option<WidgetOutcome> {
        Some(WidgetOutcome {
            session: CheckoutSessionStatus::parse(&json.get("session").str()?)?,
            payment_status: PaymentStatus::parse(&json.get("payment_status").str()?)?,
            payment: json.get("payment").str()?,
            message: json.get("message").optional_str()?,
        })
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::FromJson;
    use crate::json::Json;
    use serde::de::DeserializeOwned;
    use shared::api::{WidgetOutcome, WidgetPaypalOrder, WidgetSession, WidgetStripeIntent};
    use std::fmt::Debug;
    use wasm_bindgen_test::*;

    /// What this reader makes of `text`, beside what serde_json makes of it: the two must agree,
    /// on answers that are read and on answers that are refused.
    fn both<T: FromJson + DeserializeOwned + PartialEq + Debug>(text: &str) -> Option<T> {
        let ours = Json::parse(text).and_then(|json| T::from_json(&json));
        let serde = serde_json::from_str::<T>(text).ok();
        assert_eq!(ours, serde, "{text}");
        ours
    }

    const SESSION: &str = r#"{"id": "cs_1", "merchant_name": "Shop", "description": "Order 7",
        "amount": "19.99", "currency": "USD", "amount_minor": 1999,
        "line_items": [{"name": "Tea", "quantity": 2,
            "unit_amount": {"amount": "4.50", "currency": "USD", "amount_minor": 450},
            "total": {"amount": "9.00", "currency": "USD", "amount_minor": 900}}],
        "status": "open",
        "providers": [{"provider": "stripe", "public_key": "pk_test_1", "script_url": "/s.js"},
                      {"provider": "paypal", "public_key": "client", "script_url": "/p.js"}],
        "expires_at": 1767225600, "success_url": "https://shop.example/ok",
        "cancel_url": null, "capture_mode": "manual", "save_payment_method": "optional",
        "saved_cards": [{"id": "pm_1", "label": "Visa •••• 4242, expires 12/2030"}],
        "setup": true}"#;

    #[wasm_bindgen_test]
    fn a_session_reads_as_serde_reads_it() {
        let session = both::<WidgetSession>(SESSION).expect("a full session");
        assert_eq!(session.total().minor(), 1999);
        assert_eq!(session.line_items[0].total.amount_minor, 900);
        assert_eq!(session.providers.len(), 2);
        assert_eq!(
            session.saved_cards[0].label,
            "Visa •••• 4242, expires 12/2030"
        );
        assert_eq!(
            session.save_payment_method,
            Some(shared::api::SavePaymentMethod::Optional)
        );
        assert!(session.setup);

        // Optional fields left out take their defaults.
        let minimal = r#"{"id": "cs_1", "merchant_name": "Shop", "amount": "1000",
            "currency": "JPY", "amount_minor": 1000, "line_items": [], "status": "complete",
            "providers": [], "expires_at": 0}"#;
        let session = both::<WidgetSession>(minimal).expect("a minimal session");
        assert_eq!(session.description, None);
        assert_eq!(session.capture_mode, shared::api::CaptureMode::Automatic);
        assert!(session.saved_cards.is_empty());
        assert_eq!(session.save_payment_method, None);
        assert!(!session.setup);
    }

    #[wasm_bindgen_test]
    fn a_broken_session_is_refused_as_serde_refuses_it() {
        for (from, to) in [
            (r#""amount_minor": 1999"#, r#""amount_minor": 1999.5"#),
            (r#""amount_minor": 1999"#, r#""amount_minor": "1999""#),
            (
                r#""currency": "USD", "amount_minor": 1999"#,
                r#""currency": "XYZ", "amount_minor": 1999"#,
            ),
            (r#""status": "open""#, r#""status": "paid""#),
            (r#""provider": "stripe""#, r#""provider": "adyen""#),
            (r#""capture_mode": "manual""#, r#""capture_mode": "later""#),
            (r#""setup": true"#, r#""setup": "yes""#),
            (r#""description": "Order 7""#, r#""description": 7"#),
            (r#""id": "cs_1", "#, ""),
            (r#""line_items": ["#, r#""line_items": {"a": "#),
            (r#""quantity": 2"#, r#""quantity": null"#),
            (
                r#""save_payment_method": "optional""#,
                r#""save_payment_method": "never""#,
            ),
            (r#""label": "Visa"#, r#""label": 7, "x": "Visa"#),
            (r#""saved_cards": ["#, r#""saved_cards": null, "x": ["#),
        ] {
            let broken = SESSION.replacen(from, to, 1);
            assert_ne!(broken, SESSION, "{from}");
            assert_eq!(both::<WidgetSession>(&broken), None, "{broken}");
        }
        assert_eq!(both::<WidgetSession>("[]"), None);
        assert_eq!(both::<WidgetSession>("null"), None);
    }

    #[wasm_bindgen_test]
    fn an_amount_whose_two_spellings_disagree_is_refused() {
        // serde reads the fields one by one and would take this; the widget must not show one
        // amount while the server charges another.
        let broken = SESSION.replacen(r#""amount": "19.99""#, r#""amount": "19.98""#, 1);
        assert_eq!(
            Json::parse(&broken).and_then(|json| WidgetSession::from_json(&json)),
            None
        );
    }

    #[wasm_bindgen_test]
    fn payment_answers_read_as_serde_reads_them() {
        both::<WidgetStripeIntent>(r#"{"client_secret": "pi_1_secret_2", "payment": "pay_1"}"#)
            .expect("an intent");
        both::<WidgetPaypalOrder>(r#"{"order_id": "5O190127TN364715T", "payment": "pay_1"}"#)
            .expect("an order");
        let outcome = r#"{"session": "open", "payment_status": "requires_payment_method",
            "payment": "pay_1", "message": "Your card was declined."}"#;
        both::<WidgetOutcome>(outcome).expect("an outcome");
        both::<WidgetOutcome>(&outcome.replace(r#", "message": "Your card was declined.""#, ""))
            .expect("an outcome without a message");
        assert_eq!(
            both::<WidgetOutcome>(&outcome.replace("requires_payment_method", "x")),
            None
        );
        assert_eq!(
            both::<WidgetStripeIntent>(r#"{"client_secret": "s"}"#),
            None
        );
    }
}
