//! The admin console served at `/admin`: sign-in, payment history with filters, totals and a
//! daily chart, payment detail with refunds, the merchant's webhook endpoints with their
//! deliveries (and resend), the payment links (create, deactivate, their payments), the
//! subscriptions with their latest invoice, disputes (evidence, accept), the provider
//! webhooks parked after their last attempt (and replay), and the audit log.
//!
//! [`ConsoleApp`] checks the session, then shows the page of the URL ([`Route`]); pages link
//! to each other through the History API, so every view has a URL that can be shared or
//! reloaded. One file per job: [`api`] (HTTP), [`query`] (filters in URLs), [`route`],
//! [`format`], [`loaded`] (a page's loading, failed and loaded states), and a file per page or
//! part ([`signin`], [`history`], [`chart`], [`detail`], [`refund`], [`webhooks`],
//! [`deliveries`], [`parked`], [`audit`]).

pub mod api;
pub mod audit;
pub mod chart;
pub mod deliveries;
pub mod detail;
pub mod disputes;
pub mod format;
pub mod history;
pub mod loaded;
pub mod parked;
pub mod payment_links;
pub mod query;
pub mod refund;
pub mod route;
pub mod signin;
pub mod subscriptions;
pub mod webhooks;

pub use route::Route;

use leptos::ev::MouseEvent;
use leptos::prelude::*;
use route::Section;
use shared::api::admin::{AdminSession, HistoryQuery};
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};

/// Where the console stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Asking `GET /admin/api/session`.
    Checking,
    /// The sign-in form, with why it is shown when there is something to say ("signed out").
    SignedOut {
        notice: Option<String>,
    },
    SignedIn(AdminSession),
    /// The session could not be checked (network, server error): a message and a retry.
    Unreachable(String),
}

/// The console's shared state, provided as context to every page.
#[derive(Clone, Copy)]
pub struct Console {
    pub session: RwSignal<SessionState>,
    pub route: RwSignal<Route>,
    /// The last filters of the history page, for the links back to it.
    pub history: Memo<HistoryQuery>,
    /// Whether pages change the browser's URL and history (off in component tests that render
    /// a page on its own).
    pub use_history_api: bool,
}

impl Console {
    pub fn new(route: Route, session: SessionState) -> Console {
        let route = RwSignal::new(route);
        let history = Memo::new(move |previous: Option<&HistoryQuery>| {
            route.with(|route| match route {
                Route::History(query) => query.clone(),
                _ => previous.cloned().unwrap_or_default(),
            })
        });
        Console {
            session: RwSignal::new(session),
            route,
            history,
            use_history_api: true,
        }
    }

    /// Goes to `route`, with a new entry in the browser's history (Back returns here).
    pub fn navigate(&self, route: Route) {
        self.go(route, false);
    }

    /// Goes to `route` in place of the current history entry.
    pub fn replace(&self, route: Route) {
        self.go(route, true);
    }

    fn go(&self, route: Route, replace: bool) {
        if self.use_history_api {
            let href = route.href();
            if let Ok(history) = window().history() {
                let _ = if replace {
                    history.replace_state_with_url(&JsValue::NULL, "", Some(&href))
                } else {
                    history.push_state_with_url(&JsValue::NULL, "", Some(&href))
                };
            }
        }
        self.route.set(route);
    }

    /// The CSRF token for state-changing calls, while signed in.
    pub fn csrf_token(&self) -> Option<String> {
        self.session.with_untracked(|session| match session {
            SessionState::SignedIn(session) => Some(session.csrf_token.clone()),
            _ => None,
        })
    }

    /// Passes a result on; a 401 on a signed-in call ends the session in the console too (the
    /// sign-in form appears, and the page of the URL comes back after signing in).
    pub fn check<T>(&self, result: Result<T, api::ApiError>) -> Result<T, api::ApiError> {
        if let Err(api::ApiError::SessionEnded) = &result {
            self.session.set(SessionState::SignedOut {
                notice: Some(api::ApiError::SessionEnded.message()),
            });
        }
        result
    }
}

/// The console of the current component tree.
pub fn use_console() -> Console {
    expect_context::<Console>()
}

/// Moves keyboard focus to `selector` once the DOM has been updated (after the current task).
pub fn focus_soon(selector: &'static str) {
    set_timeout(
        move || {
            if let Some(element) = document().query_selector(selector).ok().flatten() {
                if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
                    let _ = element.focus();
                }
            }
        },
        Duration::ZERO,
    );
}

/// A link to a console page: a real `href` (open in a new tab, copy, middle-click all work);
/// a plain click navigates inside the console. `focus` names an element to focus afterwards
/// (for links that stay on the same page, such as paging).
#[component]
pub fn Link(
    #[prop(into)] to: Signal<Route>,
    children: Children,
    #[prop(optional, into)] class: Option<String>,
    #[prop(optional, into)] id: Option<String>,
    #[prop(optional)] focus: Option<&'static str>,
    #[prop(optional, into)] current: Option<Signal<bool>>,
) -> impl IntoView {
    let console = use_console();
    let on_click = move |ev: MouseEvent| {
        let plain = ev.button() == 0
            && !ev.ctrl_key()
            && !ev.meta_key()
            && !ev.shift_key()
            && !ev.alt_key();
        if plain {
            ev.prevent_default();
            console.navigate(to.get_untracked());
            if let Some(selector) = focus {
                focus_soon(selector);
            }
        }
    };
    view! {
        <a
            href=move || to.with(Route::href)
            class=class
            id=id
            aria-current=move || current.and_then(|c| c.get().then_some("page"))
            on:click=on_click
        >
            {children()}
        </a>
    }
}

/// The whole admin console.
#[component]
pub fn ConsoleApp() -> impl IntoView {
    let console = Console::new(Route::current(), SessionState::Checking);
    provide_context(console);

    // Back and Forward.
    let popstate = window_event_listener(leptos::ev::popstate, move |_| {
        console.route.set(Route::current());
    });
    on_cleanup(move || popstate.remove());

    let checked = LocalResource::new(api::session);
    Effect::new(move |_| {
        if let Some(result) = checked.get() {
            console.session.set(match result {
                Ok(Some(session)) => SessionState::SignedIn(session),
                Ok(None) => SessionState::SignedOut { notice: None },
                Err(error) => SessionState::Unreachable(error.message()),
            });
        }
    });

    view! { <ConsoleShell on_retry=Callback::new(move |()| {
        console.session.set(SessionState::Checking);
        checked.refetch();
    }) /> }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Checking,
    SignedOut,
    SignedIn,
    Unreachable,
}

/// Which page component is on screen; a change of filters is the same page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PageKey {
    History,
    Payment(String),
    Webhooks,
    WebhookEndpoint(String),
    Parked,
    PaymentLinks,
    Disputes,
    Subscriptions,
    Audit,
    NotFound,
}

/// The frame around the pages: skip link, header (when signed in), and the main region with
/// the sign-in form or the page of the URL. Takes its [`Console`] from the context.
#[component]
pub fn ConsoleShell(#[prop(optional)] on_retry: Option<Callback<()>>) -> impl IntoView {
    let console = use_console();
    let phase = Memo::new(move |_| {
        console.session.with(|session| match session {
            SessionState::Checking => Phase::Checking,
            SessionState::SignedOut { .. } => Phase::SignedOut,
            SessionState::SignedIn(_) => Phase::SignedIn,
            SessionState::Unreachable(_) => Phase::Unreachable,
        })
    });
    let key = Memo::new(move |_| {
        console.route.with(|route| match route {
            Route::History(_) => PageKey::History,
            Route::Payment(id) => PageKey::Payment(id.clone()),
            Route::Audit { .. } => PageKey::Audit,
            Route::Webhooks => PageKey::Webhooks,
            Route::WebhookEndpoint { id, .. } => PageKey::WebhookEndpoint(id.clone()),
            Route::Parked => PageKey::Parked,
            Route::PaymentLinks => PageKey::PaymentLinks,
            Route::Disputes { .. } => PageKey::Disputes,
            Route::Subscriptions { .. } => PageKey::Subscriptions,
            Route::NotFound => PageKey::NotFound,
        })
    });

    // The document's title follows the page.
    Effect::new(move |_| {
        let title = match phase.get() {
            Phase::SignedOut => "Sign in · paygate admin".to_string(),
            _ => console.route.with(Route::title),
        };
        document().set_title(&title);
    });
    // A new page (not a change of filters), signing in and signing out move focus to the new
    // heading, so keyboard and screen reader users start at the top of what changed; not on
    // the first render.
    let main_ref = NodeRef::<leptos::html::Main>::new();
    Effect::new(move |previous: Option<(Phase, PageKey)>| {
        let current = (phase.get(), key.get());
        let settled = |p: &Phase| !matches!(p, Phase::Checking);
        if previous.is_some_and(|previous| previous != current && settled(&previous.0))
            && settled(&current.0)
        {
            set_timeout(
                move || {
                    let heading = main_ref
                        .get_untracked()
                        .and_then(|main| main.query_selector("h1").ok().flatten());
                    if let Some(heading) = heading {
                        if let Ok(heading) = heading.dyn_into::<web_sys::HtmlElement>() {
                            let _ = heading.focus();
                        }
                    }
                },
                Duration::ZERO,
            );
        }
        current
    });

    let notice = Memo::new(move |_| {
        console.session.with(|session| match session {
            SessionState::SignedOut { notice } => notice.clone(),
            _ => None,
        })
    });
    let unreachable = move || {
        console.session.with(|session| match session {
            SessionState::Unreachable(message) => message.clone(),
            _ => String::new(),
        })
    };

    let page = move || match key.get() {
        PageKey::History => view! { <history::HistoryPage query=console.history /> }.into_any(),
        PageKey::Payment(id) => view! { <detail::PaymentPage id /> }.into_any(),
        PageKey::Audit => {
            let before = Memo::new(move |_| {
                console.route.with(|route| match route {
                    Route::Audit { before } => *before,
                    _ => None,
                })
            });
            view! { <audit::AuditPage before /> }.into_any()
        }
        PageKey::Webhooks => view! { <webhooks::WebhooksPage /> }.into_any(),
        PageKey::Parked => view! { <parked::ParkedPage /> }.into_any(),
        PageKey::PaymentLinks => view! { <payment_links::PaymentLinksPage /> }.into_any(),
        PageKey::Disputes => {
            let open = Memo::new(move |_| {
                console
                    .route
                    .with(|route| matches!(route, Route::Disputes { open: true }))
            });
            view! { <disputes::DisputesPage open /> }.into_any()
        }
        PageKey::Subscriptions => {
            let filter = Memo::new(move |_| {
                console.route.with(|route| match route {
                    Route::Subscriptions { attention, cursor } => (*attention, cursor.clone()),
                    _ => (false, None),
                })
            });
            view! { <subscriptions::SubscriptionsPage filter /> }.into_any()
        }
        PageKey::WebhookEndpoint(id) => {
            let status = Memo::new(move |_| {
                console.route.with(|route| match route {
                    Route::WebhookEndpoint { status, .. } => status.clone(),
                    _ => None,
                })
            });
            view! { <deliveries::EndpointPage id status /> }.into_any()
        }
        PageKey::NotFound => view! { <NotFound /> }.into_any(),
    };

    view! {
        <div class="pc-app">
            <a class="pc-skip" href="#pc-main">"Skip to main content"</a>
            <Show when=move || phase.get() == Phase::SignedIn>
                <Header />
            </Show>
            <main id="pc-main" class="pc-main" tabindex="-1" node_ref=main_ref>
                {move || match phase.get() {
                    Phase::Checking => {
                        view! {
                            <p class="pc-loading" role="status">
                                "Loading…"
                            </p>
                        }
                            .into_any()
                    }
                    Phase::SignedOut => view! { <signin::SignInForm notice /> }.into_any(),
                    Phase::Unreachable => {
                        view! {
                            <section class="pc-panel" aria-labelledby="pc-unreachable-heading">
                                <h1 id="pc-unreachable-heading" tabindex="-1">
                                    "paygate admin"
                                </h1>
                                <p class="pc-error" role="alert">
                                    {unreachable}
                                </p>
                                <button
                                    type="button"
                                    class="pc-button"
                                    on:click=move |_| {
                                        if let Some(retry) = on_retry {
                                            retry.run(());
                                        }
                                    }
                                >
                                    "Try again"
                                </button>
                            </section>
                        }
                            .into_any()
                    }
                    Phase::SignedIn => page().into_any(),
                }}
            </main>
        </div>
    }
}

/// Brand, main navigation, who is signed in, and the sign-out button.
#[component]
fn Header() -> impl IntoView {
    let console = use_console();
    let email = move || {
        console.session.with(|session| match session {
            SessionState::SignedIn(session) => session.email.clone(),
            _ => String::new(),
        })
    };
    let section = Memo::new(move |_| console.route.with(Route::section));
    let error = RwSignal::new(None::<String>);
    let sign_out = Action::new_local(move |token: &String| {
        let token = token.clone();
        async move { api::sign_out(&token).await }
    });
    Effect::new(move |_| match sign_out.value().get() {
        Some(Ok(())) | Some(Err(api::ApiError::SessionEnded)) => {
            console.session.set(SessionState::SignedOut {
                notice: Some("You have signed out.".to_string()),
            });
        }
        Some(Err(e)) => error.set(Some(format!("Signing out failed: {}", e.message()))),
        None => {}
    });
    let payments = Signal::derive(move || Route::History(console.history.get()));

    view! {
        <header class="pc-header">
            <Link to=Route::History(HistoryQuery::default()) class="pc-brand">
                "paygate admin"
            </Link>
            <nav class="pc-nav" aria-label="Console">
                <ul>
                    <li>
                        <Link
                            to=payments
                            id="pc-nav-payments"
                            current=Signal::derive(move || section.get() == Section::Payments)
                        >
                            "Payments"
                        </Link>
                    </li>
                    <li>
                        <Link
                            to=Route::PaymentLinks
                            id="pc-nav-links"
                            current=Signal::derive(move || section.get() == Section::PaymentLinks)
                        >
                            "Payment links"
                        </Link>
                    </li>
                    <li>
                        <Link
                            to=Route::Disputes { open: false }
                            id="pc-nav-disputes"
                            current=Signal::derive(move || section.get() == Section::Disputes)
                        >
                            "Disputes"
                        </Link>
                    </li>
                    <li>
                        <Link
                            to=Route::Subscriptions { attention: false, cursor: None }
                            id="pc-nav-subscriptions"
                            current=Signal::derive(move || section.get() == Section::Subscriptions)
                        >
                            "Subscriptions"
                        </Link>
                    </li>
                    <li>
                        <Link
                            to=Route::Webhooks
                            id="pc-nav-webhooks"
                            current=Signal::derive(move || section.get() == Section::Webhooks)
                        >
                            "Webhooks"
                        </Link>
                    </li>
                    <li>
                        <Link
                            to=Route::Parked
                            id="pc-nav-parked"
                            current=Signal::derive(move || section.get() == Section::Parked)
                        >
                            "Parked events"
                        </Link>
                    </li>
                    <li>
                        <Link
                            to=Route::Audit { before: None }
                            id="pc-nav-audit"
                            current=Signal::derive(move || section.get() == Section::Audit)
                        >
                            "Audit log"
                        </Link>
                    </li>
                </ul>
            </nav>
            <div class="pc-account">
                <span class="pc-account-email" title="Signed in as">
                    {email}
                </span>
                <button
                    type="button"
                    id="pc-sign-out"
                    class="pc-button pc-button-secondary"
                    disabled=move || sign_out.pending().get()
                    on:click=move |_| {
                        error.set(None);
                        if let Some(token) = console.csrf_token() {
                            sign_out.dispatch_local(token);
                        }
                    }
                >
                    "Sign out"
                </button>
            </div>
            <p class="pc-header-error pc-error" role="alert">
                {move || error.get()}
            </p>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="pc-page">
            <h1 tabindex="-1">"Page not found"</h1>
            <p>
                "There is no console page at this address. "
                <Link to=Route::History(HistoryQuery::default())>"Go to the payments"</Link>
                "."
            </p>
        </section>
    }
}
