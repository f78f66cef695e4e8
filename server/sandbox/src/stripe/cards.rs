//! Stripe's test cards (docs.stripe.com/testing) and the magic `pm_card_*` PaymentMethods that
//! stand for them: what each does when attached, charged, authenticated and refunded.

/// A decline as Stripe reports it in a `card_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decline {
    pub code: &'static str,
    pub decline_code: &'static str,
    pub message: &'static str,
    pub param: Option<&'static str>,
}

pub const GENERIC_DECLINE: Decline = Decline {
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
    param: None,
};
pub const INSUFFICIENT_FUNDS: Decline = Decline {
    code: "card_declined",
    decline_code: "insufficient_funds",
    message: "Your card has insufficient funds.",
    param: None,
};
const LOST_CARD: Decline = Decline {
    code: "card_declined",
    decline_code: "lost_card",
    message: "Your card was declined.",
    param: None,
};
const STOLEN_CARD: Decline = Decline {
    code: "card_declined",
    decline_code: "stolen_card",
    message: "Your card was declined.",
    param: None,
};
const EXPIRED_CARD: Decline = Decline {
    code: "expired_card",
    decline_code: "expired_card",
    message: "Your card has expired.",
    param: Some("exp_month"),
};
const INCORRECT_CVC: Decline = Decline {
    code: "incorrect_cvc",
    decline_code: "incorrect_cvc",
    message: "Your card's security code is incorrect.",
    param: Some("cvc"),
};
const PROCESSING_ERROR: Decline = Decline {
    code: "processing_error",
    decline_code: "processing_error",
    message: "An error occurred while processing your card. Try again in a little bit.",
    param: None,
};
const VELOCITY: Decline = Decline {
    code: "card_declined",
    decline_code: "card_velocity_exceeded",
    message: "Your card was declined for making repeated attempts too frequently or exceeding its amount limit.",
    param: None,
};
pub const AUTHENTICATION_REQUIRED: Decline = Decline {
    code: "authentication_required",
    decline_code: "authentication_required",
    message: "Your card was declined. This transaction requires authentication.",
    param: None,
};
const LIVE_CARD_IN_TEST_MODE: Decline = Decline {
    code: "card_declined",
    decline_code: "test_mode_live_card",
    message: "Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
    param: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundMode {
    /// Refunds succeed at once.
    Normal,
    /// `pending`, then `succeeded` shortly after (4000000000007726).
    Pending,
    /// `succeeded`, then `failed` shortly after (4000000000005126).
    Fail,
}

/// What a card does in test mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub brand: &'static str,
    pub funding: &'static str,
    pub country: &'static str,
    /// The decline on every charge (and on attach, unless `attachable`).
    pub decline: Option<Decline>,
    /// Whether it can be attached to a Customer ("You can't attach cards that simulate issuer
    /// declines").
    pub attachable: bool,
    /// When a payment asks for 3-D Secure (on session) or is declined with
    /// `authentication_required` (off session).
    pub authentication: Authentication,
    /// The decline after a completed authentication (4000008260003178).
    pub decline_after_authentication: Option<Decline>,
    pub refund: RefundMode,
    /// A successful charge is disputed at once with this reason (4000000000000259 fraudulent,
    /// 4000000000002685 product not received), or an inquiry is opened (4000000000001976);
    /// docs.stripe.com/testing#disputes.
    pub dispute: Option<ScriptedDispute>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptedDispute {
    pub reason: &'static str,
    /// An inquiry (`warning_needs_response`): no funds withdrawn, closes as `warning_closed`.
    pub inquiry: bool,
}

const fn success(brand: &'static str, funding: &'static str) -> Profile {
    Profile {
        brand,
        funding,
        country: "US",
        decline: None,
        attachable: true,
        authentication: Authentication::Never,
        decline_after_authentication: None,
        refund: RefundMode::Normal,
        dispute: None,
    }
}

const fn declined(decline: Decline) -> Profile {
    Profile {
        decline: Some(decline),
        attachable: false,
        ..success("visa", "credit")
    }
}

/// docs.stripe.com/testing, "Authentication and setup" and "Support and availability".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// "isn't enrolled in 3D Secure" (4242424242424242) and every card without a 3DS entry.
    Never,
    /// "requires authentication on all transactions, regardless of how the card is set up"
    /// (4000002760003184); "3D Secure authentication must be completed for the payment to be
    /// successful" (4000000000003220).
    Always,
    /// "requires authentication for off-session payments unless you set it up for future
    /// payments. After you set it up, off-session payments no longer require authentication.
    /// However, on-session payments with this card always require authentication"
    /// (4000002500003155).
    UnlessSetUp,
    /// "already set up for off-session use. It requires authentication for one-time and other
    /// on-session payments. However, all off-session payments succeed as if the card has been
    /// previously set up" (4000003800000446).
    OnSessionOnly,
}

impl Authentication {
    /// Whether a payment needs the cardholder: on session or off, with the card set up for
    /// off-session use (a payment with `setup_future_usage: off_session`) or not.
    pub fn required(self, off_session: bool, set_up: bool) -> bool {
        match self {
            Authentication::Never => false,
            Authentication::Always => true,
            Authentication::UnlessSetUp => !off_session || !set_up,
            Authentication::OnSessionOnly => !off_session,
        }
    }
}

const fn authenticated(authentication: Authentication) -> Profile {
    Profile {
        authentication,
        ..success("visa", "credit")
    }
}

/// The test card numbers this emulator knows.
pub fn profile_of(number: &str) -> Option<Profile> {
    Some(match number {
        "4242424242424242" => success("visa", "credit"),
        "4000056655665556" => success("visa", "debit"),
        "5555555555554444" | "2223003122003222" => success("mastercard", "credit"),
        "5200828282828210" => success("mastercard", "debit"),
        "5105105105105100" => success("mastercard", "prepaid"),
        "378282246310005" | "371449635398431" => success("amex", "credit"),
        "6011111111111117" | "6011000990139424" => success("discover", "credit"),
        "3056930009020004" | "36227206271667" => success("diners", "credit"),
        "3566002020360505" => success("jcb", "credit"),
        "6200000000000005" => success("unionpay", "credit"),
        "4000003800000446" => authenticated(Authentication::OnSessionOnly),
        "4000000000000002" => declined(GENERIC_DECLINE),
        "4000000000009995" => declined(INSUFFICIENT_FUNDS),
        "4000000000009987" => declined(LOST_CARD),
        "4000000000009979" => declined(STOLEN_CARD),
        "4000000000000069" => declined(EXPIRED_CARD),
        "4000000000000127" => declined(INCORRECT_CVC),
        "4000000000000119" => declined(PROCESSING_ERROR),
        "4000000000006975" => declined(VELOCITY),
        "4000000000000341" => Profile {
            attachable: true,
            ..declined(GENERIC_DECLINE)
        },
        "4000002500003155" => authenticated(Authentication::UnlessSetUp),
        "4000002760003184" | "4000000000003220" => authenticated(Authentication::Always),
        "4000008260003178" => Profile {
            decline_after_authentication: Some(INSUFFICIENT_FUNDS),
            ..authenticated(Authentication::Always)
        },
        "4000000000007726" => Profile {
            refund: RefundMode::Pending,
            ..success("visa", "credit")
        },
        "4000000000005126" => Profile {
            refund: RefundMode::Fail,
            ..success("visa", "credit")
        },
        "4000000000000259" => Profile {
            dispute: Some(ScriptedDispute {
                reason: "fraudulent",
                inquiry: false,
            }),
            ..success("visa", "credit")
        },
        "4000000000002685" => Profile {
            dispute: Some(ScriptedDispute {
                reason: "product_not_received",
                inquiry: false,
            }),
            ..success("visa", "credit")
        },
        "4000000000001976" => Profile {
            dispute: Some(ScriptedDispute {
                reason: "fraudulent",
                inquiry: true,
            }),
            ..success("visa", "credit")
        },
        _ => return None,
    })
}

/// What a card number that is not a test card does: Luhn-valid live numbers are declined in
/// test mode, as Stripe does.
pub fn profile_for_number(number: &str) -> Profile {
    profile_of(number).unwrap_or(Profile {
        brand: brand_of(number),
        ..declined(LIVE_CARD_IN_TEST_MODE)
    })
}

/// The card number a magic `pm_card_*` id stands for.
pub fn magic_payment_method(id: &str) -> Option<&'static str> {
    Some(match id {
        "pm_card_visa" => "4242424242424242",
        "pm_card_visa_debit" => "4000056655665556",
        "pm_card_mastercard" => "5555555555554444",
        "pm_card_mastercard_debit" => "5200828282828210",
        "pm_card_mastercard_prepaid" => "5105105105105100",
        "pm_card_amex" => "378282246310005",
        "pm_card_discover" => "6011111111111117",
        "pm_card_diners" => "3056930009020004",
        "pm_card_jcb" => "3566002020360505",
        "pm_card_unionpay" => "6200000000000005",
        "pm_card_visa_chargeDeclined" => "4000000000000002",
        "pm_card_visa_chargeDeclinedInsufficientFunds" => "4000000000009995",
        "pm_card_visa_chargeDeclinedLostCard" => "4000000000009987",
        "pm_card_visa_chargeDeclinedStolenCard" => "4000000000009979",
        "pm_card_chargeDeclinedExpiredCard" => "4000000000000069",
        "pm_card_chargeDeclinedIncorrectCvc" => "4000000000000127",
        "pm_card_chargeDeclinedProcessingError" => "4000000000000119",
        "pm_card_visa_chargeDeclinedVelocityLimitExceeded" => "4000000000006975",
        "pm_card_chargeCustomerFail" => "4000000000000341",
        "pm_card_authenticationRequiredOnSetup" => "4000002500003155",
        "pm_card_authenticationRequired" => "4000002760003184",
        "pm_card_threeDSecure2Required" => "4000000000003220",
        "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds" => "4000008260003178",
        "pm_card_authenticationRequiredSetupForOffSession" => "4000003800000446",
        "pm_card_pendingRefund" => "4000000000007726",
        "pm_card_refundFail" => "4000000000005126",
        "pm_card_createDispute" => "4000000000000259",
        "pm_card_createDisputeProductNotReceived" => "4000000000002685",
        "pm_card_createDisputeInquiry" => "4000000000001976",
        _ => return None,
    })
}

pub fn luhn_valid(number: &str) -> bool {
    if number.len() < 12 || number.len() > 19 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut sum = 0u32;
    for (i, b) in number.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The brand Stripe reports for a number, by its leading digits.
pub fn brand_of(number: &str) -> &'static str {
    let two: u32 = number.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let four: u32 = number.get(..4).and_then(|s| s.parse().ok()).unwrap_or(0);
    if number.starts_with('4') {
        "visa"
    } else if (51..=55).contains(&two) || (2221..=2720).contains(&four) {
        "mastercard"
    } else if two == 34 || two == 37 {
        "amex"
    } else if number.starts_with("6011") || number.starts_with("65") {
        "discover"
    } else if two == 36 || two == 30 || two == 38 {
        "diners"
    } else if number.starts_with("35") {
        "jcb"
    } else if number.starts_with("62") {
        "unionpay"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_ids_are_luhn_valid_test_cards() {
        for id in [
            "pm_card_visa",
            "pm_card_mastercard",
            "pm_card_amex",
            "pm_card_visa_chargeDeclined",
            "pm_card_chargeCustomerFail",
            "pm_card_authenticationRequired",
            "pm_card_authenticationRequiredOnSetup",
            "pm_card_pendingRefund",
            "pm_card_refundFail",
            "pm_card_createDispute",
        ] {
            let number = magic_payment_method(id).unwrap();
            assert!(luhn_valid(number), "{id}");
            assert!(profile_of(number).is_some(), "{id}");
        }
        assert!(!luhn_valid("4242424242424241"));
        assert_eq!(brand_of("378282246310005"), "amex");
        assert_eq!(brand_of("2223003122003222"), "mastercard");
    }
}
