use shared::api::{CheckoutSessionStatus, ProviderName, WidgetSession};

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

pub const LOADING_CARD: &str = "Loading the card form…";
pub const LOADING_PAYPAL: &str = "Loading PayPal…";
pub const PROCESSING: &str = "Processing your payment…";
pub const CHECKING: &str = "Checking your payment…";
pub const CHECK_DETAILS: &str = "Please check your card details.";
pub const FAILED: &str =
    "The payment could not be completed. Please try again or choose another payment method.";
pub const THREE_D_SECURE: &str =
    "Your bank wants to confirm it is you. Complete the verification in the window that opened.";
pub const PAYPAL_WINDOW: &str = "Continue in the PayPal window.";
pub const SUCCEEDED: &str = "Payment successful. Thank you!";
/// A session that only saves a card (`setup`) is complete.
pub const CARD_SAVED: &str = "Card saved. Nothing was charged.";
pub const AUTHENTICATION_FAILED: &str =
    "Your bank could not confirm it is you, so the payment was not made. Please try again or use another card.";
pub const DECLINED: &str = "Your payment was declined. Please try another card or payment method.";
pub const PAYPAL_DECLINED: &str =
    "PayPal declined this funding source. Please choose another way to pay in the PayPal window.";
pub const PAYPAL_CANCELLED: &str =
    "You cancelled the PayPal payment. Choose a payment method to try again.";
pub const PAYPAL_FAILED: &str =
    "PayPal could not complete the payment. Please try again or choose another payment method.";
pub const START_FAILED: &str = "We could not start this payment. Please try again.";
pub const UNCONFIRMED: &str =
    "We could not confirm your payment yet. Please do not pay again: check its status in a moment.";
pub const PENDING: &str =
    "Your payment is still being processed. Please do not pay again: check its status in a moment.";

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

    fn session_status(&self) -> Option<CheckoutSessionStatus> {
        match self {
            CheckoutState::Loaded(session) => Some(session.status),
            _ => None,
        }
    }
}

/// A way to pay that the widget offers: one per provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Stripe's Payment Element.
    Card,
    /// PayPal's buttons.
    Paypal,
}

impl Method {
    pub fn for_provider(provider: ProviderName) -> Method {
        match provider {
            ProviderName::Stripe => Method::Card,
            ProviderName::Paypal => Method::Paypal,
        }
    }

    pub fn provider(self) -> ProviderName {
        match self {
            Method::Card => ProviderName::Stripe,
            Method::Paypal => ProviderName::Paypal,
        }
    }

    /// What the customer reads on the choice.
    pub fn label(self) -> &'static str {
        match self {
            Method::Card => "Card",
            Method::Paypal => "PayPal",
        }
    }

    /// Stable name for ids and data attributes (`pg-method-card`, `data-method="paypal"`).
    pub fn key(self) -> &'static str {
        match self {
            Method::Card => "card",
            Method::Paypal => "paypal",
        }
    }

    /// Said in the status region when the provider's script could not be loaded.
    pub fn unavailable_message(self, others_left: bool) -> &'static str {
        match (self, others_left) {
            (Method::Card, true) => {
                "Card payments are unavailable: the card form could not be loaded. Please choose another payment method."
            }
            (Method::Card, false) => {
                "Card payments are unavailable: the card form could not be loaded. Please try again later."
            }
            (Method::Paypal, true) => {
                "PayPal is unavailable: it could not be loaded. Please choose another payment method."
            }
            (Method::Paypal, false) => {
                "PayPal is unavailable: it could not be loaded. Please try again later."
            }
        }
    }
}

/// Where a payment attempt is, for an open session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Phase {
    /// The customer chooses a method, or may pay with the chosen one.
    #[default]
    Ready,
    /// The chosen method is loading (provider script, PaymentIntent, card form, buttons).
    Preparing,
    /// A payment is being confirmed or captured; nothing can be clicked.
    Processing,
    /// Stripe.js shows the bank's 3-D Secure challenge over the page.
    ThreeDSecure,
    /// The provider refused the payment; the notice says why, and the customer can try again.
    Declined,
    /// The answer about a payment that may have gone through is not known yet (network failure,
    /// or the provider is still processing): the customer can ask again, not pay again.
    Unconfirmed,
    /// The server said the session is complete; `payment` is paygate's payment id.
    Succeeded { payment: String },
    /// The session stopped accepting payments while the page was open (expired, or paid by
    /// another attempt).
    Closed(CheckoutSessionStatus),
}

/// Text for the status region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Notice {
        Notice {
            text: text.into(),
            error: false,
        }
    }

    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            text: text.into(),
            error: true,
        }
    }
}

/// The payment part of the page, next to [`CheckoutState`]: what is chosen, where the attempt
/// is, which providers could not be loaded, and what the status region says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayState {
    pub method: Option<Method>,
    pub phase: Phase,
    /// The Payment Element reported `ready`: the Pay button may be used.
    pub card_ready: bool,
    /// Methods whose provider script (or form) failed to load.
    pub unavailable: Vec<Method>,
    pub notice: Option<Notice>,
    /// The customer's saved card chosen to pay with (`pm_...`); `None`: a new card, typed into
    /// Stripe's form.
    pub saved_card: Option<String>,
    /// "Save this card for next time" is ticked (sessions that let the customer choose).
    pub save_card: bool,
}

/// Where keyboard focus goes after a change (see [`PayState::focus_target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusTarget {
    Message,
    Receipt,
}

impl PayState {
    /// A payment is in flight: the choice is locked until it is settled.
    pub fn is_paying(&self) -> bool {
        matches!(self.phase, Phase::Processing | Phase::ThreeDSecure)
    }

    /// Something is loading or a payment is in flight: `aria-busy`, and no Pay button.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::Preparing | Phase::Processing | Phase::ThreeDSecure
        )
    }

    /// Whether payment methods are shown at all.
    pub fn shows_methods(&self) -> bool {
        !matches!(
            self.phase,
            Phase::Succeeded { .. } | Phase::Closed(_) | Phase::Unconfirmed
        )
    }

    pub fn is_available(&self, method: Method) -> bool {
        !self.unavailable.contains(&method)
    }

    pub fn receipt(&self) -> Option<&str> {
        match &self.phase {
            Phase::Succeeded { payment } => Some(payment),
            _ => None,
        }
    }

    /// Errors (and an unknown outcome) move focus to the message, success to the receipt;
    /// everything else leaves focus where the customer put it.
    pub fn focus_target(&self) -> Option<FocusTarget> {
        match &self.phase {
            Phase::Succeeded { .. } => Some(FocusTarget::Receipt),
            Phase::Unconfirmed => Some(FocusTarget::Message),
            _ if self.is_busy() => None,
            _ if self.notice.as_ref().is_some_and(|n| n.error) => Some(FocusTarget::Message),
            _ => None,
        }
    }
}

/// The page's state as one stable word, for the `data-state` attribute of `#pg-checkout`
/// (end-to-end tests and merchants' CSS): `loading`, `not_found`, `unavailable`, `ready`,
/// `preparing`, `processing`, `three_d_secure`, `declined`, `unconfirmed`, `succeeded`,
/// `expired`, `paid`.
pub fn state_name(checkout: &CheckoutState, pay: &PayState) -> &'static str {
    match checkout {
        CheckoutState::Loading => return "loading",
        CheckoutState::Failed(LoadError::NotFound) => return "not_found",
        CheckoutState::Failed(LoadError::Unavailable) => return "unavailable",
        CheckoutState::Loaded(_) => {}
    }
    match &pay.phase {
        Phase::Succeeded { .. } => return "succeeded",
        Phase::Closed(CheckoutSessionStatus::Expired) => return "expired",
        Phase::Closed(_) => return "paid",
        _ => {}
    }
    match checkout.session_status() {
        Some(CheckoutSessionStatus::Expired) => return "expired",
        Some(CheckoutSessionStatus::Complete) => return "paid",
        _ => {}
    }
    match pay.phase {
        Phase::Ready => "ready",
        Phase::Preparing => "preparing",
        Phase::Processing => "processing",
        Phase::ThreeDSecure => "three_d_secure",
        Phase::Declined => "declined",
        Phase::Unconfirmed => "unconfirmed",
        Phase::Succeeded { .. } | Phase::Closed(_) => unreachable!("handled above"),
    }
}

/// The status region's text and whether it is an error: the payment's notice when there is
/// one, else what the session's state says.
pub fn status_text(checkout: &CheckoutState, pay: &PayState) -> (String, bool) {
    if matches!(checkout, CheckoutState::Loaded(_)) {
        if let Some(notice) = &pay.notice {
            return (notice.text.clone(), notice.error);
        }
        if let Phase::Closed(status) = pay.phase {
            let text = if status == CheckoutSessionStatus::Expired {
                EXPIRED
            } else {
                COMPLETE
            };
            return (text.to_owned(), false);
        }
    }
    (checkout.message().to_owned(), checkout.is_error())
}

pub const SAVE_CARD: &str = "Save this card for next time";
pub const CARD_WILL_BE_SAVED: &str = "This card will be saved for next time.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_phases_keep_focus_and_only_payments_lock_the_choice() {
        for phase in [Phase::Preparing, Phase::Processing, Phase::ThreeDSecure] {
            let state = PayState {
                phase: phase.clone(),
                notice: Some(Notice::error("x")),
                ..PayState::default()
            };
            assert!(state.is_busy());
            assert_eq!(state.is_paying(), phase != Phase::Preparing);
            assert_eq!(state.focus_target(), None);
        }
    }

    #[test]
    fn an_unknown_outcome_is_not_a_payment_ui() {
        let state = PayState {
            phase: Phase::Unconfirmed,
            notice: Some(Notice::info(PENDING)),
            ..PayState::default()
        };
        assert!(!state.shows_methods());
        assert_eq!(state.focus_target(), Some(FocusTarget::Message));
    }

    #[test]
    fn errors_focus_the_message_and_success_the_receipt() {
        let declined = PayState {
            phase: Phase::Declined,
            notice: Some(Notice::error(DECLINED)),
            ..PayState::default()
        };
        assert_eq!(declined.focus_target(), Some(FocusTarget::Message));
        let paid = PayState {
            phase: Phase::Succeeded {
                payment: "pay_1".into(),
            },
            ..PayState::default()
        };
        assert_eq!(paid.focus_target(), Some(FocusTarget::Receipt));
        assert_eq!(paid.receipt(), Some("pay_1"));
        assert!(!paid.shows_methods());
        assert_eq!(PayState::default().focus_target(), None);
    }

    #[test]
    fn state_names_follow_the_load_then_the_payment() {
        let pay = PayState::default();
        assert_eq!(state_name(&CheckoutState::Loading, &pay), "loading");
        assert_eq!(
            state_name(&CheckoutState::Failed(LoadError::NotFound), &pay),
            "not_found"
        );
        assert_eq!(
            status_text(&CheckoutState::Failed(LoadError::Unavailable), &pay),
            (UNAVAILABLE.to_owned(), true)
        );
    }
}
