//! Provider webhooks paygate stopped retrying (`/admin/inbox`): each with why its last attempt
//! failed, and a Replay button that makes it due again (as `paygate events replay` does). There
//! should be none; one here is an event about an object paygate never learned of (a payment
//! made outside paygate, a lost write) or one its provider could not confirm.

use super::api;
use super::format;
use super::loaded::{Loaded, Pending};
use super::{focus_soon, use_console};
use leptos::prelude::*;
use shared::api::admin::ParkedProviderEvent;

#[component]
pub fn ParkedPage() -> impl IntoView {
    let console = use_console();
    let parked =
        LocalResource::new(move || async move { console.check(api::parked_events().await) });
    let replaying = RwSignal::new(None::<String>);
    let replayed = RwSignal::new(None::<String>);
    let replay_error = RwSignal::new(None::<String>);
    let replay = Action::new_local(move |(provider, event, token): &(String, String, String)| {
        let (provider, event, token) = (provider.clone(), event.clone(), token.clone());
        async move { console.check(api::replay_event(&provider, &event, &token).await) }
    });
    Effect::new(move |_| match replay.value().get() {
        Some(Ok(answer)) => {
            replaying.set(None);
            replayed.set(Some(format!(
                "Event {} is queued to be applied again.",
                answer.event_id
            )));
            parked.refetch();
            focus_soon("#pc-replay-status");
        }
        Some(Err(error)) => {
            replaying.set(None);
            replay_error.set(Some(format!("Replay failed: {}", error.message())));
        }
        None => {}
    });
    let on_replay = Callback::new(move |(provider, event): (String, String)| {
        // One replay at a time; a second click does nothing.
        if replaying.get_untracked().is_some() {
            return;
        }
        let Some(token) = console.csrf_token() else {
            return;
        };
        replayed.set(None);
        replay_error.set(None);
        replaying.set(Some(event.clone()));
        replay.dispatch_local((provider, event, token));
    });
    view! {
        <div class="pc-page pc-parked">
            <h1 tabindex="-1" id="pc-parked-heading">"Parked provider events"</h1>
            <p class="pc-hint">
                "Stripe and PayPal webhooks paygate could not apply through every retry (about a day). "
                "Replay one once its cause is fixed; applying is safe to repeat."
            </p>
            <p id="pc-replay-status" class="pc-success" role="status" tabindex="-1">
                {move || replayed.get()}
            </p>
            <p id="pc-replay-error" class="pc-error" role="alert">
                {move || replay_error.get()}
            </p>
            <Loaded
                read=move || parked.get()
                refetch=move || parked.refetch()
                pending=Pending::Status("Loading parked events…")
                let:list
            >
                <ParkedTable events=list.data replaying on_replay />
            </Loaded>
        </div>
    }
}

/// The parked events' table. Ids: `#pc-parked` (rows `tr[data-id]`, the provider's event id),
/// `.pc-replay` buttons, `#pc-no-parked`.
#[component]
pub fn ParkedTable(
    events: Vec<ParkedProviderEvent>,
    /// The event being replayed, if any.
    #[prop(into)]
    replaying: Signal<Option<String>>,
    /// Replays (provider, event id).
    on_replay: Callback<(String, String)>,
) -> impl IntoView {
    if events.is_empty() {
        return view! {
            <p id="pc-no-parked" class="pc-notice">"No parked events: every provider webhook was applied."</p>
        }
        .into_any();
    }
    let rows = events
        .into_iter()
        .map(|e| {
            let received = format::millis(e.received_at);
            let parked = format::millis(e.parked_at);
            let busy_id = e.event_id.clone();
            let busy = move || replaying.with(|r| r.as_deref() == Some(busy_id.as_str()));
            let busy_label = busy.clone();
            let target = (e.provider.clone(), e.event_id.clone());
            view! {
                <tr data-id=e.event_id.clone()>
                    <td>
                        <span class="pc-id">{e.event_id.clone()}</span>
                        <div class="pc-sub">{format::words(&e.provider)}</div>
                    </td>
                    <td class="pc-wrap">{e.event_type.clone()}</td>
                    <td><time datetime=format::iso(received)>{format::datetime(received)}</time></td>
                    <td>
                        <time datetime=format::iso(parked)>{format::datetime(parked)}</time>
                        <div class="pc-sub">{format!("after {} attempts", e.attempts)}</div>
                    </td>
                    <td class="pc-wrap">{e.reason.clone().unwrap_or_default()}</td>
                    <td>
                        <button
                            type="button"
                            class="pc-button pc-button-secondary pc-replay"
                            disabled=busy
                            on:click=move |_| on_replay.run(target.clone())
                        >
                            {move || if busy_label() { "Replaying…" } else { "Replay" }}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-parked-heading" tabindex="0">
            <table id="pc-parked" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Received"</th>
                        <th scope="col">"Parked"</th>
                        <th scope="col">"Last error"</th>
                        <th scope="col"><span class="pc-visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
