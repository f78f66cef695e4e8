//! One payment (`/admin/payments/{id}`): its facts, the refund form, its timeline (with what
//! caused each change), refunds, provider references and the raw provider events.

use super::api;
use super::format;
use super::loaded::{Failed, Loaded, Pending};
use super::refund::RefundForm;
use super::{focus_soon, use_console, Link, Route};
use leptos::prelude::*;
use shared::api::admin::{PaymentDetail, ProviderEventItem, TimelineItem};
use shared::api::Refund;

/// Loads the payment and shows it; reloads after a refund.
#[component]
pub fn PaymentPage(id: String) -> impl IntoView {
    let console = use_console();
    let load_id = id.clone();
    let detail = LocalResource::new(move || {
        let id = load_id.clone();
        async move { console.check(api::payment(&id).await) }
    });
    let back = Signal::derive(move || Route::History(console.history.get()));
    // Outside the detail view, which is rebuilt when the detail reloads after a refund.
    let refunded = RwSignal::new(None::<String>);
    let on_refunded = Callback::new(move |refund: Refund| {
        refunded.set(Some(refund_message(&refund)));
        detail.refetch();
        focus_soon("#pc-refund-status");
    });
    view! {
        <div class="pc-page pc-detail">
            <p class="pc-back">
                <Link to=back id="pc-back">"← Payments"</Link>
            </p>
            <h1 tabindex="-1">"Payment " <span class="pc-id">{id}</span></h1>
            <p id="pc-refund-status" class="pc-success" role="status" tabindex="-1">
                {move || refunded.get()}
            </p>
            // No "Try again" for a payment that does not exist.
            <Loaded
                read=move || detail.get()
                refetch=move || detail.refetch()
                pending=Pending::Status("Loading the payment…")
                failed=|error| if error.status() == Some(404) { Failed::Alert } else { Failed::Retry }
                let:detail_value
            >
                <PaymentDetailView detail=detail_value on_refunded=on_refunded />
            </Loaded>
        </div>
    }
}

/// What the page says once a refund was created.
pub fn refund_message(refund: &Refund) -> String {
    format!(
        "Refund {} of {} created ({}).",
        refund.id,
        format::amount(&refund.amount),
        format::words(&refund.status).to_lowercase()
    )
}

fn fact(label: &'static str, value: impl IntoView + 'static) -> impl IntoView {
    view! {
        <div class="pc-fact">
            <dt>{label}</dt>
            <dd>{value}</dd>
        </div>
    }
}

/// Pretty JSON, for payloads and details.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Whether a JSON detail says anything (not `null`, `{}` or `[]`).
fn meaningful(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Object(map) => !map.is_empty(),
        serde_json::Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

/// Renders a [`PaymentDetail`]; fetches nothing itself but the refund form's POST.
/// Ids for tests: `#pc-facts`, `#pc-status`, `#pc-amount`, `#pc-refundable`, `#pc-timeline`
/// (`li[data-cause]`), `#pc-refunds`, `#pc-references`, `#pc-events`, `#pc-refund-form`.
#[component]
pub fn PaymentDetailView(
    detail: PaymentDetail,
    /// Called after a refund was created (the page reloads the detail).
    #[prop(optional)]
    on_refunded: Option<Callback<Refund>>,
) -> impl IntoView {
    let payment = detail.payment.clone();
    let currency = payment.amount.currency;
    let money = move |minor: i64| shared::Money::from_minor(minor, currency).display();
    let when = |seconds: i64| {
        let ms = format::millis(seconds);
        view! { <time datetime=format::iso(ms)>{format::datetime_precise(ms)}</time> }
    };
    let last_error = payment.last_error.clone().map(|e| {
        let decline = e
            .decline_code
            .map(|c| format!(" (decline code {c})"))
            .unwrap_or_default();
        format!("{}: {}{decline}", e.code, e.message)
    });
    let metadata = (!payment.metadata.is_empty()).then(|| {
        let entries = payment
            .metadata
            .iter()
            .map(|(key, value)| view! { <div class="pc-fact"><dt>{key.clone()}</dt><dd>{value.clone()}</dd></div> })
            .collect_view();
        view! {
            <section class="pc-section" aria-labelledby="pc-metadata-heading">
                <h2 id="pc-metadata-heading">"Metadata"</h2>
                <dl class="pc-facts">{entries}</dl>
            </section>
        }
    });

    let facts = view! {
        <dl id="pc-facts" class="pc-facts">
            {fact("Status", view! {
                <span id="pc-status" class="pc-badge" data-status=payment.status.as_str()>
                    {format::status_label(payment.status)}
                </span>
            })}
            {fact("Amount", view! { <span id="pc-amount">{format::amount(&payment.amount)}</span> })}
            {fact("Captured", view! { <span id="pc-captured">{money(payment.captured_minor)}</span> })}
            {fact("Refunded", view! { <span id="pc-refunded">{money(payment.refunded_minor)}</span> })}
            {fact("Refundable", view! { <span id="pc-refundable">{format::amount(&detail.refundable)}</span> })}
            {fact("Provider", payment.provider.display_name())}
            {fact("Capture", format::words(payment.capture_mode.as_str()))}
            {fact("Customer", view! {
                <span id="pc-customer">
                    {detail.customer_email.clone().unwrap_or_else(|| "—".to_string())}
                    {payment.customer.clone().map(|c| view! { " " <span class="pc-sub pc-id">{c}</span> })}
                </span>
            })}
            {payment.description.clone().map(|d| fact("Description", d))}
            {payment.checkout_session.clone().map(|s| fact("Checkout session", view! { <span class="pc-id">{s}</span> }))}
            {fact("Created", when(payment.created))}
            {fact("Updated", when(payment.updated))}
            {last_error.map(|e| fact("Last error", view! { <span class="pc-error-text">{e}</span> }))}
            {payment.next_action.clone().map(|a| {
                // An off-session charge waiting for its customer: the page to send them to.
                let page = a.url.clone().filter(|_| a.kind == "authenticate");
                fact("Next action", view! {
                    <span id="pc-next-action">
                        {format::words(&a.kind)}
                        {page.map(|url| view! {
                            " " <a id="pc-authenticate-link" href=url target="_blank" rel="noreferrer">
                                "the customer's authentication page"
                            </a>
                        })}
                    </span>
                })
            })}
            {payment.payment_method.clone().map(|pm| {
                fact("Saved card", view! { <span id="pc-payment-method" class="pc-id">{pm}</span> })
            })}
        </dl>
    };

    let refund_section = if detail.refundable.amount_minor > 0 {
        view! {
            <RefundForm
                payment_id=payment.id.clone()
                amount=payment.amount.clone()
                refundable=detail.refundable.clone()
                customer=detail.customer_email.clone()
                on_refunded=on_refunded
            />
        }
        .into_any()
    } else {
        view! {
            <section class="pc-section" aria-labelledby="pc-refund-heading">
                <h2 id="pc-refund-heading">"Refund"</h2>
                <p id="pc-no-refund" class="pc-notice">"Nothing is left to refund on this payment."</p>
            </section>
        }
        .into_any()
    };

    view! {
        {facts}
        {refund_section}
        <Timeline items=detail.timeline.clone() />
        <Refunds refunds=detail.refunds.clone() money=Callback::new(money) />
        <super::disputes::PaymentDisputes disputes=detail.disputes.clone() />
        <References detail=detail.clone() />
        <ProviderEvents events=detail.provider_events.clone() />
        {metadata}
    }
}

#[component]
fn Timeline(items: Vec<TimelineItem>) -> impl IntoView {
    let empty = items.is_empty();
    let entries = items
        .into_iter()
        .map(|item| {
            let ms = format::millis(item.at);
            let change = match (&item.from_status, &item.to_status) {
                (Some(from), Some(to)) => Some(format!("{} → {}", format::words(from), format::words(to))),
                (None, Some(to)) => Some(format!("→ {}", format::words(to))),
                (Some(from), None) => Some(format!("{} →", format::words(from))),
                (None, None) => None,
            };
            let detail = meaningful(&item.detail).then(|| {
                view! {
                    <details class="pc-json">
                        <summary>"Details"</summary>
                        <pre>{pretty(&item.detail)}</pre>
                    </details>
                }
            });
            view! {
                <li class="pc-timeline-item" data-cause=item.cause.clone() data-kind=item.kind.clone()>
                    <time datetime=format::iso(ms)>{format::datetime_precise(ms)}</time>
                    " "
                    <span class="pc-cause" data-cause=item.cause.clone()>{format::cause_label(&item.cause)}</span>
                    " "
                    <span class="pc-kind">{format::words(&item.kind)}</span>
                    {change.map(|c| view! { " " <span class="pc-change">{c}</span> })}
                    {detail}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="pc-section" aria-labelledby="pc-timeline-heading">
            <h2 id="pc-timeline-heading">"Timeline"</h2>
            {if empty {
                view! { <p class="pc-notice">"No changes recorded."</p> }.into_any()
            } else {
                view! { <ol id="pc-timeline" class="pc-timeline">{entries}</ol> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Refunds(refunds: Vec<Refund>, money: Callback<i64, String>) -> impl IntoView {
    if refunds.is_empty() {
        return ().into_any();
    }
    let rows = refunds
        .into_iter()
        .map(|refund| {
            let ms = format::millis(refund.created);
            view! {
                <tr data-id=refund.id.clone()>
                    <td class="pc-id">{refund.id.clone()}</td>
                    <td><span class="pc-badge" data-status=refund.status.clone()>{format::words(&refund.status)}</span></td>
                    <td class="pc-num">{money.run(refund.amount.amount_minor)}</td>
                    <td>{refund.reason.as_deref().map(format::words).unwrap_or_default()}</td>
                    <td class="pc-wrap">{refund.failure_reason.clone().unwrap_or_default()}</td>
                    <td><time datetime=format::iso(ms)>{format::datetime(ms)}</time></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="pc-section" aria-labelledby="pc-refunds-heading">
            <h2 id="pc-refunds-heading">"Refunds"</h2>
            <div class="pc-table-wrap" role="region" aria-labelledby="pc-refunds-heading" tabindex="0">
                <table id="pc-refunds" class="pc-table">
                    <thead>
                        <tr>
                            <th scope="col">"Refund"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="pc-num">"Amount"</th>
                            <th scope="col">"Reason"</th>
                            <th scope="col">"Failure"</th>
                            <th scope="col">"Created"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// The provider's ids for the payment and its refunds (what to search for in the provider's
/// dashboard).
#[component]
fn References(detail: PaymentDetail) -> impl IntoView {
    let provider = detail.payment.provider.display_name();
    let mut entries: Vec<(String, String)> = Vec::new();
    if let Some(reference) = &detail.payment.provider_reference {
        entries.push((format!("{provider} payment"), reference.clone()));
    }
    if let Some(reference) = &detail.provider_authorization {
        entries.push((format!("{provider} authorization"), reference.clone()));
    }
    if let Some(reference) = &detail.provider_capture {
        entries.push((format!("{provider} capture"), reference.clone()));
    }
    for refund in &detail.refunds {
        if let Some(reference) = &refund.provider_reference {
            entries.push((
                format!("{provider} refund for {}", refund.id),
                reference.clone(),
            ));
        }
    }
    let empty = entries.is_empty();
    let items = entries
        .into_iter()
        .map(|(label, reference)| view! { <div class="pc-fact"><dt>{label}</dt><dd class="pc-id">{reference}</dd></div> })
        .collect_view();
    view! {
        <section class="pc-section" aria-labelledby="pc-references-heading">
            <h2 id="pc-references-heading">"Provider references"</h2>
            {if empty {
                view! { <p class="pc-notice">"The provider has not been reached yet."</p> }.into_any()
            } else {
                view! { <dl id="pc-references" class="pc-facts">{items}</dl> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ProviderEvents(events: Vec<ProviderEventItem>) -> impl IntoView {
    if events.is_empty() {
        return ().into_any();
    }
    let items = events
        .into_iter()
        .map(|event| {
            let received = format::millis(event.received_at);
            let processed = match event.processed_at {
                Some(at) => format!("processed {}", format::datetime_precise(format::millis(at))),
                None => "not processed yet".to_string(),
            };
            let outcome = event.outcome.clone().map(|o| format!(" · {}", format::words(&o)));
            let note = event
                .note
                .clone()
                .map(|n| view! { <p class="pc-hint pc-event-note">{n}</p> });
            view! {
                <li class="pc-event" data-event-id=event.event_id.clone()>
                    <div>
                        <span class="pc-kind">{event.event_type.clone()}</span>
                        " "
                        <span class="pc-sub">{event.provider.display_name()}</span>
                    </div>
                    <div class="pc-sub">
                        <span class="pc-id">{event.event_id.clone()}</span>
                        " · received "
                        <time datetime=format::iso(received)>{format::datetime_precise(received)}</time>
                        " · "
                        {processed}
                        {outcome}
                    </div>
                    {note}
                    <details class="pc-json">
                        <summary>"Payload"</summary>
                        <pre>{pretty(&event.payload)}</pre>
                    </details>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="pc-section" aria-labelledby="pc-events-heading">
            <h2 id="pc-events-heading">"Provider events"</h2>
            <ul id="pc-events" class="pc-events">{items}</ul>
        </section>
    }
    .into_any()
}
