//! The refund form of the payment page, in two steps: fill in the form, "Review refund" asks
//! "Refund X of Y to the customer?", "Confirm refund" sends `POST .../refunds` with the CSRF
//! token and an idempotency key made when the question opened (a retry of the same
//! confirmation reuses it, so a lost answer can never refund twice).

use super::api;
use super::{focus_soon, format, use_console};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::admin::AdminRefund;
use shared::api::{Amount, Refund, RefundReason};
use shared::{Money, MoneyError};

const REASONS: [RefundReason; 3] = [
    RefundReason::RequestedByCustomer,
    RefundReason::Duplicate,
    RefundReason::Fraudulent,
];

fn parse_reason(value: &str) -> Option<RefundReason> {
    REASONS.into_iter().find(|r| r.as_str() == value)
}

/// A refund ready to be confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub body: AdminRefund,
    /// What will be refunded.
    pub money: Money,
    /// Sent as `Idempotency-Key` on every try of this confirmation.
    pub idempotency_key: String,
}

/// Checks the form's values against what is refundable. An empty amount refunds everything
/// refundable (the body then carries no amount, and the server decides); the error is a
/// sentence for the admin.
pub fn validate(
    amount: &str,
    reason: &str,
    note: &str,
    refundable: &Amount,
) -> Result<(AdminRefund, Money), String> {
    let currency = refundable.currency;
    let amount = amount.trim();
    let money = if amount.is_empty() {
        refundable.money()
    } else {
        match Money::parse(amount, currency) {
            Ok(money) => money,
            Err(MoneyError::TooManyDecimals { .. }) => {
                return Err(format!(
                    "{} amounts have {} decimal places at most.",
                    currency.code(),
                    currency.exponent()
                ))
            }
            Err(_) => {
                return Err(format!(
                    "Enter the amount as digits, such as {}.",
                    refundable.amount
                ))
            }
        }
    };
    if money.minor() <= 0 {
        return Err("The amount must be more than zero.".to_string());
    }
    if money.minor() > refundable.amount_minor {
        return Err(format!(
            "At most {} can be refunded.",
            format::amount(refundable)
        ));
    }
    let Some(reason) = parse_reason(reason) else {
        return Err("Choose a reason for the refund.".to_string());
    };
    let note = note.trim();
    Ok((
        AdminRefund {
            // Always the amount the admin confirmed, never "whatever is left by then".
            amount: Some(money.to_decimal_string()),
            reason,
            note: (!note.is_empty()).then(|| note.to_string()),
        },
        money,
    ))
}

/// The question of the confirmation step.
pub fn question(money: Money, amount: &Amount, customer: Option<&str>) -> String {
    format!(
        "Refund {} of {} to {}?",
        money.display(),
        format::amount(amount),
        customer.unwrap_or("the customer")
    )
}

/// `on_refunded` is called with the refund once created. Ids: `#pc-refund-form`, `#pc-refund-amount`, `#pc-refund-reason`, `#pc-refund-note`,
/// `#pc-refund-review`, `#pc-refund-question`, `#pc-refund-confirm`, `#pc-refund-change`,
/// `#pc-refund-error` (alert). The page says that the refund was made (the form is rebuilt when
/// the detail reloads).
#[component]
pub fn RefundForm(
    payment_id: String,
    /// The payment's amount.
    amount: Amount,
    refundable: Amount,
    customer: Option<String>,
    on_refunded: Option<Callback<Refund>>,
) -> impl IntoView {
    let console = use_console();
    let amount_text = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let review = RwSignal::new(None::<Review>);
    let error = RwSignal::new(None::<String>);

    let submit = Action::new_local(move |(review, token): &(Review, String)| {
        let id = payment_id.clone();
        let (review, token) = (review.clone(), token.clone());
        async move {
            let result = api::refund(&id, &review.body, &token, &review.idempotency_key).await;
            // A 401 ends the session in the console as well.
            console.check(result)
        }
    });
    let pending = submit.pending();
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(refund)) => {
            review.set(None);
            amount_text.set(String::new());
            reason.set(String::new());
            note.set(String::new());
            error.set(None);
            if let Some(callback) = on_refunded {
                callback.run(refund);
            }
        }
        Some(Err(e)) => {
            // Stay on the question: "Confirm refund" tries again with the same key.
            error.set(Some(e.message()));
        }
        None => {}
    });

    let refundable_for_review = refundable.clone();
    let on_review = move |ev: SubmitEvent| {
        ev.prevent_default();
        match validate(
            &amount_text.get_untracked(),
            &reason.get_untracked(),
            &note.get_untracked(),
            &refundable_for_review,
        ) {
            Ok((body, money)) => {
                error.set(None);
                review.set(Some(Review {
                    body,
                    money,
                    idempotency_key: api::idempotency_key(),
                }));
                focus_soon("#pc-refund-question");
            }
            Err(message) => {
                error.set(Some(message));
            }
        }
    };
    let on_confirm = move |_| {
        if pending.get_untracked() {
            return;
        }
        let (Some(current), Some(token)) = (review.get_untracked(), console.csrf_token()) else {
            return;
        };
        error.set(None);
        submit.dispatch_local((current, token));
    };
    let on_change = move |_| {
        review.set(None);
        error.set(None);
        focus_soon("#pc-refund-amount");
    };
    let reviewing = move || review.with(Option::is_some);
    let asked = {
        let amount = amount.clone();
        move || {
            review.with(|r| {
                r.as_ref()
                    .map(|r| question(r.money, &amount, customer.as_deref()))
            })
        }
    };
    let remaining = {
        let refundable = refundable.clone();
        move || {
            review.with(|r| {
                r.as_ref().map(|r| {
                    let left = refundable.amount_minor.saturating_sub(r.money.minor());
                    format!(
                        "{} will remain refundable.",
                        Money::from_minor(left, refundable.currency).display()
                    )
                })
            })
        }
    };
    let reason_options = REASONS
        .into_iter()
        .map(|r| view! { <option value=r.as_str()>{format::words(r.as_str())}</option> })
        .collect_view();
    let hint = format!(
        "In {}; leave empty to refund everything refundable ({}).",
        refundable.currency.code(),
        format::amount(&refundable)
    );

    view! {
        <section class="pc-section pc-refund" aria-labelledby="pc-refund-heading">
            <h2 id="pc-refund-heading">"Refund"</h2>

            <form id="pc-refund-form" class="pc-form" on:submit=on_review>
                <fieldset disabled=reviewing>
                    <legend class="pc-visually-hidden">"Refund details"</legend>
                    <div class="pc-field">
                        <label for="pc-refund-amount">"Amount"</label>
                        <input
                            id="pc-refund-amount"
                            name="amount"
                            type="text"
                            inputmode="decimal"
                            autocomplete="off"
                            placeholder=refundable.amount.clone()
                            aria-describedby="pc-refund-amount-hint"
                            prop:value=move || amount_text.get()
                            on:input=move |ev| amount_text.set(event_target_value(&ev))
                        />
                        <p id="pc-refund-amount-hint" class="pc-hint">{hint}</p>
                    </div>
                    <div class="pc-field">
                        <label for="pc-refund-reason">"Reason"</label>
                        <select
                            id="pc-refund-reason"
                            name="reason"
                            required
                            prop:value=move || reason.get()
                            on:change=move |ev| reason.set(event_target_value(&ev))
                        >
                            <option value="" selected=move || reason.with(String::is_empty)>"Choose a reason"</option>
                            {reason_options}
                        </select>
                    </div>
                    <div class="pc-field">
                        <label for="pc-refund-note">"Note (optional)"</label>
                        <textarea
                            id="pc-refund-note"
                            name="note"
                            rows="2"
                            maxlength="500"
                            prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev))
                        ></textarea>
                    </div>
                    <button type="submit" id="pc-refund-review" class="pc-button">"Review refund"</button>
                </fieldset>
            </form>
            <p id="pc-refund-error" class="pc-error" role="alert">
                {move || error.get()}
            </p>
            <Show when=reviewing>
                <div class="pc-confirm" role="group" aria-labelledby="pc-refund-question">
                    <p id="pc-refund-question" class="pc-question" tabindex="-1">{asked.clone()}</p>
                    <p class="pc-hint">{remaining}</p>
                    <div class="pc-actions">
                        <button
                            type="button"
                            id="pc-refund-confirm"
                            class="pc-button pc-button-danger"
                            aria-disabled=move || pending.get().then_some("true")
                            on:click=on_confirm
                        >
                            {move || if pending.get() { "Refunding…" } else { "Confirm refund" }}
                        </button>
                        <button
                            type="button"
                            id="pc-refund-change"
                            class="pc-button pc-button-secondary"
                            disabled=move || pending.get()
                            on:click=on_change
                        >
                            "Change"
                        </button>
                    </div>
                </div>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Currency;

    fn usd(minor: i64) -> Amount {
        Money::from_minor(minor, Currency::USD).into()
    }

    #[test]
    fn validation() {
        let refundable = usd(1500);
        let (body, money) = validate("", "duplicate", " ", &refundable).unwrap();
        assert_eq!(
            body.amount.as_deref(),
            Some("15.00"),
            "empty: everything refundable, sent as the amount confirmed"
        );
        assert_eq!(money.minor(), 1500);
        assert_eq!(body.note, None);

        let (body, money) = validate(" 5.5 ", "fraudulent", "card stolen", &refundable).unwrap();
        assert_eq!(body.amount.as_deref(), Some("5.50"));
        assert_eq!(money.minor(), 550);
        assert_eq!(body.reason, RefundReason::Fraudulent);
        assert_eq!(body.note.as_deref(), Some("card stolen"));

        assert_eq!(
            validate("15.01", "duplicate", "", &refundable).unwrap_err(),
            "At most $15.00 can be refunded."
        );
        assert_eq!(
            validate("1.001", "duplicate", "", &refundable).unwrap_err(),
            "USD amounts have 2 decimal places at most."
        );
        assert_eq!(
            validate("1,00", "duplicate", "", &refundable).unwrap_err(),
            "Enter the amount as digits, such as 15.00."
        );
        assert_eq!(
            validate("-1", "duplicate", "", &refundable).unwrap_err(),
            "Enter the amount as digits, such as 15.00."
        );
        assert_eq!(
            validate("0", "duplicate", "", &refundable).unwrap_err(),
            "The amount must be more than zero."
        );
        assert_eq!(
            validate("1", "", "", &refundable).unwrap_err(),
            "Choose a reason for the refund."
        );
    }

    #[test]
    fn the_question() {
        let jpy: Amount = Money::from_minor(5000, Currency::JPY).into();
        assert_eq!(
            question(
                Money::from_minor(1200, Currency::JPY),
                &jpy,
                Some("ann@example.com")
            ),
            "Refund ¥1,200 of ¥5,000 to ann@example.com?"
        );
        assert_eq!(
            question(Money::from_minor(1200, Currency::JPY), &jpy, None),
            "Refund ¥1,200 of ¥5,000 to the customer?"
        );
    }
}
