//! The payment history page: filters (kept in the URL), totals per currency of the whole
//! filtered set, the daily chart, the table of payments newest first with cursor paging, and
//! the CSV export of the same filters.

use super::api::{self, ApiError};
use super::chart::DailyChart;
use super::format;
use super::loaded::{Failed, Loaded, Pending};
use super::query::{
    export_csv_url, has_filters, history_from_search, join, stats_query, without_cursor,
};
use super::{use_console, Link, Route};
use leptos::ev::SubmitEvent;
use leptos::html::{Input, Select};
use leptos::prelude::*;
use shared::api::admin::{CurrencyTotal, HistoryPage as Page, HistoryQuery, HistoryRow};
use shared::api::{PaymentStatus, ProviderName};

/// The history page for `query` (the filters and page of the URL).
#[component]
pub fn HistoryPage(#[prop(into)] query: Signal<HistoryQuery>) -> impl IntoView {
    let console = use_console();
    // Each answer carries the query it answers, so a stale page can be told from the current one.
    let page = LocalResource::new(move || {
        let query = query.get();
        async move {
            let result = console.check(api::history(&query).await);
            (query, result)
        }
    });
    let loading = move || {
        page.map(|(answered, _)| query.with(|q| answered != q))
            .unwrap_or(true)
    };
    let answer = move || page.get();
    let result = move || answer().map(|(_, result)| result);
    let filter_error = Signal::derive(move || match result() {
        Some(Err(error @ ApiError::Problem { status: 400, .. })) => Some(error),
        _ => None,
    });

    view! {
        <div class="pc-page pc-history">
            <h1 tabindex="-1">"Payments"</h1>
            <LinkFilter query />
            <Filters query error=filter_error />
            <ChartSection query />
            <section class="pc-results" aria-labelledby="pc-results-heading" aria-busy=move || loading().to_string()>
                <div class="pc-section-head">
                    <h2 id="pc-results-heading" tabindex="-1">
                        "Matching payments"
                    </h2>
                    <a
                        id="pc-export"
                        class="pc-button pc-button-secondary"
                        href=move || query.with(export_csv_url)
                        download="payments.csv"
                    >
                        "Export CSV"
                    </a>
                </div>
                <p id="pc-results-status" class="pc-notice" role="status">
                    {move || {
                        if loading() {
                            return "Loading payments…".to_string();
                        }
                        match result() {
                            Some(Ok(page)) if page.data.is_empty() => {
                                "No payments match these filters.".to_string()
                            }
                            Some(Ok(page)) => {
                                let n = page.data.len();
                                let more = if page.next_cursor.is_some() { ", more on the next page" } else { "" };
                                format!("{n} payment{} shown{more}.", if n == 1 { "" } else { "s" })
                            }
                            _ => String::new(),
                        }
                    }}
                </p>
                // The previous rows stay while the next page loads (`aria-busy`, the status
                // line); a 400 is about a filter and shows under the form.
                <Loaded
                    read=move || answer().map(|(answered, result)| result.map(|page| (answered, page)))
                    refetch=move || page.refetch()
                    failed=|error| match error {
                        ApiError::Problem { status: 400, .. } => Failed::Elsewhere,
                        _ => Failed::Retry,
                    }
                    children=|(answered, page)| view! { <Results page answered /> }
                />
            </section>
        </div>
    }
}

/// With the `payment_link` filter (set from the payment links page): which link, and the way
/// back to every payment.
#[component]
fn LinkFilter(#[prop(into)] query: Signal<HistoryQuery>) -> impl IntoView {
    move || {
        query.with(|q| q.payment_link.clone()).map(|link| {
            let all = Route::History(HistoryQuery {
                payment_link: None,
                ..without_cursor(&query.get_untracked())
            });
            view! {
                <p id="pc-link-filter" class="pc-notice">
                    "Payments through payment link "
                    <code>{link}</code>
                    ". "
                    <Link to=all id="pc-link-filter-clear">"Show all payments"</Link>
                </p>
            }
        })
    }
}

/// Totals, table and paging of one page of results; `answered` is the query this page answers
/// (the paging links build on it, not on filters still loading).
#[component]
fn Results(page: Page, answered: HistoryQuery) -> impl IntoView {
    let next_route = Route::History(HistoryQuery {
        cursor: page.next_cursor.clone(),
        ..answered.clone()
    });
    let has_next = page.next_cursor.is_some();
    let on_later_page = answered.cursor.is_some();
    let first_route = Route::History(without_cursor(&answered));
    view! {
        <Totals totals=page.totals />
        <HistoryTable rows=page.data />
        <nav class="pc-paging" aria-label="Result pages">
            {on_later_page
                .then(|| {
                    view! {
                        <Link to=first_route id="pc-first-page" class="pc-button pc-button-secondary" focus="#pc-results-heading">
                            "First page"
                        </Link>
                    }
                })}
            {has_next
                .then(|| {
                    view! {
                        <Link to=next_route id="pc-next-page" class="pc-button pc-button-secondary" focus="#pc-results-heading">
                            "Next page"
                        </Link>
                    }
                })}
        </nav>
    }
}

/// Totals of the whole filtered set, one line per currency (amounts in different currencies
/// are never added up). Ids: `#pc-totals`, `.pc-total[data-currency]`, `.pc-total-amount`.
#[component]
pub fn Totals(totals: Vec<CurrencyTotal>) -> impl IntoView {
    let empty = totals.is_empty();
    let items = totals
        .into_iter()
        .map(|total| {
            let money = |minor| format::money(minor, &total.currency);
            let count = format!(
                "{} payment{}",
                total.count,
                if total.count == 1 { "" } else { "s" }
            );
            view! {
                <li class="pc-total" data-currency=total.currency.clone()>
                    <span class="pc-total-currency">{total.currency.clone()}</span>
                    <span class="pc-total-amount">{money(total.amount_minor)}</span>
                    <span class="pc-total-meta">
                        <span class="pc-total-count">{count}</span>
                        " · captured "
                        <span class="pc-total-captured">{money(total.captured_minor)}</span>
                        " · refunded "
                        <span class="pc-total-refunded">{money(total.refunded_minor)}</span>
                    </span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section id="pc-totals" class="pc-totals" aria-labelledby="pc-totals-heading">
            <h3 id="pc-totals-heading">"Totals of all matching payments"</h3>
            {if empty {
                view! { <p class="pc-notice">"None."</p> }.into_any()
            } else {
                view! { <ul>{items}</ul> }.into_any()
            }}
        </section>
    }
}

/// The table of payments. Ids: `#pc-history-table`, rows `tr[data-id]`.
#[component]
pub fn HistoryTable(rows: Vec<HistoryRow>) -> impl IntoView {
    if rows.is_empty() {
        return ().into_any();
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            let amount = format::amount(&row.amount);
            let refunded = (row.refunded_minor > 0).then(|| {
                format!(
                    "{} refunded",
                    format::money(row.refunded_minor, row.amount.currency.code())
                )
            });
            let id = row.id.clone();
            let label = row.id.clone();
            view! {
                <tr data-id=row.id.clone()>
                    <td>
                        <time datetime=format::iso(row.created_at)>{format::datetime(row.created_at)}</time>
                    </td>
                    <td>
                        <Link to=Route::Payment(id) class="pc-id">{label}</Link>
                        {row.provider_reference.map(|reference| view! { <div class="pc-sub pc-id">{reference}</div> })}
                    </td>
                    <td>
                        <span class="pc-badge" data-status=row.status.as_str()>
                            {format::status_label(row.status)}
                        </span>
                    </td>
                    <td class="pc-num">
                        <span class="pc-amount">{amount}</span>
                        {refunded.map(|text| view! { <div class="pc-sub pc-refunded">{text}</div> })}
                    </td>
                    <td>{row.provider.display_name()}</td>
                    <td class="pc-wrap">{row.customer_email.unwrap_or_default()}</td>
                    <td class="pc-wrap">{row.description.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="pc-table-wrap" role="region" aria-labelledby="pc-results-heading" tabindex="0">
            <table id="pc-history-table" class="pc-table">
                <thead>
                    <tr>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Payment"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="pc-num">"Amount"</th>
                        <th scope="col">"Provider"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Description"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// What the filter controls hold, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterValues {
    pub status: String,
    pub provider: String,
    pub currency: String,
    pub from: String,
    pub to: String,
    pub amount_min: String,
    pub amount_max: String,
    pub email: String,
    pub q: String,
}

impl FilterValues {
    /// The filters these controls ask for, read exactly as the same values in a URL would be
    /// (trimmed, empty means absent, currency upper-cased), from the first page. The page size
    /// of `current` is kept.
    pub fn to_query(&self, current: &HistoryQuery) -> HistoryQuery {
        let search = join(&[
            ("status", self.status.clone()),
            ("provider", self.provider.clone()),
            ("currency", self.currency.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("amount_min", self.amount_min.clone()),
            ("amount_max", self.amount_max.clone()),
            ("email", self.email.clone()),
            ("q", self.q.clone()),
        ]);
        // The payment link has no control of its own: it stays until "Show all payments".
        HistoryQuery {
            limit: current.limit,
            payment_link: current.payment_link.clone(),
            ..history_from_search(&search)
        }
    }
}

/// The filter form. Any committed change (a select, a date, a text field on Enter or when
/// leaving it) applies the filters: the URL changes and the results follow. A 400 from the
/// server about a filter is shown under the form, and the control it names is marked invalid.
#[component]
fn Filters(
    #[prop(into)] query: Signal<HistoryQuery>,
    #[prop(into)] error: Signal<Option<ApiError>>,
) -> impl IntoView {
    let console = use_console();
    let status = NodeRef::<Select>::new();
    let provider = NodeRef::<Select>::new();
    let currency = NodeRef::<Input>::new();
    let from = NodeRef::<Input>::new();
    let to = NodeRef::<Input>::new();
    let amount_min = NodeRef::<Input>::new();
    let amount_max = NodeRef::<Input>::new();
    let email = NodeRef::<Input>::new();
    let q = NodeRef::<Input>::new();

    let apply = move || {
        let input =
            |node: NodeRef<Input>| node.get_untracked().map(|e| e.value()).unwrap_or_default();
        let select =
            |node: NodeRef<Select>| node.get_untracked().map(|e| e.value()).unwrap_or_default();
        let values = FilterValues {
            status: select(status),
            provider: select(provider),
            currency: input(currency),
            from: input(from),
            to: input(to),
            amount_min: input(amount_min),
            amount_max: input(amount_max),
            email: input(email),
            q: input(q),
        };
        let current = query.get_untracked();
        let next = values.to_query(&current);
        if next != current {
            console.navigate(Route::History(next));
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        apply();
    };
    let text = move |field: fn(&HistoryQuery) -> Option<String>| {
        move || query.with(|q| field(q).unwrap_or_default())
    };
    let invalid = move |name: &'static str| {
        move || {
            error
                .with(|e| e.as_ref().and_then(ApiError::param) == Some(name))
                .then_some("true")
        }
    };
    let status_options = PaymentStatus::ALL
        .into_iter()
        .map(|s| {
            view! {
                <option value=s.as_str() selected=move || query.with(|q| q.status == Some(s))>
                    {format::status_label(s)}
                </option>
            }
        })
        .collect_view();
    let provider_options = ProviderName::ALL
        .into_iter()
        .map(|p| {
            view! {
                <option value=p.as_str() selected=move || query.with(|q| q.provider == Some(p))>
                    {p.display_name()}
                </option>
            }
        })
        .collect_view();

    view! {
        <form id="pc-filters" class="pc-filters" role="search" aria-labelledby="pc-filters-heading" on:submit=on_submit on:change=move |_| apply()>
            <h2 id="pc-filters-heading" class="pc-visually-hidden">"Filters"</h2>
            <div class="pc-filter-grid">
                <div class="pc-field">
                    <label for="pc-f-status">"Status"</label>
                    <select id="pc-f-status" name="status" node_ref=status aria-invalid=invalid("status")>
                        <option value="" selected=move || query.with(|q| q.status.is_none())>"Any status"</option>
                        {status_options}
                    </select>
                </div>
                <div class="pc-field">
                    <label for="pc-f-provider">"Provider"</label>
                    <select id="pc-f-provider" name="provider" node_ref=provider aria-invalid=invalid("provider")>
                        <option value="" selected=move || query.with(|q| q.provider.is_none())>"Any provider"</option>
                        {provider_options}
                    </select>
                </div>
                <div class="pc-field">
                    <label for="pc-f-currency">"Currency"</label>
                    <input id="pc-f-currency" name="currency" type="text" inputmode="text" autocapitalize="characters" autocomplete="off" spellcheck="false" maxlength="3" placeholder="USD" node_ref=currency prop:value=text(|q| q.currency.clone()) aria-invalid=invalid("currency") />
                </div>
                <div class="pc-field pc-field-date">
                    <label for="pc-f-from">"From"</label>
                    <input id="pc-f-from" name="from" type="date" node_ref=from prop:value=text(|q| q.from.clone()) aria-invalid=invalid("from") />
                </div>
                <div class="pc-field pc-field-date">
                    <label for="pc-f-to">"To"</label>
                    <input id="pc-f-to" name="to" type="date" node_ref=to prop:value=text(|q| q.to.clone()) aria-invalid=invalid("to") />
                </div>
                <div class="pc-field">
                    <label for="pc-f-amount-min">"Amount from"</label>
                    <input id="pc-f-amount-min" name="amount_min" type="text" inputmode="decimal" autocomplete="off" placeholder="0.00" aria-describedby="pc-amount-hint" node_ref=amount_min prop:value=text(|q| q.amount_min.clone()) aria-invalid=invalid("amount_min") />
                </div>
                <div class="pc-field">
                    <label for="pc-f-amount-max">"Amount to"</label>
                    <input id="pc-f-amount-max" name="amount_max" type="text" inputmode="decimal" autocomplete="off" aria-describedby="pc-amount-hint" node_ref=amount_max prop:value=text(|q| q.amount_max.clone()) aria-invalid=invalid("amount_max") />
                </div>
                <div class="pc-field">
                    <label for="pc-f-email">"Customer email"</label>
                    <input id="pc-f-email" name="email" type="email" autocomplete="off" node_ref=email prop:value=text(|q| q.email.clone()) aria-invalid=invalid("email") />
                </div>
                <div class="pc-field pc-field-wide">
                    <label for="pc-f-q">"Payment id or provider reference"</label>
                    <input id="pc-f-q" name="q" type="search" autocomplete="off" spellcheck="false" placeholder="pay_… / pi_… / PayPal id" node_ref=q prop:value=text(|q| q.q.clone()) aria-invalid=invalid("q") />
                </div>
            </div>
            <p id="pc-amount-hint" class="pc-hint">"Amounts are in the chosen currency, such as 19.99."</p>
            <p id="pc-filter-error" class="pc-error" role="alert">
                {move || error.with(|e| e.as_ref().map(ApiError::message))}
            </p>
            <div class="pc-actions">
                <button type="submit" class="pc-button">"Apply filters"</button>
                <Show when=move || query.with(has_filters)>
                    <Link to=Route::History(HistoryQuery::default()) id="pc-clear-filters" class="pc-button pc-button-secondary">
                        "Clear filters"
                    </Link>
                </Show>
            </div>
        </form>
    }
}

/// The daily chart of the filters' date range and currency (the server's defaults when they
/// are not set: the last 30 days, the busiest currency).
#[component]
fn ChartSection(#[prop(into)] query: Signal<HistoryQuery>) -> impl IntoView {
    let console = use_console();
    let stats_query = Memo::new(move |_| query.with(stats_query));
    let stats = LocalResource::new(move || {
        let query = stats_query.get();
        async move { console.check(api::daily_stats(&query).await) }
    });
    view! {
        <section class="pc-chart-section" aria-labelledby="pc-chart-heading">
            <h2 id="pc-chart-heading">
                "Daily volume and success rate"
                {move || {
                    stats
                        .map(|result| {
                            result
                                .as_ref()
                                .ok()
                                .and_then(|s| s.currency.clone())
                                .map(|c| format!(" ({c})"))
                        })
                        .flatten()
                }}
            </h2>
            <Loaded
                read=move || stats.get()
                refetch=move || stats.refetch()
                pending=Pending::Notice("Loading the chart…")
                failed=|_| Failed::Line("The chart could not be loaded: ")
                let:stats
            >
                <DailyChart stats />
            </Loaded>
        </section>
    }
}
