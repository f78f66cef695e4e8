//! The merchant's webhook endpoints (`/admin/webhooks`): where paygate sends its events, with
//! their status and the events each receives. Merchants manage endpoints through the merchant
//! API; the console follows their deliveries ([`super::deliveries`]).

use super::api;
use super::format;
use super::loaded::{Loaded, Pending};
use super::{use_console, Link, Route};
use crate::http::plausible_id;
use leptos::prelude::*;
use shared::api::WebhookEndpoint;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let console = use_console();
    let endpoints =
        LocalResource::new(move || async move { console.check(api::webhook_endpoints().await) });
    view! {
        <div class="pc-page pc-webhooks">
            <h1 tabindex="-1" id="pc-webhooks-heading">"Webhook endpoints"</h1>
            <p class="pc-hint">
                "Where paygate sends its events. Endpoints are added and changed through the merchant API ("
                <code>"/v1/webhook_endpoints"</code>
                "); open one to follow its deliveries and resend an event."
            </p>
            <Loaded
                read=move || endpoints.get()
                refetch=move || endpoints.refetch()
                pending=Pending::Status("Loading the webhook endpoints…")
                let:list
            >
                <EndpointsTable endpoints=list.data />
            </Loaded>
        </div>
    }
}

/// The endpoints' table. Ids: `#pc-endpoints` (rows `tr[data-id]`, links to each endpoint's
/// page), `.pc-badge[data-status]`, `.pc-endpoint-health`, `.pc-endpoint-events`.
#[component]
pub fn EndpointsTable(endpoints: Vec<WebhookEndpoint>) -> impl IntoView {
    if endpoints.is_empty() {
        return view! {
            <p id="pc-no-endpoints" class="pc-notice">"No webhook endpoints yet."</p>
        }
        .into_any();
    }
    let rows = endpoints
        .into_iter()
        .map(|endpoint| {
            let ms = format::millis(endpoint.created);
            let health = health(&endpoint);
            // The server's ids always pass; the check keeps a link's path what it seems.
            let url = if plausible_id(&endpoint.id) {
                let to = Route::WebhookEndpoint {
                    id: endpoint.id.clone(),
                    status: None,
                };
                view! { <Link to=to class="pc-wrap">{endpoint.url.clone()}</Link> }.into_any()
            } else {
                view! { <span class="pc-wrap">{endpoint.url.clone()}</span> }.into_any()
            };
            view! {
                <tr data-id=endpoint.id.clone()>
                    <td>
                        {url}
                        <div class="pc-sub pc-id">{endpoint.id.clone()}</div>
                    </td>
                    <td class="pc-wrap">{endpoint.description.clone().unwrap_or_default()}</td>
                    <td>
                        <span class="pc-badge" data-status=endpoint.status.clone()>
                            {format::words(&endpoint.status)}
                        </span>
                        {health}
                    </td>
                    <td class="pc-wrap pc-endpoint-events">{endpoint.enabled_events.join(", ")}</td>
                    <td><time datetime=format::iso(ms)>{format::datetime(ms)}</time></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-webhooks-heading" tabindex="0">
            <table id="pc-endpoints" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"URL"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Events"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Why paygate disabled the endpoint, or since when it has been failing (five days of failures
/// disable it); nothing for a healthy endpoint.
fn health(endpoint: &WebhookEndpoint) -> Option<impl IntoView> {
    let text = if endpoint.disabled_reason.as_deref() == Some("failing") {
        "Disabled by paygate: every delivery failed for 5 days.".to_string()
    } else {
        let since = endpoint.failing_since?;
        format!("Failing since {}.", format::datetime(format::millis(since)))
    };
    Some(view! { <div class="pc-sub pc-endpoint-health">{text}</div> })
}
