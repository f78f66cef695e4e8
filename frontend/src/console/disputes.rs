//! Disputes (`/admin/disputes`): every dispute newest first with its payment, amount, reason,
//! status and the deadline to respond (those awaiting a response stand out, and a filter keeps
//! only them). A dispute awaiting a response opens to a form that submits text evidence to the
//! bank, and to "Accept dispute", confirmed in a second step; both go through the admin API,
//! which passes them to the provider and audits them. The payment's detail lists its disputes
//! ([`PaymentDisputes`]).

use super::api::{self, ApiError};
use super::format;
use super::loaded::{Loaded, Pending};
use super::{use_console, Link, Route};
use crate::http::plausible_id;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::{Dispute, SubmitDisputeEvidence};
use std::collections::BTreeMap;

/// The badge's `data-status` (the console's colours) for a dispute status.
pub fn badge(status: &str) -> &'static str {
    match status {
        "won" | "warning_closed" => "succeeded",
        "lost" => "failed",
        "needs_response" | "warning_needs_response" => "requires_action",
        _ => "pending",
    }
}

/// The evidence a response carries: the non-empty fields, trimmed.
pub fn evidence_of(fields: &[(&str, String)]) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

#[component]
pub fn DisputesPage(#[prop(into)] open: Signal<bool>) -> impl IntoView {
    let console = use_console();
    let list = LocalResource::new(move || {
        let open = open.get();
        async move { console.check(api::disputes(open).await) }
    });
    let changed = Callback::new(move |()| list.refetch());
    view! {
        <div class="pc-page pc-disputes">
            <h1 tabindex="-1" id="pc-disputes-heading">"Disputes"</h1>
            <p class="pc-hint">
                "A dispute is a customer's bank contesting a payment. Respond before the deadline with evidence, or accept it (the money stays with the customer)."
            </p>
            <label class="pc-check">
                <input
                    id="pc-disputes-open"
                    type="checkbox"
                    prop:checked=move || open.get()
                    on:change=move |ev| {
                        console.navigate(Route::Disputes { open: event_target_checked(&ev) });
                    }
                />
                " Only those awaiting a response"
            </label>
            <Loaded
                read=move || list.get()
                refetch=move || list.refetch()
                pending=Pending::Status("Loading the disputes…")
                let:page
            >
                <DisputesTable disputes=page.data.clone() changed />
            </Loaded>
        </div>
    }
}

/// Ids: `#pc-disputes` (rows `tr[data-id]`, `data-open` on those awaiting a response),
/// `.pc-badge[data-status]`, `.pc-dispute-due`, `.pc-dispute-respond` (the form).
#[component]
fn DisputesTable(disputes: Vec<Dispute>, changed: Callback<()>) -> impl IntoView {
    if disputes.is_empty() {
        return view! { <p id="pc-no-disputes" class="pc-notice">"No disputes here."</p> }
            .into_any();
    }
    let rows = disputes
        .into_iter()
        .map(|d| {
            let payment = plausible_id(&d.payment).then(|| {
                let to = Route::Payment(d.payment.clone());
                view! { <Link to=to class="pc-id">{d.payment.clone()}</Link> }
            });
            let due = d.evidence_due_by.map(|at| {
                let ms = format::millis(at);
                view! { <time datetime=format::iso(ms)>{format::datetime(ms)}</time> }
            });
            let respond = d.needs_response.then(|| {
                view! { <Respond id=d.id.clone() changed /> }
            });
            view! {
                <tr data-id=d.id.clone() data-open=d.needs_response.then_some("true")>
                    <td>
                        <span class="pc-id">{d.id.clone()}</span>
                        <div class="pc-sub">{payment}</div>
                    </td>
                    <td class="pc-num">{format::amount(&d.amount)}</td>
                    <td>{d.reason.as_deref().map(format::words).unwrap_or_default()}</td>
                    <td>
                        <span class="pc-badge" data-status=badge(&d.status)>{format::words(&d.status)}</span>
                    </td>
                    <td class="pc-dispute-due">{due}</td>
                    <td>{respond}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-disputes-heading" tabindex="0">
            <table id="pc-disputes" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"Dispute"</th>
                        <th scope="col" class="pc-num">"Amount"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Respond by"</th>
                        <th scope="col">"Response"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The response to one dispute: text evidence submitted to the bank, or acceptance after a
/// second confirming click.
#[component]
fn Respond(id: String, changed: Callback<()>) -> impl IntoView {
    let console = use_console();
    let name = RwSignal::new(String::new());
    let product = RwSignal::new(String::new());
    let story = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id_for_submit = id.clone();
    let submit = Action::new_local(move |body: &SubmitDisputeEvidence| {
        let (id, body) = (id_for_submit.clone(), body.clone());
        let token = console.csrf_token().unwrap_or_default();
        async move { console.check(api::submit_dispute_evidence(&id, &body, &token).await) }
    });
    let id_for_accept = id.clone();
    let accept = Action::new_local(move |(): &()| {
        let id = id_for_accept.clone();
        let token = console.csrf_token().unwrap_or_default();
        async move { console.check(api::accept_dispute(&id, &token).await) }
    });
    let done = move |result: Option<Result<Dispute, ApiError>>| match result {
        Some(Ok(_)) => {
            error.set(None);
            changed.run(());
        }
        Some(Err(e)) => error.set(Some(e.message())),
        None => {}
    };
    Effect::new(move |_| done(submit.value().get()));
    Effect::new(move |_| done(accept.value().get()));
    let busy = move || submit.pending().get() || accept.pending().get();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let evidence = evidence_of(&[
            ("customer_name", name.get_untracked()),
            ("product_description", product.get_untracked()),
            ("uncategorized_text", story.get_untracked()),
        ]);
        if evidence.is_empty() {
            error.set(Some("Write some evidence first.".to_string()));
            return;
        }
        submit.dispatch_local(SubmitDisputeEvidence {
            evidence,
            submit: true,
        });
    };
    let field = |suffix: &'static str| format!("pc-dispute-{suffix}-{id}");
    let (name_id, product_id, story_id) = (field("name"), field("product"), field("story"));
    view! {
        <details class="pc-dispute-respond">
            <summary>"Respond"</summary>
            <form class="pc-form" on:submit=on_submit>
                <fieldset disabled=busy>
                    <legend class="pc-visually-hidden">"Evidence"</legend>
                    <div class="pc-field">
                        <label for=name_id.clone()>"Customer's name"</label>
                        <input id=name_id name="customer_name" type="text" autocomplete="off" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    </div>
                    <div class="pc-field">
                        <label for=product_id.clone()>"What was sold"</label>
                        <input id=product_id name="product_description" type="text" autocomplete="off" prop:value=move || product.get() on:input=move |ev| product.set(event_target_value(&ev)) />
                    </div>
                    <div class="pc-field">
                        <label for=story_id.clone()>"What happened"</label>
                        <textarea id=story_id name="uncategorized_text" rows="3" prop:value=move || story.get() on:input=move |ev| story.set(event_target_value(&ev))></textarea>
                    </div>
                    <button type="submit" class="pc-button pc-dispute-submit">"Submit evidence"</button>
                    <button
                        type="button"
                        class="pc-button pc-button-secondary pc-dispute-accept"
                        on:click=move |_| {
                            if confirming.get_untracked() {
                                accept.dispatch_local(());
                            } else {
                                confirming.set(true);
                            }
                        }
                    >
                        {move || if confirming.get() { "Confirm: accept and lose the dispute" } else { "Accept dispute" }}
                    </button>
                </fieldset>
                <p class="pc-error" role="alert">{move || error.get()}</p>
            </form>
        </details>
    }
}

/// The disputes section of a payment's detail (nothing when it has none). Ids:
/// `#pc-payment-disputes` (rows `tr[data-id]`).
#[component]
pub fn PaymentDisputes(disputes: Vec<Dispute>) -> impl IntoView {
    if disputes.is_empty() {
        return ().into_any();
    }
    let rows = disputes
        .into_iter()
        .map(|d| {
            let due = d.evidence_due_by.map(|at| format::datetime(format::millis(at)));
            view! {
                <tr data-id=d.id.clone()>
                    <td class="pc-id">{d.id.clone()}</td>
                    <td><span class="pc-badge" data-status=badge(&d.status)>{format::words(&d.status)}</span></td>
                    <td class="pc-num">{format::amount(&d.amount)}</td>
                    <td>{d.reason.as_deref().map(format::words).unwrap_or_default()}</td>
                    <td>{due}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="pc-section" aria-labelledby="pc-payment-disputes-heading">
            <h2 id="pc-payment-disputes-heading">"Disputes"</h2>
            <p>
                <Link to=Route::Disputes { open: false }>"Respond on the disputes page"</Link>
            </p>
            <div class="pc-table-wrap" role="region" aria-labelledby="pc-payment-disputes-heading" tabindex="0">
                <table id="pc-payment-disputes" class="pc-table">
                    <thead>
                        <tr>
                            <th scope="col">"Dispute"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="pc-num">"Amount"</th>
                            <th scope="col">"Reason"</th>
                            <th scope="col">"Respond by"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_keeps_what_was_written() {
        let e = evidence_of(&[
            ("customer_name", "  Ada ".to_string()),
            ("product_description", "   ".to_string()),
            ("uncategorized_text", "Delivered on the 3rd".to_string()),
        ]);
        assert_eq!(e.len(), 2);
        assert_eq!(e["customer_name"], "Ada");
        assert!(!e.contains_key("product_description"));
        assert_eq!(badge("needs_response"), "requires_action");
        assert_eq!(badge("lost"), "failed");
        assert_eq!(badge("won"), "succeeded");
    }
}
