//! The checkout widget: [`CheckoutPage`] loads the session named by the page's URL, runs the
//! payment flows ([`pay`]) and hands each [`CheckoutState`] and [`PayState`] to
//! [`CheckoutView`], which only renders.
//!
//! Provider scripts are reached through small typed bindings ([`stripe_js`], [`paypal_js`]) that
//! follow the real Stripe.js and PayPal JS SDK APIs; in sandbox mode the server points the
//! script URLs at stand-ins with the same API.

mod answers;
mod embed;
mod fetch;
mod js;
pub mod locale;
mod pay;
pub mod paypal_js;
mod state;
pub mod stripe_js;
mod theme;
mod view;

pub use embed::parse_origin;
pub use fetch::session_id_from_path;
pub use js::load_script;
pub use state::{CheckoutState, LoadError, Method, Notice, PayState, Phase};
pub use view::{CheckoutView, PayActions};

/// The status region's texts (for tests and for reading what the customer is told).
pub mod messages {
    pub use super::state::{
        AUTHENTICATION_FAILED, CARD_WILL_BE_SAVED, CHECKING, CHECK_DETAILS, COMPLETE, DECLINED,
        EXPIRED, FAILED, LOADING, LOADING_CARD, LOADING_PAYPAL, NOT_FOUND, PAYPAL_CANCELLED,
        PAYPAL_DECLINED, PAYPAL_FAILED, PAYPAL_WINDOW, PENDING, PROCESSING, SAVE_CARD,
        START_FAILED, SUCCEEDED, THREE_D_SECURE, UNAVAILABLE, UNCONFIRMED,
    };
}

use embed::Embed;
use leptos::prelude::*;
use leptos::task::spawn_local;
use pay::Payments;

/// The whole checkout page at `/checkout/{session_id}`.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    // The merchant's theme (embed option) first, so nothing renders in other colours.
    theme::apply_from_location();
    let state = RwSignal::new(CheckoutState::Loading);
    let pay = RwSignal::new(PayState::default());
    let session_id = window()
        .location()
        .pathname()
        .ok()
        .and_then(|path| session_id_from_path(&path).map(str::to_owned));
    let embed = StoredValue::new_local(session_id.as_deref().and_then(Embed::from_location));
    let payments = Payments::new(pay, embed);

    let load = move || {
        state.set(CheckoutState::Loading);
        let session_id = session_id.clone();
        spawn_local(async move {
            match session_id {
                Some(id) => match fetch::fetch_session(&id).await {
                    Ok(session) => {
                        state.set(CheckoutState::Loaded(Box::new(session.clone())));
                        payments.start(session);
                    }
                    Err(error) => state.set(CheckoutState::Failed(error)),
                },
                // No fetch for a URL that cannot name a session: it is simply not a valid link.
                None => state.set(CheckoutState::Failed(LoadError::NotFound)),
            }
        });
    };
    load();

    view! {
        <CheckoutView
            state=state
            pay=pay
            actions=payments.actions()
            on_retry=Callback::new(move |()| load())
        />
    }
}
