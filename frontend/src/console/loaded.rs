//! The states of a console page's data, in one place: loading, failed (with "Try again"),
//! loaded. A 401 shows nothing: the console replaces the page with the sign-in form.

use super::api::ApiError;
use leptos::prelude::*;

/// What shows while nothing has arrived yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pending {
    /// Nothing (the page says it is loading elsewhere, e.g. in a line that also covers reloads).
    #[default]
    Nothing,
    /// `<p class="pc-notice" role="status">`: a notice announced to screen readers.
    Status(&'static str),
    /// `<p class="pc-notice">`: a notice that is not announced (a secondary part of a page).
    Notice(&'static str),
}

/// How a failed load shows (a 401 never shows: the sign-in form takes over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// `<div class="pc-load-error">` with the message as an alert (`p.pc-error[role=alert]`) and
    /// a "Try again" button that asks again.
    Retry,
    /// The same without the button, when asking again cannot help (no such payment).
    Alert,
    /// `<p class="pc-error">` with the message after this prefix: no alert and no button (a
    /// secondary part of a page, such as the chart).
    Line(&'static str),
    /// Nothing: the page shows this error elsewhere (the history's filter errors).
    Elsewhere,
}

/// Shows a resource's answer: `pending` until the first one, then the view of the loaded value
/// (`children`), or the error as `failed` says (by default with a "Try again" that calls
/// `refetch`). Adds no element of its own.
///
/// ```ignore
/// <Loaded read=move || detail.get() refetch=move || detail.refetch() let:detail>
///     <PaymentDetailView detail />
/// </Loaded>
/// ```
#[component]
pub fn Loaded<T, R, C, V>(
    /// Reads the answer (tracked): `None` while nothing has arrived. Pages whose resource
    /// carries more than the result map it here.
    read: R,
    /// Asks again ("Try again").
    #[prop(into)]
    refetch: Callback<()>,
    /// What shows before the first answer.
    #[prop(optional)]
    pending: Pending,
    /// How each error shows (not called for a 401).
    #[prop(default = |_| Failed::Retry)]
    failed: fn(&ApiError) -> Failed,
    /// The view of the loaded value.
    children: C,
) -> impl IntoView
where
    T: 'static,
    R: Fn() -> Option<Result<T, ApiError>> + Send + Sync + 'static,
    C: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || match read() {
        None => match pending {
            Pending::Nothing => ().into_any(),
            Pending::Status(text) => {
                view! { <p class="pc-notice" role="status">{text}</p> }.into_any()
            }
            Pending::Notice(text) => view! { <p class="pc-notice">{text}</p> }.into_any(),
        },
        Some(Ok(value)) => children(value).into_any(),
        Some(Err(ApiError::SessionEnded)) => ().into_any(),
        Some(Err(error)) => match failed(&error) {
            shown @ (Failed::Retry | Failed::Alert) => {
                let retry = shown == Failed::Retry;
                view! {
                    <div class="pc-load-error">
                        <p class="pc-error" role="alert">{error.message()}</p>
                        {retry.then(|| view! {
                            <button type="button" class="pc-button" on:click=move |_| refetch.run(())>"Try again"</button>
                        })}
                    </div>
                }
                .into_any()
            }
            Failed::Line(prefix) => {
                view! { <p class="pc-error">{format!("{prefix}{}", error.message())}</p> }
                    .into_any()
            }
            Failed::Elsewhere => ().into_any(),
        },
    }
}
