use super::state::{
    state_name, status_text, CheckoutState, FocusTarget, Method, PayState, Phase,
    CARD_WILL_BE_SAVED, SAVE_CARD,
};
use leptos::html::{Div, Section};
use leptos::prelude::*;
use shared::api::{
    CheckoutSessionStatus, LineItem, SavePaymentMethod, WidgetSavedCard, WidgetSession,
};
use std::time::Duration;

/// What the payment controls call; [`CheckoutPage`](super::CheckoutPage) connects them to the
/// provider flows, tests to counters.
#[derive(Clone, Copy)]
pub struct PayActions {
    /// A payment method was chosen (radio `#pg-method-card` / `#pg-method-paypal`).
    pub select: Callback<Method>,
    /// `#pg-pay`: confirm the card payment.
    pub pay: Callback<()>,
    /// `#pg-retry` after a decline: pay again.
    pub again: Callback<()>,
    /// `#pg-check`: ask the server again about a payment whose outcome is not known.
    pub check: Callback<()>,
    /// `#pg-cancel`: the customer leaves for the merchant's `cancel_url`. Returns true when the
    /// page handled it (embedded: the merchant's page is told), so the link is not followed.
    pub cancel: Callback<(), bool>,
    /// A saved card (`pg-saved-{i}`) or a new card (`pg-saved-new`) was chosen.
    pub use_saved: Callback<Option<String>>,
    /// `#pg-save-card` was ticked or unticked (it starts unticked).
    pub save_card: Callback<()>,
}

/// Renders a [`CheckoutState`] and a [`PayState`]; fetches nothing and touches no provider.
/// The status region stays in the DOM for the page's whole life, so assistive technology
/// announces each change of its text; the payment containers (`#pg-card`, `#pg-paypal`) are
/// rendered once and only shown or hidden, so the providers' frames mounted in them survive
/// every state change.
///
/// Element ids for tests and merchants' CSS:
/// - `pg-checkout` (the root; `data-state` = `loading`, `not_found`, `unavailable`, `ready`,
///   `preparing`, `processing`, `three_d_secure`, `declined`, `unconfirmed`, `succeeded`,
///   `expired`, `paid`; `aria-busy` while loading or paying),
/// - `pg-message` (status text, `aria-live`; `data-kind` = `info` or `error`),
/// - `pg-retry` (Retry after a load failure; Try again after a decline), `pg-check`,
/// - `pg-merchant`, `pg-description`, `pg-line-items`, `pg-amount`,
/// - `pg-methods`, `pg-method-card`, `pg-method-paypal` (radios; `data-available`),
///   `pg-card-panel`, `pg-saved-cards` (a customer's saved cards, newest first: radios
///   `pg-saved-0`, `pg-saved-1`, ... and `pg-saved-new`), `pg-card` (Stripe's Payment Element), `pg-save-card` (checkbox) or
///   `pg-save-note`, `pg-pay`, `pg-paypal-panel`,
///   `pg-paypal` (PayPal's buttons),
/// - `pg-receipt`, `pg-receipt-amount`, `pg-receipt-merchant`, `pg-receipt-reference`,
///   `pg-continue` (link to the merchant's `success_url`),
/// - `pg-cancel` (link back to the merchant's `cancel_url`, while nothing is being paid).
#[component]
pub fn CheckoutView(
    #[prop(into)] state: Signal<CheckoutState>,
    /// The payment part; by default nothing chosen yet.
    #[prop(into, optional)]
    pay: Signal<PayState>,
    /// Called by the Retry button that follows a transient failure.
    #[prop(optional)]
    on_retry: Option<Callback<()>>,
    /// The payment controls' callbacks; without them the controls do nothing.
    #[prop(optional)]
    actions: Option<PayActions>,
) -> impl IntoView {
    let message_ref = NodeRef::<Div>::new();
    let receipt_ref = NodeRef::<Section>::new();
    let status = Memo::new(move |_| state.with(|c| pay.with(|p| status_text(c, p))));
    let loaded = move || state.with(|c| matches!(c, CheckoutState::Loaded(_)));
    let phase_is = move |phase: Phase| loaded() && pay.with(|p| p.phase == phase);
    let busy = move || state.with(CheckoutState::is_loading) || pay.with(PayState::is_busy);

    // Keyboard focus follows the outcome: errors to the message, success to the receipt. After
    // the DOM update, hence the zero timeout.
    let focus = Memo::new(move |_| {
        pay.with(|p| {
            p.focus_target()
                .map(|target| (target, p.notice.as_ref().map(|n| n.text.clone())))
        })
    });
    Effect::new(move |_| {
        if let Some((target, _)) = focus.get() {
            set_timeout(
                move || {
                    let _ = match target {
                        FocusTarget::Message => message_ref.get_untracked().map(|e| e.focus()),
                        FocusTarget::Receipt => receipt_ref.get_untracked().map(|e| e.focus()),
                    };
                },
                Duration::ZERO,
            );
        }
    });

    // At most one follow-up button at a time: what the customer can do after a failure.
    let follow_up = Memo::new(move |_| {
        if state.with(CheckoutState::can_retry) {
            Some(FollowUp::Reload)
        } else if phase_is(Phase::Declined) {
            Some(FollowUp::TryAgain)
        } else if phase_is(Phase::Unconfirmed) {
            Some(FollowUp::Check)
        } else {
            None
        }
    });

    let session = move || {
        state.with(|state| match state {
            CheckoutState::Loaded(session) => Some(WidgetSession::clone(session)),
            _ => None,
        })
    };

    view! {
        <main
            id="pg-checkout"
            class="pg-checkout"
            data-state=move || state.with(|c| pay.with(|p| state_name(c, p)))
            aria-busy=move || flag(busy())
        >
            <div
                id="pg-message"
                node_ref=message_ref
                class=move || {
                    if status.with(|(_, error)| *error) {
                        "pg-message pg-message-error"
                    } else {
                        "pg-message"
                    }
                }
                data-kind=move || if status.with(|(_, error)| *error) { "error" } else { "info" }
                role="status"
                aria-live="polite"
                tabindex="-1"
            >
                {move || status.with(|(text, _)| text.clone())}
            </div>
            {move || {
                follow_up.get().map(|follow_up| {
                    view! {
                        <button
                            type="button"
                            id=follow_up.id()
                            class=follow_up.class()
                            on:click=move |_| follow_up.run(on_retry, actions)
                        >
                            {follow_up.label()}
                        </button>
                    }
                })
            }}
            {move || {
                session()
                    .map(|session| view! { <SessionDetails session pay actions receipt_ref /> })
            }}
        </main>
    }
}

/// The button under the status message after a failure.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FollowUp {
    /// The session could not be loaded: `#pg-retry` "Retry".
    Reload,
    /// The payment was declined: `#pg-retry` "Try again".
    TryAgain,
    /// The outcome is not known: `#pg-check`.
    Check,
}

impl FollowUp {
    fn id(self) -> &'static str {
        match self {
            FollowUp::Reload | FollowUp::TryAgain => "pg-retry",
            FollowUp::Check => "pg-check",
        }
    }

    fn class(self) -> &'static str {
        match self {
            FollowUp::Reload => "pg-button",
            FollowUp::TryAgain | FollowUp::Check => "pg-button pg-button-secondary",
        }
    }

    fn label(self) -> &'static str {
        match self {
            FollowUp::Reload => "Retry",
            FollowUp::TryAgain => "Try again",
            FollowUp::Check => "Check payment status",
        }
    }

    fn run(self, on_retry: Option<Callback<()>>, actions: Option<PayActions>) {
        match (self, on_retry, actions) {
            (FollowUp::Reload, Some(retry), _) => retry.run(()),
            (FollowUp::TryAgain, _, Some(actions)) => actions.again.run(()),
            (FollowUp::Check, _, Some(actions)) => actions.check.run(()),
            _ => {}
        }
    }
}

#[component]
fn SessionDetails(
    session: WidgetSession,
    pay: Signal<PayState>,
    actions: Option<PayActions>,
    receipt_ref: NodeRef<Section>,
) -> impl IntoView {
    // A session that only saves a card charges nothing.
    let total = if session.setup {
        "No charge today".to_owned()
    } else {
        super::locale::localized(session.total())
    };
    let setup = session.setup;
    // Only an open session can be paid; expired and complete ones show no payment UI at all.
    let open = session.status == CheckoutSessionStatus::Open;
    let methods = (open && !session.providers.is_empty()).then(|| {
        let methods: Vec<Method> = session
            .providers
            .iter()
            .map(|p| Method::for_provider(p.provider))
            .collect();
        let saving = Saving {
            saved_cards: session.saved_cards.clone(),
            save: session.save_payment_method,
        };
        view! { <PaymentMethods methods pay actions total=total.clone() saving setup /> }
    });
    let no_methods = (open && session.providers.is_empty()).then(|| {
        view! { <p class="pg-note">"No payment method can take this amount."</p> }
    });
    let receipt_payment = Memo::new(move |_| pay.with(|p| p.receipt().map(str::to_owned)));
    let receipt = {
        let total = total.clone();
        let merchant = session.merchant_name.clone();
        let success_url = session.success_url.clone().filter(|url| is_web_url(url));
        move || {
            receipt_payment.get().map(|payment| {
                view! {
                    <Receipt
                        payment
                        total=total.clone()
                        merchant=merchant.clone()
                        success_url=success_url.clone()
                        node_ref=receipt_ref
                    />
                }
            })
        }
    };

    let cancel = session
        .cancel_url
        .clone()
        .filter(|url| open && is_web_url(url))
        .map(|url| {
            let merchant = session.merchant_name.clone();
            view! { <CancelLink url merchant pay actions /> }
        });

    view! {
        <header class="pg-header">
            <h1 id="pg-merchant" class="pg-merchant">{session.merchant_name.clone()}</h1>
            {session
                .description
                .map(|text| view! { <p id="pg-description" class="pg-description">{text}</p> })}
        </header>
        <section class="pg-summary" aria-label="Order summary">
            <LineItems items=session.line_items />
            <p class="pg-total">
                <span class="pg-total-label">"Total"</span>
                <span id="pg-amount" class="pg-amount">{total}</span>
            </p>
        </section>
        {receipt}
        {methods}
        {no_methods}
        {cancel}
    }
}

/// The way back to the merchant without paying (Stripe Checkout's back link), shown while the
/// customer can still choose. Embedded, the merchant's page decides what happens next.
#[component]
fn CancelLink(
    url: String,
    merchant: String,
    pay: Signal<PayState>,
    actions: Option<PayActions>,
) -> impl IntoView {
    view! {
        <p class="pg-cancel-row" hidden=move || pay.with(|p| !p.shows_methods() || p.is_paying())>
            <a
                id="pg-cancel"
                class="pg-cancel"
                href=url
                target="_top"
                on:click=move |ev| {
                    if actions.is_some_and(|a| a.cancel.run(())) {
                        ev.prevent_default();
                    }
                }
            >
                {format!("Cancel and return to {merchant}")}
            </a>
        </p>
    }
}

#[component]
fn LineItems(items: Vec<LineItem>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <ul id="pg-line-items" class="pg-line-items">
                {items
                    .into_iter()
                    .map(|item| {
                        view! {
                            <li class="pg-line-item">
                                <span class="pg-line-item-name">
                                    {format!("{} × {}", item.name, item.quantity)}
                                </span>
                                <span class="pg-line-item-total">{super::locale::localized(item.total.money())}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// The choice of method (a radio group: arrow keys move between methods, Tab moves on into
/// the chosen method's panel) and one panel per method, each shown only while chosen.
/// What a session for a known customer adds to the card panel.
#[derive(Clone)]
struct Saving {
    saved_cards: Vec<WidgetSavedCard>,
    save: Option<SavePaymentMethod>,
}

#[component]
fn PaymentMethods(
    methods: Vec<Method>,
    pay: Signal<PayState>,
    actions: Option<PayActions>,
    total: String,
    saving: Saving,
    setup: bool,
) -> impl IntoView {
    let busy = move || pay.with(PayState::is_busy);
    // Locked only while a payment is in flight: while a method loads, the radio the customer
    // just chose keeps the keyboard focus and another method may still be chosen.
    let paying = move || pay.with(PayState::is_paying);
    let chosen = move |method: Method| pay.with(|p| p.method == Some(method));
    let options = methods
        .iter()
        .map(|&method| {
            let id = format!("pg-method-{}", method.key());
            let label_for = id.clone();
            let available = move || pay.with(|p| p.is_available(method));
            view! {
                <label
                    class="pg-choice-option"
                    for=label_for
                    data-method=method.key()
                    data-available=move || flag(available())
                >
                    <input
                        type="radio"
                        class="pg-choice-input"
                        name="pg-method"
                        id=id
                        value=method.key()
                        prop:checked=move || chosen(method)
                        disabled=move || !available()
                        on:change=move |_| {
                            if let Some(actions) = actions {
                                actions.select.run(method);
                            }
                        }
                    />
                    <span class="pg-choice-label">{method.label()}</span>
                    <span class="pg-choice-note" hidden=available>
                        "Unavailable"
                    </span>
                </label>
            }
        })
        .collect_view();

    let card = methods.contains(&Method::Card).then(|| {
        let processing = move || chosen(Method::Card) && busy();
        let pay_label = if setup {
            "Save card".to_owned()
        } else {
            format!("Pay {total}")
        };
        // One closure for every part a saved card hides (one attribute's code, issue 13).
        let saved_chosen = move || pay.with(|p| p.saved_card.is_some());
        let saved = SavedCards(saving.saved_cards, actions, paying);
        // Two optional parts rather than one of two kinds: `AnyView` would bring its machinery
        // into the download (issue 13's size budget).
        let save_box = (saving.save == Some(SavePaymentMethod::Optional)).then(|| {
            view! {
                <label class="pg-save" hidden=saved_chosen>
                    // The browser keeps the box's state; each change flips the answer.
                    <input
                        type="checkbox"
                        class="pg-choice-input"
                        id="pg-save-card"
                        // Locked with the other choices while a payment is in flight: the answer
                        // sent is the one shown.
                        disabled=paying
                        on:change=move |_| {
                            if let Some(actions) = actions {
                                actions.save_card.run(());
                            }
                        }
                    />
                    <span>{SAVE_CARD}</span>
                </label>
            }
        });
        let save_note = (saving.save == Some(SavePaymentMethod::Always)).then(|| {
            view! {
                <p id="pg-save-note" class="pg-note" hidden=saved_chosen>
                    {CARD_WILL_BE_SAVED}
                </p>
            }
        });
        view! {
            <div
                id="pg-card-panel"
                class="pg-panel"
                data-method="card"
                hidden=move || !chosen(Method::Card)
                aria-busy=move || flag(processing())
            >
                {saved}
                // Stripe's Payment Element: its frame comes from Stripe's origin.
                <div id="pg-card" class="pg-card-element" hidden=saved_chosen></div>
                {save_box}
                {save_note}
                <button
                    type="button"
                    id="pg-pay"
                    class="pg-button pg-pay"
                    disabled=move || pay.with(|p| !p.card_ready || p.is_busy())
                    aria-busy=move || flag(processing())
                    on:click=move |_| {
                        if let Some(actions) = actions {
                            actions.pay.run(());
                        }
                    }
                >
                    {move || if processing() { "Processing…".to_owned() } else { pay_label.clone() }}
                </button>
            </div>
        }
    });
    let paypal = methods.contains(&Method::Paypal).then(|| {
        view! {
            <div
                id="pg-paypal-panel"
                class="pg-panel"
                data-method="paypal"
                hidden=move || !chosen(Method::Paypal)
                aria-busy=move || flag(chosen(Method::Paypal) && busy())
            >
                <p class="pg-note">"You will confirm the payment in a PayPal window."</p>
                // PayPal's buttons: their frame comes from PayPal's origin.
                <div id="pg-paypal" class="pg-paypal-buttons"></div>
            </div>
        }
    });

    view! {
        <section
            id="pg-methods"
            class="pg-methods"
            aria-labelledby="pg-methods-title"
            hidden=move || !pay.with(PayState::shows_methods)
        >
            <fieldset class="pg-choice" disabled=paying>
                <legend id="pg-methods-title" class="pg-section-title">"Payment method"</legend>
                <div class="pg-choice-options">{options}</div>
            </fieldset>
            {card}
            {paypal}
        </section>
    }
}

/// A customer's saved cards as radios, and "Use a new card"; nothing without saved cards. One
/// kind of option for all of them, so the download carries one option's code (issue 13).
#[allow(non_snake_case)]
fn SavedCards(
    cards: Vec<WidgetSavedCard>,
    actions: Option<PayActions>,
    paying: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> Option<impl IntoView> {
    if cards.is_empty() {
        return None;
    }
    let choices = cards
        .into_iter()
        .enumerate()
        .map(|(i, card)| (format!("pg-saved-{i}"), Some(card.id), card.label))
        .chain([("pg-saved-new".to_owned(), None, "Use a new card".to_owned())])
        .enumerate()
        .map(|(i, (id, card, label))| {
            let first = i == 0;
            let chosen = card;
            view! {
                <label class="pg-choice-option">
                    <input
                        type="radio"
                        class="pg-choice-input"
                        name="pg-saved"
                        id=id
                        // The browser keeps the choice (the fieldset is locked while a payment
                        // is in flight); the newest card starts chosen, as `Payments` starts.
                        checked=first
                        on:change=move |_| {
                            if let Some(actions) = actions {
                                actions.use_saved.run(chosen.clone());
                            }
                        }
                    />
                    <span class="pg-choice-label">{label}</span>
                </label>
            }
        })
        .collect_view();
    Some(view! {
        <fieldset id="pg-saved-cards" class="pg-choice" disabled=paying>
            <legend class="pg-section-title">"Saved cards"</legend>
            <div class="pg-choice-options">{choices}</div>
        </fieldset>
    })
}

#[component]
fn Receipt(
    payment: String,
    total: String,
    merchant: String,
    success_url: Option<String>,
    node_ref: NodeRef<Section>,
) -> impl IntoView {
    view! {
        <section
            id="pg-receipt"
            class="pg-receipt"
            aria-labelledby="pg-receipt-title"
            tabindex="-1"
            node_ref=node_ref
        >
            <h2 id="pg-receipt-title" class="pg-section-title">"Receipt"</h2>
            <dl class="pg-receipt-list">
                <div class="pg-receipt-row">
                    <dt>"Amount paid"</dt>
                    <dd id="pg-receipt-amount">{total}</dd>
                </div>
                <div class="pg-receipt-row">
                    <dt>"Paid to"</dt>
                    <dd id="pg-receipt-merchant">{merchant}</dd>
                </div>
                <div class="pg-receipt-row">
                    <dt>"Payment reference"</dt>
                    <dd id="pg-receipt-reference">{payment}</dd>
                </div>
            </dl>
            // `_top`: when embedded, continuing replaces the merchant's page, not the frame.
            {success_url
                .map(|url| {
                    view! {
                        <a id="pg-continue" class="pg-button pg-link-button" href=url target="_top">
                            "Continue"
                        </a>
                    }
                })}
        </section>
    }
}

/// A boolean attribute's text (`aria-busy="true"`). A `&'static str`, like the other reactive
/// attributes, so the bundle carries one kind of attribute effect instead of two.
fn flag(on: bool) -> &'static str {
    if on {
        "true"
    } else {
        "false"
    }
}

/// Only http(s) links become a Continue link (never `javascript:` and the like).
fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::is_web_url;

    #[test]
    fn continue_links_are_web_links() {
        assert!(is_web_url("https://shop.example/thanks"));
        assert!(is_web_url("HTTP://shop.example"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("data:text/html,x"));
        assert!(!is_web_url("/relative"));
    }
}
