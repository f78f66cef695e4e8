//! The audit log (`/admin/audit`): who did what, when, to what, from where; newest first, 50 a
//! page, "Older entries" follows `next_before`.

use super::api;
use super::format;
use super::loaded::Loaded;
use super::{use_console, Link, Route};
use crate::http::plausible_id;
use leptos::prelude::*;
use shared::api::admin::{AuditEntry, AuditPage as Page};

#[component]
pub fn AuditPage(#[prop(into)] before: Signal<Option<i64>>) -> impl IntoView {
    let console = use_console();
    let page = LocalResource::new(move || {
        let before = before.get();
        async move { (before, console.check(api::audit(before).await)) }
    });
    let loading = move || {
        page.map(|(answered, _)| *answered != before.get())
            .unwrap_or(true)
    };
    view! {
        <div class="pc-page pc-audit">
            <h1 tabindex="-1" id="pc-audit-heading">"Audit log"</h1>
            <p class="pc-notice" role="status">
                {move || if loading() { "Loading the audit log…" } else { "" }}
            </p>
            <Loaded
                read=move || page.get().map(|(_, result)| result)
                refetch=move || page.refetch()
                let:page
            >
                <AuditTable page before />
            </Loaded>
        </div>
    }
}

/// The table of one page of the log, and its paging links. Ids: `#pc-audit-table` (rows
/// `tr[data-id]`), `#pc-audit-older`, `#pc-audit-newest`.
#[component]
pub fn AuditTable(page: Page, #[prop(into)] before: Signal<Option<i64>>) -> impl IntoView {
    let empty = page.data.is_empty();
    let rows = page.data.into_iter().map(audit_row).collect_view();
    let older = page.next_before.map(|next| {
        view! {
            <Link to=Route::Audit { before: Some(next) } id="pc-audit-older" class="pc-button pc-button-secondary" focus="#pc-audit-heading">
                "Older entries"
            </Link>
        }
    });
    view! {
        {if empty {
            view! { <p class="pc-notice">"No entries."</p> }.into_any()
        } else {
            view! {
                <div class="pc-table-wrap" role="region" aria-labelledby="pc-audit-heading" tabindex="0">
                    <table id="pc-audit-table" class="pc-table">
                        <thead>
                            <tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Target"</th>
                                <th scope="col">"IP address"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
        <nav class="pc-paging" aria-label="Audit log pages">
            <Show when=move || before.get().is_some()>
                <Link to=Route::Audit { before: None } id="pc-audit-newest" class="pc-button pc-button-secondary" focus="#pc-audit-heading">
                    "Newest entries"
                </Link>
            </Show>
            {older}
        </nav>
    }
}

fn audit_row(entry: AuditEntry) -> impl IntoView {
    let ms = format::millis(entry.at);
    let target = entry.target.clone().map(|target| {
        if target.starts_with("pay_") && plausible_id(&target) {
            view! { <Link to=Route::Payment(target.clone()) class="pc-id">{target}</Link> }
                .into_any()
        } else {
            view! { <span class="pc-id">{target}</span> }.into_any()
        }
    });
    let detail = match &entry.detail {
        serde_json::Value::Null => None,
        serde_json::Value::Object(map) if map.is_empty() => None,
        value => Some(serde_json::to_string_pretty(value).unwrap_or_default()),
    };
    view! {
        <tr data-id=entry.id.to_string() data-action=entry.action.clone()>
            <td><time datetime=format::iso(ms)>{format::datetime_precise(ms)}</time></td>
            <td class="pc-wrap">{entry.actor.clone()}</td>
            <td>
                {format::words(&entry.action)}
                {detail.map(|d| view! {
                    <details class="pc-json">
                        <summary>"Details"</summary>
                        <pre>{d}</pre>
                    </details>
                })}
            </td>
            <td>{target}</td>
            <td class="pc-id">{entry.ip.clone().unwrap_or_default()}</td>
        </tr>
    }
}
