//! The checkout widget: [`CheckoutPage`] loads the session named by the page's URL and hands
//! each [`CheckoutState`] to [`CheckoutView`], which only renders.

mod fetch;
mod state;
mod view;

pub use fetch::session_id_from_path;
pub use state::{CheckoutState, LoadError};
pub use view::CheckoutView;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// The whole checkout page at `/checkout/{session_id}`.
#[component]
pub fn CheckoutPage() -> impl IntoView {
    let state = RwSignal::new(CheckoutState::Loading);
    let session_id = window()
        .location()
        .pathname()
        .ok()
        .and_then(|path| session_id_from_path(&path).map(str::to_owned));

    let load = move || {
        state.set(CheckoutState::Loading);
        let session_id = session_id.clone();
        spawn_local(async move {
            let next = match session_id {
                Some(id) => match fetch::fetch_session(&id).await {
                    Ok(session) => CheckoutState::Loaded(Box::new(session)),
                    Err(error) => CheckoutState::Failed(error),
                },
                // No fetch for a URL that cannot name a session: it is simply not a valid link.
                None => CheckoutState::Failed(LoadError::NotFound),
            };
            state.set(next);
        });
    };
    load();

    view! { <CheckoutView state=state on_retry=Callback::new(move |()| load()) /> }
}
