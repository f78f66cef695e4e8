//! The subscriptions page (`/admin/subscriptions`): subscriptions newest first with their
//! status, paused collection, the latest invoice's state and the end of the paid period, so a
//! renewal that failed (or waits for the customer's 3-D Secure) shows at a glance; a filter
//! keeps only those with an unpaid invoice, and "Older subscriptions" pages on. Subscriptions
//! are made and changed through the merchant API.

use super::api;
use super::format;
use super::loaded::{Loaded, Pending};
use super::{use_console, Link, Route};
use leptos::prelude::*;
use shared::api::Subscription;

/// Whether the subscription needs the merchant: the server's `attention` filter, per row.
pub fn needs_attention(s: &Subscription) -> bool {
    matches!(s.status.as_str(), "incomplete" | "past_due" | "unpaid")
        || s.latest_invoice_status.as_deref() == Some("open")
}

/// The badge's `data-status` (the console's colours) for a Stripe status.
pub fn badge(status: &str) -> &'static str {
    match status {
        "active" | "trialing" => "succeeded",
        "past_due" | "unpaid" | "incomplete" => "failed",
        "canceled" | "incomplete_expired" | "failed" => "canceled",
        _ => "pending",
    }
}

/// What the latest invoice says, in words.
pub fn invoice_label(s: &Subscription) -> String {
    match s.latest_invoice_status.as_deref() {
        Some("open") => "Open: not paid".to_string(),
        Some(other) => format::words(other),
        None => String::new(),
    }
}

#[component]
pub fn SubscriptionsPage(#[prop(into)] filter: Signal<(bool, Option<String>)>) -> impl IntoView {
    let console = use_console();
    let page = LocalResource::new(move || {
        let (attention, cursor) = filter.get();
        async move { console.check(api::subscriptions(attention, cursor.as_deref()).await) }
    });
    let attention = move || filter.with(|(a, _)| *a);
    view! {
        <div class="pc-page pc-subscriptions">
            <h1 tabindex="-1" id="pc-subscriptions-heading">"Subscriptions"</h1>
            <p class="pc-hint">
                "Subscriptions are made and changed through the merchant API ("
                <code>"/v1/subscriptions"</code>
                "); their state follows Stripe's events."
            </p>
            <label class="pc-check">
                <input
                    id="pc-subscriptions-attention"
                    type="checkbox"
                    prop:checked=attention
                    on:change=move |ev| {
                        console.navigate(Route::Subscriptions {
                            attention: event_target_checked(&ev),
                            cursor: None,
                        });
                    }
                />
                " Only those with an unpaid invoice"
            </label>
            <Loaded
                read=move || page.get()
                refetch=move || page.refetch()
                pending=Pending::Status("Loading the subscriptions…")
                let:list
            >
                <SubscriptionsTable rows=list.data.clone() />
                {list.next_cursor.clone().map(|cursor| {
                    let to = Route::Subscriptions { attention: attention(), cursor: Some(cursor) };
                    view! {
                        <nav class="pc-paging" aria-label="Result pages">
                            <Link to=to id="pc-subscriptions-older" class="pc-button pc-button-secondary" focus="#pc-subscriptions-heading">
                                "Older subscriptions"
                            </Link>
                        </nav>
                    }
                })}
            </Loaded>
        </div>
    }
}

/// Ids: `#pc-subscriptions` (rows `tr[data-id]`, `data-attention` on those that need the
/// merchant), `.pc-badge[data-status]`, `.pc-sub-invoice`, `.pc-sub-pause`.
#[component]
fn SubscriptionsTable(rows: Vec<Subscription>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p id="pc-no-subscriptions" class="pc-notice">"No subscriptions here."</p> }
            .into_any();
    }
    let rows = rows
        .into_iter()
        .map(|s| {
            let created = format::millis(s.created);
            let period_end = s.current_period_end.map(|end| {
                let ms = format::millis(end);
                view! { <time datetime=format::iso(ms)>{format::datetime(ms)}</time> }
            });
            let pause = s.pause_collection.as_ref().map(|p| {
                let until = p
                    .resumes_at
                    .map(|at| format!(" until {}", format::datetime(format::millis(at))))
                    .unwrap_or_default();
                view! {
                    <div class="pc-sub pc-sub-pause">
                        {format!("Collection paused ({}){until}", format::words(&p.behavior))}
                    </div>
                }
            });
            view! {
                <tr data-id=s.id.clone() data-attention=needs_attention(&s).then_some("true")>
                    <td>
                        <span class="pc-id">{s.id.clone()}</span>
                        <div class="pc-sub">{s.customer.clone()}</div>
                    </td>
                    <td>{s.price.clone()}</td>
                    <td>
                        <span class="pc-badge" data-status=badge(&s.status)>{format::words(&s.status)}</span>
                        {s.cancel_at_period_end.then(|| view! { <div class="pc-sub">"Ends at period end"</div> })}
                        {pause}
                    </td>
                    <td class="pc-sub-invoice">{invoice_label(&s)}</td>
                    <td>{period_end}</td>
                    <td><time datetime=format::iso(created)>{format::datetime(created)}</time></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-subscriptions-heading" tabindex="0">
            <table id="pc-subscriptions" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"Subscription"</th>
                        <th scope="col">"Price"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Latest invoice"</th>
                        <th scope="col">"Paid until"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(status: &str, invoice: Option<&str>) -> Subscription {
        Subscription {
            id: "sub_1".into(),
            customer: "cus_1".into(),
            price: "price_1".into(),
            status: status.into(),
            provider_reference: None,
            cancel_at_period_end: false,
            current_period_end: None,
            latest_invoice_status: invoice.map(str::to_string),
            pause_collection: None,
            client_secret: None,
            created: 1,
        }
    }

    #[test]
    fn attention_and_labels() {
        assert!(!needs_attention(&sub("active", Some("paid"))));
        assert!(needs_attention(&sub("past_due", Some("paid"))));
        assert!(needs_attention(&sub("active", Some("open"))));
        assert!(needs_attention(&sub("incomplete", None)));
        assert_eq!(
            invoice_label(&sub("active", Some("open"))),
            "Open: not paid"
        );
        assert_eq!(badge("past_due"), "failed");
        assert_eq!(badge("active"), "succeeded");
    }
}
