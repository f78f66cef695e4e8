//! One webhook endpoint (`/admin/webhooks/{id}?status=...`): its facts, then its deliveries
//! newest first, filtered by status (the filter lives in the URL). Each delivery opens to show
//! every attempt (time, HTTP status or error, latency, the start of the answer); "More
//! deliveries" appends the next page; "Resend" queues the event again with the CSRF token, says
//! so, and reloads the list.

use super::api;
use super::format;
use super::loaded::{Failed, Loaded, Pending};
use super::route::DELIVERY_STATUSES;
use super::{focus_soon, use_console, Link, Route};
use leptos::prelude::*;
use shared::api::{List, WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use std::collections::BTreeSet;

/// Columns of the deliveries table (the attempts row spans them all).
const COLUMNS: &str = "7";

/// Loads the endpoint; its deliveries follow once it is known (an unknown endpoint shows one
/// error, not two).
#[component]
pub fn EndpointPage(id: String, #[prop(into)] status: Signal<Option<String>>) -> impl IntoView {
    let console = use_console();
    let load_id = id.clone();
    let endpoint = LocalResource::new(move || {
        let id = load_id.clone();
        async move { console.check(api::webhook_endpoint(&id).await) }
    });
    view! {
        <div class="pc-page pc-endpoint">
            <p class="pc-back">
                <Link to=Route::Webhooks id="pc-back">"← Webhooks"</Link>
            </p>
            <h1 tabindex="-1">"Webhook endpoint " <span class="pc-id">{id}</span></h1>
            // No "Try again" for an endpoint that does not exist.
            <Loaded
                read=move || endpoint.get()
                refetch=move || endpoint.refetch()
                pending=Pending::Status("Loading the endpoint…")
                failed=|error| if error.status() == Some(404) { Failed::Alert } else { Failed::Retry }
                children=move |endpoint: WebhookEndpoint| {
                    let id = endpoint.id.clone();
                    view! {
                        <EndpointFacts endpoint />
                        <DeliveriesSection endpoint=id status />
                    }
                }
            />
        </div>
    }
}

/// Ids: `#pc-endpoint-facts`, `#pc-endpoint-url`, `#pc-endpoint-status`, `#pc-endpoint-events`.
#[component]
pub fn EndpointFacts(endpoint: WebhookEndpoint) -> impl IntoView {
    let created = format::millis(endpoint.created);
    let description = endpoint.description.clone().map(|text| {
        view! {
            <div class="pc-fact">
                <dt>"Description"</dt>
                <dd>{text}</dd>
            </div>
        }
    });
    view! {
        <dl id="pc-endpoint-facts" class="pc-facts">
            <div class="pc-fact">
                <dt>"URL"</dt>
                <dd id="pc-endpoint-url">{endpoint.url.clone()}</dd>
            </div>
            <div class="pc-fact">
                <dt>"Status"</dt>
                <dd>
                    <span id="pc-endpoint-status" class="pc-badge" data-status=endpoint.status.clone()>
                        {format::words(&endpoint.status)}
                    </span>
                </dd>
            </div>
            {description}
            <div class="pc-fact">
                <dt>"Events"</dt>
                <dd id="pc-endpoint-events">{endpoint.enabled_events.join(", ")}</dd>
            </div>
            <div class="pc-fact">
                <dt>"Created"</dt>
                <dd><time datetime=format::iso(created)>{format::datetime(created)}</time></dd>
            </div>
        </dl>
    }
}

/// The status filter, the resend messages and the deliveries of the filter's first page (and
/// those appended after it). Ids: `#pc-d-status`, `#pc-deliveries-refresh`,
/// `#pc-resend-status`, `#pc-resend-error`.
#[component]
fn DeliveriesSection(
    endpoint: String,
    #[prop(into)] status: Signal<Option<String>>,
) -> impl IntoView {
    let console = use_console();
    let load_endpoint = endpoint.clone();
    // Each answer carries the filter it answers, so a stale page can be told from the current one.
    let first = LocalResource::new(move || {
        let (endpoint, status) = (load_endpoint.clone(), status.get());
        async move {
            let result = console.check(api::deliveries(&endpoint, status.as_deref(), None).await);
            (status, result)
        }
    });
    let loading = move || {
        first
            .map(|(answered, _)| status.with(|s| answered != s))
            .unwrap_or(true)
    };

    // Which deliveries show their attempts: kept here, so a reload leaves them open.
    let expanded = RwSignal::new(BTreeSet::<String>::new());
    let resending = RwSignal::new(None::<String>);
    let resent = RwSignal::new(None::<String>);
    let resend_error = RwSignal::new(None::<String>);
    let resend_endpoint = endpoint.clone();
    let resend = Action::new_local(move |(delivery, token): &(String, String)| {
        let (endpoint, delivery, token) =
            (resend_endpoint.clone(), delivery.clone(), token.clone());
        async move { console.check(api::resend(&endpoint, &delivery, &token).await) }
    });
    Effect::new(move |_| match resend.value().get() {
        Some(Ok(answer)) => {
            resending.set(None);
            resent.set(Some(format!(
                "Event {} is queued for delivery again.",
                answer.event
            )));
            first.refetch();
            focus_soon("#pc-resend-status");
        }
        Some(Err(error)) => {
            resending.set(None);
            resend_error.set(Some(format!("Resending failed: {}", error.message())));
        }
        None => {}
    });
    let on_resend = Callback::new(move |delivery: String| {
        // One resend at a time; a second click on the same button does nothing.
        if resending.get_untracked().is_some() {
            return;
        }
        let Some(token) = console.csrf_token() else {
            return;
        };
        resent.set(None);
        resend_error.set(None);
        resending.set(Some(delivery.clone()));
        resend.dispatch_local((delivery, token));
    });

    let filter_endpoint = endpoint.clone();
    let on_filter = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let status = DELIVERY_STATUSES
            .into_iter()
            .find(|s| *s == value)
            .map(str::to_string);
        console.navigate(Route::WebhookEndpoint {
            id: filter_endpoint.clone(),
            status,
        });
    };
    let options = DELIVERY_STATUSES
        .into_iter()
        .map(|s| {
            view! {
                <option value=s selected=move || status.with(|current| current.as_deref() == Some(s))>
                    {format::words(s)}
                </option>
            }
        })
        .collect_view();

    view! {
        <section class="pc-section pc-deliveries" aria-labelledby="pc-deliveries-heading">
            <div class="pc-section-head">
                <h2 id="pc-deliveries-heading" tabindex="-1">"Deliveries"</h2>
                <button
                    type="button"
                    id="pc-deliveries-refresh"
                    class="pc-button pc-button-secondary"
                    on:click=move |_| first.refetch()
                >
                    "Refresh"
                </button>
            </div>
            <div class="pc-field pc-delivery-filter">
                <label for="pc-d-status">"Status"</label>
                <select id="pc-d-status" name="status" on:change=on_filter>
                    <option value="" selected=move || status.with(Option::is_none)>"Any status"</option>
                    {options}
                </select>
            </div>
            <p id="pc-resend-status" class="pc-success" role="status" tabindex="-1">
                {move || resent.get()}
            </p>
            <p id="pc-resend-error" class="pc-error" role="alert">
                {move || resend_error.get()}
            </p>
            <p class="pc-notice" role="status">
                {move || if loading() { "Loading deliveries…" } else { "" }}
            </p>
            <Loaded
                read=move || first.get().map(|(answered, result)| result.map(|page| (answered, page)))
                refetch=move || first.refetch()
                children=move |(answered, page): (Option<String>, List<WebhookDelivery>)| {
                    view! {
                        <DeliveryList
                            page
                            endpoint=endpoint.clone()
                            status=answered
                            expanded
                            resending
                            on_resend
                        />
                    }
                }
            />
        </section>
    }
}

/// One page of deliveries and the pages "More deliveries" appended to it (a reload starts from
/// the first page again). Ids: `#pc-deliveries` with a `tbody.pc-delivery[data-id]` per
/// delivery (its row, then `tr.pc-attempts` with the attempts, `hidden` until opened by
/// `.pc-attempts-toggle`), `.pc-resend`, `#pc-deliveries-more`, `#pc-more-error`,
/// `#pc-no-deliveries`.
#[component]
pub fn DeliveryList(
    page: List<WebhookDelivery>,
    endpoint: String,
    /// The filter `page` answers; later pages ask for the same.
    status: Option<String>,
    /// Deliveries whose attempts show.
    expanded: RwSignal<BTreeSet<String>>,
    /// The delivery being resent, if any.
    #[prop(into)]
    resending: Signal<Option<String>>,
    /// Resends the delivery of this id.
    on_resend: Callback<String>,
) -> impl IntoView {
    let console = use_console();
    if page.data.is_empty() {
        let text = if status.is_some() {
            "No deliveries with this status."
        } else {
            "No deliveries yet."
        };
        return view! { <p id="pc-no-deliveries" class="pc-notice">{text}</p> }.into_any();
    }
    let more = RwSignal::new(Vec::<WebhookDelivery>::new());
    let next = RwSignal::new(page.next_cursor.clone());
    let more_error = RwSignal::new(None::<String>);
    let load_more = Action::new_local(move |cursor: &String| {
        let (endpoint, status, cursor) = (endpoint.clone(), status.clone(), cursor.clone());
        async move { console.check(api::deliveries(&endpoint, status.as_deref(), Some(&cursor)).await) }
    });
    Effect::new(move |_| match load_more.value().get() {
        Some(Ok(page)) => {
            more.update(|rows| rows.extend(page.data));
            next.set(page.next_cursor);
            more_error.set(None);
        }
        Some(Err(error)) => more_error.set(Some(error.message())),
        None => {}
    });
    let pending = load_more.pending();
    let first_rows = page
        .data
        .into_iter()
        .map(|d| delivery_rows(d, expanded, resending, on_resend))
        .collect_view();

    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-deliveries-heading" tabindex="0">
            <table id="pc-deliveries" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Event type"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Next attempt"</th>
                        <th scope="col"><span class="pc-visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                {first_rows}
                {move || {
                    more.get()
                        .into_iter()
                        .map(|d| delivery_rows(d, expanded, resending, on_resend))
                        .collect_view()
                }}
            </table>
        </div>
        <p id="pc-more-error" class="pc-error" role="alert">
            {move || more_error.get()}
        </p>
        <nav class="pc-paging" aria-label="Delivery pages">
            {move || {
                next.get()
                    .map(|cursor| {
                        view! {
                            <button
                                type="button"
                                id="pc-deliveries-more"
                                class="pc-button pc-button-secondary"
                                aria-disabled=move || pending.get().then_some("true")
                                on:click=move |_| {
                                    if !pending.get_untracked() {
                                        load_more.dispatch_local(cursor.clone());
                                    }
                                }
                            >
                                {move || if pending.get() { "Loading…" } else { "More deliveries" }}
                            </button>
                        }
                    })
            }}
        </nav>
    }
    .into_any()
}

/// A delivery's `<tbody>`: its row, and the row of its attempts (hidden until opened).
fn delivery_rows(
    delivery: WebhookDelivery,
    expanded: RwSignal<BTreeSet<String>>,
    resending: Signal<Option<String>>,
    on_resend: Callback<String>,
) -> impl IntoView {
    let id = delivery.id.clone();
    let attempts_id = format!("pc-attempts-{id}");
    let open = {
        let id = id.clone();
        move || expanded.with(|set| set.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            expanded.update(|set| {
                if !set.remove(&id) {
                    set.insert(id.clone());
                }
            })
        }
    };
    let busy = {
        let id = id.clone();
        move || resending.with(|r| r.as_deref() == Some(id.as_str()))
    };
    let count = match delivery.attempts.len() {
        1 => "1 attempt".to_string(),
        n => format!("{n} attempts"),
    };
    let created = format::millis(delivery.created);
    let next_attempt = match delivery.next_attempt_at {
        Some(at) => {
            let ms = format::millis(at);
            view! { <time datetime=format::iso(ms)>{format::datetime_precise(ms)}</time> }
                .into_any()
        }
        None => "—".into_any(),
    };
    let open_for_row = open.clone();
    let busy_label = busy.clone();
    let resend_id = id.clone();
    view! {
        <tbody class="pc-delivery" data-id=id data-status=delivery.status.clone()>
            <tr>
                <td><time datetime=format::iso(created)>{format::datetime_precise(created)}</time></td>
                <td class="pc-kind pc-delivery-type">{delivery.event_type.clone()}</td>
                <td class="pc-id pc-delivery-event">{delivery.event.clone()}</td>
                <td>
                    <span class="pc-badge" data-status=delivery.status.clone()>
                        {format::words(&delivery.status)}
                    </span>
                </td>
                <td>
                    <button
                        type="button"
                        class="pc-link-button pc-attempts-toggle"
                        aria-expanded=move || open().to_string()
                        aria-controls=attempts_id.clone()
                        on:click=toggle
                    >
                        {count}
                    </button>
                </td>
                <td class="pc-next-attempt">{next_attempt}</td>
                <td>
                    <button
                        type="button"
                        class="pc-button pc-button-secondary pc-resend"
                        aria-label=format!("Resend {}", delivery.event)
                        aria-disabled=move || busy().then_some("true")
                        on:click=move |_| on_resend.run(resend_id.clone())
                    >
                        {move || if busy_label() { "Resending…" } else { "Resend" }}
                    </button>
                </td>
            </tr>
            <tr class="pc-attempts" id=attempts_id hidden=move || !open_for_row()>
                <td colspan=COLUMNS>
                    <AttemptsTable attempts=delivery.attempts />
                </td>
            </tr>
        </tbody>
    }
}

/// What one attempt came to: the endpoint's HTTP status, or why there was no answer.
pub fn attempt_result(attempt: &WebhookAttempt) -> String {
    match (attempt.http_status, &attempt.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "No answer".to_string(),
    }
}

/// Every attempt of a delivery, oldest first. Rows `tr.pc-attempt[data-ok]` with
/// `.pc-attempt-result`, `.pc-attempt-latency` and the answer's start in `.pc-attempt-response`.
#[component]
pub fn AttemptsTable(attempts: Vec<WebhookAttempt>) -> impl IntoView {
    if attempts.is_empty() {
        return view! { <p class="pc-notice">"No attempts yet."</p> }.into_any();
    }
    let rows = attempts
        .into_iter()
        .enumerate()
        .map(|(i, attempt)| {
            let at = format::millis(attempt.at);
            let ok = attempt
                .http_status
                .is_some_and(|status| (200..300).contains(&status));
            let result = attempt_result(&attempt);
            let response = attempt
                .response_body
                .filter(|body| !body.is_empty())
                .map(|body| view! { <pre class="pc-excerpt">{body}</pre> });
            view! {
                <tr class="pc-attempt" data-ok=ok.to_string()>
                    <td class="pc-num">{i + 1}</td>
                    <td><time datetime=format::iso(at)>{format::datetime_precise(at)}</time></td>
                    <td class="pc-attempt-result">{result}</td>
                    <td class="pc-num pc-attempt-latency">{format!("{} ms", attempt.latency_ms)}</td>
                    <td class="pc-attempt-response">{response}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="pc-table pc-attempts-table">
            <caption class="pc-visually-hidden">"Attempts"</caption>
            <thead>
                <tr>
                    <th scope="col" class="pc-num">"#"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Result"</th>
                    <th scope="col" class="pc-num">"Latency"</th>
                    <th scope="col">"Response"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(http_status: Option<u16>, error: Option<&str>) -> WebhookAttempt {
        WebhookAttempt {
            at: 1_793_664_000_000,
            http_status,
            error: error.map(str::to_string),
            latency_ms: 12,
            response_body: None,
        }
    }

    #[test]
    fn attempt_results() {
        assert_eq!(attempt_result(&attempt(Some(503), None)), "HTTP 503");
        assert_eq!(
            attempt_result(&attempt(None, Some("connection refused"))),
            "connection refused"
        );
        assert_eq!(attempt_result(&attempt(None, None)), "No answer");
    }
}
