//! The admin console. A placeholder until the admin console issue brings sign-in; it exists now
//! so the second Trunk build and its `/admin` route are in place.

use leptos::prelude::*;

#[component]
pub fn ConsoleApp() -> impl IntoView {
    view! {
        <main class="pc-console">
            <h1>"paygate admin console"</h1>
            <p>"Sign-in arrives with the admin console issue."</p>
        </main>
    }
}
