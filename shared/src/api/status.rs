use serde::{Deserialize, Serialize};

/// The state of a payment, shared by both providers.
///
/// The allowed moves are an explicit table ([`PaymentStatus::can_transition_to`]); terminal states
/// (`succeeded`, `failed`, `canceled`) never move, so a late or duplicated webhook cannot undo a
/// success or resurrect a canceled payment. Refunds are separate records and do not change the
/// status of a succeeded payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Failed,
    Canceled,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 8] = [
        PaymentStatus::RequiresPaymentMethod,
        PaymentStatus::RequiresConfirmation,
        PaymentStatus::RequiresAction,
        PaymentStatus::Processing,
        PaymentStatus::RequiresCapture,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::RequiresPaymentMethod => "requires_payment_method",
            PaymentStatus::RequiresConfirmation => "requires_confirmation",
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Processing => "processing",
            PaymentStatus::RequiresCapture => "requires_capture",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No move leaves these states.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::Failed | PaymentStatus::Canceled
        )
    }

    /// The transition table. Staying in the same state is not a transition (callers treat it as
    /// a no-op). Rationale per row:
    /// - before capture a payment may go back to `requires_payment_method` (a decline lets the
    ///   customer try another card on the same PaymentIntent / PayPal order);
    /// - `processing` can still fail back to `requires_payment_method` (async decline), end, or
    ///   wait for capture;
    /// - `requires_capture` can only be captured (`succeeded`/`processing`), voided or expire.
    pub fn can_transition_to(self, to: PaymentStatus) -> bool {
        use PaymentStatus::*;
        if self == to || self.is_terminal() {
            return false;
        }
        match self {
            RequiresPaymentMethod => matches!(
                to,
                RequiresConfirmation
                    | RequiresAction
                    | Processing
                    | RequiresCapture
                    | Succeeded
                    | Failed
                    | Canceled
            ),
            RequiresConfirmation => matches!(
                to,
                RequiresPaymentMethod
                    | RequiresAction
                    | Processing
                    | RequiresCapture
                    | Succeeded
                    | Failed
                    | Canceled
            ),
            RequiresAction => matches!(
                to,
                RequiresPaymentMethod
                    | RequiresConfirmation
                    | Processing
                    | RequiresCapture
                    | Succeeded
                    | Failed
                    | Canceled
            ),
            Processing => matches!(
                to,
                RequiresPaymentMethod | RequiresCapture | Succeeded | Failed | Canceled
            ),
            RequiresCapture => matches!(to, Processing | Succeeded | Failed | Canceled),
            Succeeded | Failed | Canceled => false,
        }
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::{self, *};

    /// The whole table, written out independently of the `match` above: every pair is either
    /// listed here as allowed or must be refused.
    const ALLOWED: &[(PaymentStatus, PaymentStatus)] = &[
        (RequiresPaymentMethod, RequiresConfirmation),
        (RequiresPaymentMethod, RequiresAction),
        (RequiresPaymentMethod, Processing),
        (RequiresPaymentMethod, RequiresCapture),
        (RequiresPaymentMethod, Succeeded),
        (RequiresPaymentMethod, Failed),
        (RequiresPaymentMethod, Canceled),
        (RequiresConfirmation, RequiresPaymentMethod),
        (RequiresConfirmation, RequiresAction),
        (RequiresConfirmation, Processing),
        (RequiresConfirmation, RequiresCapture),
        (RequiresConfirmation, Succeeded),
        (RequiresConfirmation, Failed),
        (RequiresConfirmation, Canceled),
        (RequiresAction, RequiresPaymentMethod),
        (RequiresAction, RequiresConfirmation),
        (RequiresAction, Processing),
        (RequiresAction, RequiresCapture),
        (RequiresAction, Succeeded),
        (RequiresAction, Failed),
        (RequiresAction, Canceled),
        (Processing, RequiresPaymentMethod),
        (Processing, RequiresCapture),
        (Processing, Succeeded),
        (Processing, Failed),
        (Processing, Canceled),
        (RequiresCapture, Processing),
        (RequiresCapture, Succeeded),
        (RequiresCapture, Failed),
        (RequiresCapture, Canceled),
    ];

    #[test]
    fn every_allowed_and_every_forbidden_transition() {
        let mut allowed = 0;
        for from in PaymentStatus::ALL {
            for to in PaymentStatus::ALL {
                let expected = ALLOWED.contains(&(from, to));
                assert_eq!(from.can_transition_to(to), expected, "{from} -> {to}");
                allowed += usize::from(expected);
            }
        }
        assert_eq!(allowed, ALLOWED.len());
    }

    #[test]
    fn terminal_states_never_move() {
        for from in [Succeeded, Failed, Canceled] {
            assert!(from.is_terminal());
            assert!(PaymentStatus::ALL
                .iter()
                .all(|to| !from.can_transition_to(*to)));
        }
        assert!(!RequiresCapture.is_terminal());
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(PaymentStatus::parse("paid"), None);
    }
}
