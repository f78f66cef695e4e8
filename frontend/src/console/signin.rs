//! The sign-in form (`POST /admin/api/session`): wrong credentials and rate limiting are shown
//! in an alert next to the button.

use super::{api, use_console, SessionState};
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use shared::api::admin::SignIn;

/// Ids for tests: `pc-signin-form`, `pc-email`, `pc-password`, `pc-signin-submit`,
/// `pc-signin-error` (the alert), `pc-signin-notice` (why the form is shown, e.g. "signed out").
#[component]
pub fn SignInForm(#[prop(into)] notice: Signal<Option<String>>) -> impl IntoView {
    let console = use_console();
    let email = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let sign_in = Action::new_local(|body: &SignIn| {
        let body = body.clone();
        async move { api::sign_in(&body).await }
    });
    Effect::new(move |_| match sign_in.value().get() {
        Some(Ok(session)) => console.session.set(SessionState::SignedIn(session)),
        Some(Err(e)) => {
            error.set(Some(e.message()));
            // Wrong credentials: the password is typed again.
            if let Some(password) = password.get_untracked() {
                password.set_value("");
            }
        }
        None => {}
    });
    let pending = sign_in.pending();

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let value =
            |input: NodeRef<Input>| input.get_untracked().map(|i| i.value()).unwrap_or_default();
        let body = SignIn {
            email: value(email).trim().to_string(),
            password: value(password),
        };
        if body.email.is_empty() || body.password.is_empty() {
            error.set(Some("Enter your email and password.".to_string()));
            return;
        }
        error.set(None);
        sign_in.dispatch_local(body);
    };
    let invalid = move || error.with(Option::is_some).then_some("true");

    view! {
        <section class="pc-signin pc-panel" aria-labelledby="pc-signin-heading">
            <h1 id="pc-signin-heading" tabindex="-1">
                "Sign in to paygate admin"
            </h1>
            <p id="pc-signin-notice" class="pc-notice" role="status">
                {move || notice.get()}
            </p>
            <form id="pc-signin-form" class="pc-form" on:submit=on_submit>
                <div class="pc-field">
                    <label for="pc-email">"Email"</label>
                    <input
                        id="pc-email"
                        name="email"
                        type="email"
                        autocomplete="username"
                        required
                        aria-invalid=invalid
                        aria-describedby="pc-signin-error"
                        node_ref=email
                    />
                </div>
                <div class="pc-field">
                    <label for="pc-password">"Password"</label>
                    <input
                        id="pc-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        aria-invalid=invalid
                        aria-describedby="pc-signin-error"
                        node_ref=password
                    />
                </div>
                <p id="pc-signin-error" class="pc-error" role="alert">
                    {move || error.get()}
                </p>
                <button
                    type="submit"
                    id="pc-signin-submit"
                    class="pc-button"
                    aria-disabled=move || pending.get().then_some("true")
                >
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}
