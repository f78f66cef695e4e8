use super::CheckoutState;
use leptos::either::Either;
use leptos::prelude::*;
use shared::api::{CheckoutSessionStatus, LineItem, WidgetProvider, WidgetSession};

/// Renders a [`CheckoutState`]; fetches nothing. The status region stays in the DOM for the
/// page's whole life, so assistive technology announces each change of its text.
///
/// Element ids for tests and merchants' CSS: `pg-message` (status text), `pg-retry`,
/// `pg-merchant`, `pg-description`, `pg-line-items`, `pg-amount`, `pg-methods`.
#[component]
pub fn CheckoutView(
    #[prop(into)] state: Signal<CheckoutState>,
    /// Called by the Retry button that follows a transient failure.
    #[prop(optional)]
    on_retry: Option<Callback<()>>,
) -> impl IntoView {
    let message_class = move || {
        if state.with(CheckoutState::is_error) {
            "pg-message pg-message-error"
        } else {
            "pg-message"
        }
    };
    let session = move || {
        state.with(|state| match state {
            CheckoutState::Loaded(session) => Some(WidgetSession::clone(session)),
            _ => None,
        })
    };

    view! {
        <main class="pg-checkout" aria-busy=move || state.with(CheckoutState::is_loading).to_string()>
            <div id="pg-message" class=message_class role="status" aria-live="polite">
                {move || state.with(CheckoutState::message)}
            </div>
            <Show when=move || state.with(CheckoutState::can_retry)>
                <button
                    type="button"
                    id="pg-retry"
                    class="pg-button"
                    on:click=move |_| {
                        if let Some(retry) = on_retry {
                            retry.run(());
                        }
                    }
                >
                    "Retry"
                </button>
            </Show>
            {move || session().map(|session| view! { <SessionDetails session /> })}
        </main>
    }
}

#[component]
fn SessionDetails(session: WidgetSession) -> impl IntoView {
    let total = session.amount.money().display();
    // Only an open session can be paid; expired and complete ones show no payment UI at all.
    let methods = (session.status == CheckoutSessionStatus::Open)
        .then(|| view! { <PaymentMethods providers=session.providers /> });

    view! {
        <header class="pg-header">
            <h1 id="pg-merchant" class="pg-merchant">{session.merchant_name}</h1>
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
        {methods}
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
                                <span class="pg-line-item-total">{item.total.money().display()}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// The providers that can take this amount. Names only, and said plainly: paying arrives with
/// the payment-method issue, and nothing here may look as if it pays.
#[component]
fn PaymentMethods(providers: Vec<WidgetProvider>) -> impl IntoView {
    let body = if providers.is_empty() {
        Either::Left(view! { <p class="pg-note">"No payment method can take this amount."</p> })
    } else {
        Either::Right(view! {
            <ul class="pg-method-list">
                {providers
                    .into_iter()
                    .map(|p| view! { <li class="pg-method">{p.provider.display_name()}</li> })
                    .collect_view()}
            </ul>
            <p class="pg-note">"Paying from this page is not available yet."</p>
        })
    };
    view! {
        <section id="pg-methods" class="pg-methods" aria-labelledby="pg-methods-title">
            <h2 id="pg-methods-title" class="pg-section-title">"Payment methods"</h2>
            {body}
        </section>
    }
}
