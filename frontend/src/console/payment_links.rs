//! The payment links page (`/admin/links`): a form that makes a link (a fixed amount, or an
//! amount the customer chooses within bounds; an optional limit on paid sessions), and the
//! links newest first with their state, how many of their sessions are paid, a link to their
//! payments in the history, and a button that switches each off or on. Every change goes
//! through the admin API with the CSRF token and is audited there.

use super::api::{self, ApiError};
use super::format;
use super::loaded::{Loaded, Pending};
use super::{use_console, Link, Route};
use crate::http::plausible_id;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::api::admin::HistoryQuery;
use shared::api::{
    CompletedSessionsLimit, CreatePaymentLink, CustomAmountRequest, PaymentLink,
    PaymentLinkRestrictionsRequest, PaymentLinkUnavailable,
};

/// What the create form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFormValues {
    pub currency: String,
    /// `true`: the customer chooses the amount within `minimum..=maximum`.
    pub custom: bool,
    pub amount: String,
    pub minimum: String,
    pub maximum: String,
    pub description: String,
    pub limit: String,
}

impl LinkFormValues {
    /// The request these values make. The server judges amounts and currencies; only a limit
    /// that is not a whole number is refused here, since JSON could not carry it.
    pub fn to_request(&self) -> Result<CreatePaymentLink, (&'static str, String)> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|t| !t.is_empty());
        let limit = match text(&self.limit) {
            None => None,
            Some(t) => Some(t.parse::<i64>().map_err(|_| {
                (
                    "restrictions[completed_sessions][limit]",
                    "The limit must be a whole number.".to_string(),
                )
            })?),
        };
        let (amount, custom_amount) = if self.custom {
            (
                None,
                Some(CustomAmountRequest {
                    minimum: self.minimum.trim().to_string(),
                    maximum: self.maximum.trim().to_string(),
                    preset: None,
                }),
            )
        } else {
            (Some(self.amount.trim().to_string()), None)
        };
        Ok(CreatePaymentLink {
            currency: self.currency.trim().to_ascii_uppercase(),
            amount,
            custom_amount,
            description: text(&self.description),
            restrictions: limit.map(|limit| PaymentLinkRestrictionsRequest {
                completed_sessions: CompletedSessionsLimit { limit },
            }),
            ..CreatePaymentLink::default()
        })
    }
}

/// The price as the table shows it.
pub fn price_label(link: &PaymentLink) -> String {
    match (&link.amount, &link.custom_amount) {
        (Some(amount), _) => format::amount(amount),
        (None, Some(custom)) => format!(
            "{} to {}, chosen by the customer",
            format::amount(&custom.minimum),
            format::amount(&custom.maximum)
        ),
        (None, None) => String::new(),
    }
}

/// The state badge: its `data-status` and label.
pub fn state_label(link: &PaymentLink) -> (&'static str, &'static str) {
    match link.unavailable_reason {
        None => ("enabled", "Active"),
        Some(PaymentLinkUnavailable::Inactive) => ("disabled", "Deactivated"),
        Some(PaymentLinkUnavailable::Expired) => ("canceled", "Expired"),
        Some(PaymentLinkUnavailable::LimitReached) => ("succeeded", "Limit reached"),
    }
}

/// Paid sessions, out of the limit when there is one.
pub fn paid_label(link: &PaymentLink) -> String {
    match &link.restrictions {
        Some(r) => format!(
            "{} of {}",
            r.completed_sessions.count, r.completed_sessions.limit
        ),
        None => link.completed_sessions.to_string(),
    }
}

#[component]
pub fn PaymentLinksPage() -> impl IntoView {
    let console = use_console();
    let links =
        LocalResource::new(move || async move { console.check(api::payment_links().await) });
    let status = RwSignal::new(String::new());
    let toggle = Action::new_local(move |(id, active): &(String, bool)| {
        let (id, active) = (id.clone(), *active);
        let token = console.csrf_token().unwrap_or_default();
        async move { console.check(api::set_payment_link_active(&id, active, &token).await) }
    });
    Effect::new(move |_| match toggle.value().get() {
        Some(Ok(link)) => {
            status.set(format!(
                "{} is {}.",
                link.id,
                if link.active {
                    "active again"
                } else {
                    "deactivated"
                }
            ));
            links.refetch();
        }
        Some(Err(e)) => status.set(format!("The link was not changed: {}", e.message())),
        None => {}
    });
    let on_created = Callback::new(move |link: PaymentLink| {
        status.set(format!("Created {}: {}", link.id, link.url));
        links.refetch();
    });
    view! {
        <div class="pc-page pc-links">
            <h1 tabindex="-1" id="pc-links-heading">"Payment links"</h1>
            <p class="pc-hint">
                "A payment link is a page to share with customers: each customer who presses its button gets a checkout session of their own. Links are also made through the merchant API ("
                <code>"/v1/payment_links"</code>
                ")."
            </p>
            <CreateLinkForm on_created />
            <p id="pc-links-status" class="pc-notice" role="status">{move || status.get()}</p>
            <Loaded
                read=move || links.get()
                refetch=move || links.refetch()
                pending=Pending::Status("Loading the payment links…")
                let:list
            >
                <LinksTable links=list.data toggle busy=toggle.pending() />
            </Loaded>
        </div>
    }
}

/// Ids: `#pc-link-form`, `#pc-link-currency`, `#pc-link-kind` (`fixed` / `custom`),
/// `#pc-link-amount`, `#pc-link-minimum`, `#pc-link-maximum`, `#pc-link-description`,
/// `#pc-link-limit`, `#pc-link-create`, `#pc-link-error`.
#[component]
fn CreateLinkForm(on_created: Callback<PaymentLink>) -> impl IntoView {
    let console = use_console();
    let values = RwSignal::new(LinkFormValues {
        currency: "USD".to_string(),
        ..LinkFormValues::default()
    });
    let error = RwSignal::new(None::<(Option<String>, String)>);
    let create = Action::new_local(move |body: &CreatePaymentLink| {
        let body = body.clone();
        let token = console.csrf_token().unwrap_or_default();
        async move { console.check(api::create_payment_link(&body, &token).await) }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(link)) => {
            error.set(None);
            values.update(|v| {
                v.amount.clear();
                v.minimum.clear();
                v.maximum.clear();
                v.description.clear();
                v.limit.clear();
            });
            on_created.run(link);
        }
        Some(Err(e)) => error.set(Some((e.param().map(str::to_string), e.message()))),
        None => {}
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match values.with_untracked(LinkFormValues::to_request) {
            Ok(body) => {
                error.set(None);
                create.dispatch_local(body);
            }
            Err((param, message)) => error.set(Some((Some(param.to_string()), message))),
        }
    };
    let invalid = move |params: &'static [&'static str]| {
        move || {
            error
                .with(|e| {
                    e.as_ref()
                        .and_then(|(p, _)| p.as_deref())
                        .is_some_and(|p| params.contains(&p))
                })
                .then_some("true")
        }
    };
    let field = move |get: fn(&LinkFormValues) -> &String, set: fn(&mut LinkFormValues, String)| {
        (
            move || values.with(|v| get(v).clone()),
            move |ev| values.update(|v| set(v, event_target_value(&ev))),
        )
    };
    let (currency, on_currency) = field(|v| &v.currency, |v, s| v.currency = s);
    let (amount, on_amount) = field(|v| &v.amount, |v, s| v.amount = s);
    let (minimum, on_minimum) = field(|v| &v.minimum, |v, s| v.minimum = s);
    let (maximum, on_maximum) = field(|v| &v.maximum, |v, s| v.maximum = s);
    let (description, on_description) = field(|v| &v.description, |v, s| v.description = s);
    let (limit, on_limit) = field(|v| &v.limit, |v, s| v.limit = s);
    let custom = move || values.with(|v| v.custom);
    view! {
        <section class="pc-panel" aria-labelledby="pc-link-form-heading">
            <h2 id="pc-link-form-heading">"New payment link"</h2>
            <form id="pc-link-form" class="pc-form" on:submit=on_submit>
                <fieldset disabled=move || create.pending().get()>
                    <legend class="pc-visually-hidden">"Payment link"</legend>
                    <div class="pc-field">
                        <label for="pc-link-currency">"Currency"</label>
                        <input id="pc-link-currency" name="currency" type="text" autocomplete="off" spellcheck="false" maxlength="3" required prop:value=currency on:input=on_currency aria-invalid=invalid(&["currency"]) />
                    </div>
                    <div class="pc-field">
                        <label for="pc-link-kind">"Price"</label>
                        <select id="pc-link-kind" name="kind" on:change=move |ev| values.update(|v| v.custom = event_target_value(&ev) == "custom")>
                            <option value="fixed" selected=move || !custom()>"A fixed amount"</option>
                            <option value="custom" selected=custom>"The customer chooses"</option>
                        </select>
                    </div>
                    <Show
                        when=custom
                        fallback=move || view! {
                            <div class="pc-field">
                                <label for="pc-link-amount">"Amount"</label>
                                <input id="pc-link-amount" name="amount" type="text" inputmode="decimal" autocomplete="off" required prop:value=amount on:input=on_amount aria-invalid=invalid(&["amount"]) />
                            </div>
                        }
                    >
                        <div class="pc-field">
                            <label for="pc-link-minimum">"Minimum"</label>
                            <input id="pc-link-minimum" name="minimum" type="text" inputmode="decimal" autocomplete="off" required prop:value=minimum on:input=on_minimum aria-invalid=invalid(&["custom_amount[minimum]"]) />
                        </div>
                        <div class="pc-field">
                            <label for="pc-link-maximum">"Maximum"</label>
                            <input id="pc-link-maximum" name="maximum" type="text" inputmode="decimal" autocomplete="off" required prop:value=maximum on:input=on_maximum aria-invalid=invalid(&["custom_amount[maximum]"]) />
                        </div>
                    </Show>
                    <div class="pc-field">
                        <label for="pc-link-description">"What is sold"</label>
                        <input id="pc-link-description" name="description" type="text" autocomplete="off" prop:value=description on:input=on_description aria-invalid=invalid(&["description"]) />
                    </div>
                    <div class="pc-field">
                        <label for="pc-link-limit">"Most payments (optional)"</label>
                        <input id="pc-link-limit" name="limit" type="text" inputmode="numeric" autocomplete="off" prop:value=limit on:input=on_limit aria-invalid=invalid(&["restrictions[completed_sessions][limit]"]) />
                    </div>
                    <button id="pc-link-create" type="submit" class="pc-button">"Create link"</button>
                </fieldset>
                <p id="pc-link-error" class="pc-error" role="alert">{move || error.with(|e| e.as_ref().map(|(_, m)| m.clone()))}</p>
            </form>
        </section>
    }
}

/// Ids: `#pc-links` (rows `tr[data-id]`), `.pc-badge[data-status]`, `.pc-link-paid`,
/// `.pc-link-payments` (the history filtered by the link), `.pc-link-toggle`.
#[component]
fn LinksTable(
    links: Vec<PaymentLink>,
    toggle: Action<(String, bool), Result<PaymentLink, ApiError>>,
    #[prop(into)] busy: Signal<bool>,
) -> impl IntoView {
    if links.is_empty() {
        return view! { <p id="pc-no-links" class="pc-notice">"No payment links yet."</p> }
            .into_any();
    }
    let rows = links
        .into_iter()
        .map(|link| {
            let ms = format::millis(link.created);
            let (badge, label) = state_label(&link);
            let payments = plausible_id(&link.id).then(|| {
                let to = Route::History(HistoryQuery {
                    payment_link: Some(link.id.clone()),
                    ..HistoryQuery::default()
                });
                view! { <Link to=to class="pc-link-payments">"Payments"</Link> }
            });
            let (id, active) = (link.id.clone(), link.active);
            view! {
                <tr data-id=link.id.clone()>
                    <td>
                        <a href=link.url.clone() class="pc-wrap" target="_blank" rel="noopener">{link.url.clone()}</a>
                        <div class="pc-sub pc-id">{link.id.clone()}</div>
                    </td>
                    <td class="pc-wrap">{link.description.clone().unwrap_or_default()}</td>
                    <td>{price_label(&link)}</td>
                    <td><span class="pc-badge" data-status=badge>{label}</span></td>
                    <td class="pc-link-paid">{paid_label(&link)}</td>
                    <td><time datetime=format::iso(ms)>{format::datetime(ms)}</time></td>
                    <td>
                        {payments}
                        " "
                        <button
                            type="button"
                            class="pc-button pc-button-secondary pc-link-toggle"
                            disabled=move || busy.get()
                            on:click=move |_| {
                                toggle.dispatch_local((id.clone(), !active));
                            }
                        >
                            {if active { "Deactivate" } else { "Activate" }}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-links-heading" tabindex="0">
            <table id="pc-links" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"Link"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Price"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Paid"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Actions"</th>
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

    #[test]
    fn the_form_makes_the_request() {
        let fixed = LinkFormValues {
            currency: " eur ".into(),
            amount: " 12.50 ".into(),
            minimum: "1".into(),
            description: "  ".into(),
            ..LinkFormValues::default()
        };
        let body = fixed.to_request().unwrap();
        assert_eq!(body.currency, "EUR");
        assert_eq!(body.amount.as_deref(), Some("12.50"));
        assert!(body.custom_amount.is_none(), "only the chosen kind is sent");
        assert!(body.description.is_none());
        assert!(body.restrictions.is_none());

        let custom = LinkFormValues {
            currency: "USD".into(),
            custom: true,
            amount: "9".into(),
            minimum: "5".into(),
            maximum: "50".into(),
            description: "Donation".into(),
            limit: " 10 ".into(),
        };
        let body = custom.to_request().unwrap();
        assert!(body.amount.is_none());
        let range = body.custom_amount.unwrap();
        assert_eq!(
            (range.minimum.as_str(), range.maximum.as_str()),
            ("5", "50")
        );
        assert_eq!(body.restrictions.unwrap().completed_sessions.limit, 10);
        assert_eq!(body.description.as_deref(), Some("Donation"));

        let bad = LinkFormValues {
            limit: "ten".into(),
            ..custom
        };
        assert_eq!(
            bad.to_request().unwrap_err().0,
            "restrictions[completed_sessions][limit]"
        );
    }

    fn link(json: serde_json::Value) -> PaymentLink {
        let mut base = serde_json::json!({
            "id": "plink_1", "active": true, "available": true, "url": "http://x/pay/plink_1",
            "currency": "USD", "line_items": [], "metadata": {}, "providers": [],
            "capture_mode": "automatic", "completed_sessions": 3, "created": 1, "updated": 1
        });
        for (k, v) in json.as_object().unwrap() {
            base[k] = v.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn labels() {
        let usd = |minor: i64, text: &str| serde_json::json!({ "amount": text, "currency": "USD", "amount_minor": minor });
        let fixed = link(serde_json::json!({ "amount": usd(1800, "18.00") }));
        assert_eq!(price_label(&fixed), "$18.00");
        assert_eq!(paid_label(&fixed), "3");
        assert_eq!(state_label(&fixed), ("enabled", "Active"));
        let custom = link(serde_json::json!({
            "custom_amount": { "minimum": usd(100, "1.00"), "maximum": usd(5000, "50.00") },
            "restrictions": { "completed_sessions": { "count": 3, "limit": 3 } },
            "available": false, "unavailable_reason": "limit_reached"
        }));
        assert_eq!(
            price_label(&custom),
            "$1.00 to $50.00, chosen by the customer"
        );
        assert_eq!(paid_label(&custom), "3 of 3");
        assert_eq!(state_label(&custom).1, "Limit reached");
        let off = link(serde_json::json!({ "active": false, "unavailable_reason": "inactive" }));
        assert_eq!(state_label(&off), ("disabled", "Deactivated"));
    }
}
