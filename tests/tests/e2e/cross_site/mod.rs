//! The checkout embedded in a merchant's page on **another site**, end to end, in real headless
//! Chromium: the merchant's page on `http://localhost:<port>` (tests/src/merchant.rs) includes
//! paygate's `/embed.js` from `http://127.0.0.1:<port>` and mounts the widget; paygate runs in
//! sandbox mode with the merchant's origin as its only allowed origin, and talks over real HTTP
//! to its Stripe and PayPal emulators, whose Stripe.js and PayPal JS SDK stand-ins put their
//! own frames (another origin again) inside the widget.
//!
//! One browser, one paygate, one merchant site for all scenarios, run in order; each scenario
//! has its own checkout session and checks what the customer sees, the event the merchant's
//! page received, and the records of paygate (merchant API) and of the emulator. After each,
//! any Content-Security-Policy violation reported by any page fails the test. At the end, the
//! card numbers typed appear nowhere in paygate's log, the requests it received or its
//! database (see `card_numbers_never_reached_paygate`).

mod card;
mod leave;
mod paypal;
mod session;

use paygate_tests::merchant::MerchantSite;
use paygate_tests::shop::Shop;
use paygate_tests::{browser, evidence, spawn_app, AppOptions, TestDb};

/// The test cards typed in the scenarios (docs.stripe.com/testing).
pub const VISA: &str = "4242424242424242";
pub const DECLINED: &str = "4000000000000002";
pub const THREE_D_SECURE: &str = "4000002500003155";
const TYPED: [&str; 3] = [VISA, DECLINED, THREE_D_SECURE];

/// What the widget tells the customer (frontend/src/widget/state.rs).
pub mod messages {
    pub const SUCCEEDED: &str = "Payment successful. Thank you!";
    pub const THREE_D_SECURE: &str =
        "Your bank wants to confirm it is you. Complete the verification in the window that opened.";
    pub const AUTHENTICATION_FAILED: &str =
        "Your bank could not confirm it is you, so the payment was not made. Please try again or use another card.";
    pub const PAYPAL_CANCELLED: &str =
        "You cancelled the PayPal payment. Choose a payment method to try again.";
    pub const PAYPAL_DECLINED: &str =
        "PayPal declined this funding source. Please choose another way to pay in the PayPal window.";
    pub const EXPIRED: &str = "This checkout has expired.";
    pub const COMPLETE: &str = "This checkout has already been paid.";
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_embedded_on_another_site() {
    let log = evidence::capture_log();
    let Some(browser) = browser::start().await else {
        return;
    };
    let merchant = MerchantSite::start().await;
    let db = TestDb::sqlite().await;
    let app = spawn_app(
        &db,
        AppOptions {
            vars: vec![
                ("PAYGATE_ALLOWED_ORIGINS", merchant.origin.clone()),
                ("PAYGATE_MERCHANT_NAME", "Tea shop".into()),
            ],
            record_requests: true,
            ..AppOptions::default()
        },
    )
    .await;
    let stripe_origin = app.stripe.as_ref().expect("sandbox").config().origin();
    // A payment that redirects shows the provider's page inside paygate's frame: the merchant's
    // frame-src allows it (docs/EMBEDDING.md).
    merchant.connect(&app.url, &[stripe_origin]);
    let shop = Shop {
        browser: &browser,
        merchant: &merchant,
        app: &app,
    };

    let paid = card::success_and_theme(&shop).await;
    check(&shop, "card success").await;
    session::already_paid(&shop, &paid).await;
    check(&shop, "already paid").await;
    card::declined_then_good_card(&shop).await;
    check(&shop, "declined then good card").await;
    card::three_d_secure_completed(&shop).await;
    check(&shop, "3-D Secure completed").await;
    card::three_d_secure_failed(&shop).await;
    check(&shop, "3-D Secure failed").await;
    card::redirect_and_return(&shop).await;
    check(&shop, "redirect and return").await;
    paypal::approve_and_capture(&shop).await;
    check(&shop, "PayPal approve and capture").await;
    paypal::cancel_then_card(&shop).await;
    check(&shop, "PayPal cancel then card").await;
    paypal::decline_then_restart(&shop).await;
    check(&shop, "PayPal decline then restart").await;
    session::two_widgets_on_one_page(&shop).await;
    check(&shop, "two widgets on one page").await;
    session::expired_while_open(&shop).await;
    check(&shop, "expired session").await;
    leave::cancel_back_to_the_shop(&shop).await;
    check(&shop, "cancel").await;
    card::keyboard_only(&shop).await;
    check(&shop, "keyboard only").await;

    browser.close().await;
    card_numbers_never_reached_paygate(&app, &log).await;
    app.stop().await;
    let raw = evidence::sqlite_file_text(&db.url);
    assert!(raw.contains("cs_"), "the raw database files were read");
    for number in TYPED {
        for form in evidence::card_number_forms(number) {
            assert!(!raw.contains(&form), "{form} in paygate's database files");
        }
    }
    merchant.stop();
}

async fn check(shop: &Shop<'_>, scenario: &str) {
    eprintln!("scenario passed: {scenario}");
    shop.browser.assert_no_csp_violations().await;
}

/// PCI DSS SAQ A: the numbers went to the provider (the emulator received them) and never to
/// paygate. Covered: every tracing event of paygate and of its HTTP and SQL layers (unredacted),
/// every request paygate's public address received (method, URI, headers, body), and every row
/// of every table (plus, after stopping, the raw database files).
async fn card_numbers_never_reached_paygate(app: &paygate_tests::TestApp, log: &evidence::Sink) {
    let to_stripe = app
        .stripe
        .as_ref()
        .expect("sandbox")
        .received_request_bodies();
    let log = log.text();
    let received = app.received.as_ref().expect("recording").all();
    let dump = evidence::dump_sqlite(&app.state.db.pool).await;
    // The evidence is real: each source saw this suite's traffic.
    assert!(
        log.contains("/checkout/api/sessions/"),
        "paygate's log was captured"
    );
    assert!(
        received
            .iter()
            .any(|r| r.starts_with("POST /checkout/api/sessions/") && r.contains("stripe/complete")),
        "paygate's requests were recorded"
    );
    assert!(
        dump.contains("checkout_sessions\t"),
        "the database was dumped"
    );
    for number in TYPED {
        assert!(
            to_stripe.iter().any(|b| b.contains(number)),
            "{number} was typed and sent to the provider"
        );
        for form in evidence::card_number_forms(number) {
            assert!(!log.contains(&form), "{form} in paygate's log");
            assert!(
                !received.iter().any(|r| r.contains(&form)),
                "{form} in a request paygate received"
            );
            assert!(!dump.contains(&form), "{form} in paygate's database");
        }
    }
}
