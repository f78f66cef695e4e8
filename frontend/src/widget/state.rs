use shared::api::{CheckoutSessionStatus, WidgetSession};

/// Where the checkout page is: everything [`CheckoutView`](super::CheckoutView) needs to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutState {
    Loading,
    Loaded(Box<WidgetSession>),
    Failed(LoadError),
}

/// Why the session could not be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// The link names no session (404): retrying cannot help.
    NotFound,
    /// Network failure, server error or an unreadable answer: worth a retry.
    Unavailable,
}

pub const LOADING: &str = "Loading checkout…";
pub const NOT_FOUND: &str = "This checkout link is not valid.";
pub const UNAVAILABLE: &str = "We could not load this checkout. Please try again.";
pub const EXPIRED: &str = "This checkout has expired.";
pub const COMPLETE: &str = "This checkout has already been paid.";

impl CheckoutState {
    /// The text of the page's status region; empty while the customer can pay.
    pub fn message(&self) -> &'static str {
        match self {
            CheckoutState::Loading => LOADING,
            CheckoutState::Loaded(session) => match session.status {
                CheckoutSessionStatus::Open => "",
                CheckoutSessionStatus::Expired => EXPIRED,
                CheckoutSessionStatus::Complete => COMPLETE,
            },
            CheckoutState::Failed(LoadError::NotFound) => NOT_FOUND,
            CheckoutState::Failed(LoadError::Unavailable) => UNAVAILABLE,
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self, CheckoutState::Loading)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, CheckoutState::Failed(_))
    }

    /// Only a transient failure offers a Retry button.
    pub fn can_retry(&self) -> bool {
        matches!(self, CheckoutState::Failed(LoadError::Unavailable))
    }
}
