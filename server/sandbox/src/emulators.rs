//! Both emulators as paygate's sandbox listener serves them: built with the documented
//! [`defaults`](crate::defaults), Stripe under `/stripe` and PayPal under `/paypal` of one
//! origin, each posting its webhooks to paygate.

use crate::defaults::{
    PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET, PAYPAL_PREFIX, PAYPAL_TOKEN_TTL, PAYPAL_WEBHOOK_ID,
    STRIPE_PREFIX,
};
use crate::paypal::{PaypalEmulator, PaypalEmulatorConfig};
use crate::stripe::{StripeEmulator, StripeEmulatorConfig};
use crate::Clock;
use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The Stripe and the PayPal emulator of one sandbox listener. Cloning shares their state.
#[derive(Clone)]
pub struct Emulators {
    pub stripe: StripeEmulator,
    pub paypal: PaypalEmulator,
}

impl Emulators {
    /// Both emulators with the sandbox defaults, for a listener whose root is `sandbox_base`
    /// (e.g. `http://127.0.0.1:8081`): Stripe's public base is `{sandbox_base}/stripe`,
    /// PayPal's `{sandbox_base}/paypal`. Events are posted to the webhook URLs (paygate's
    /// `/webhooks/stripe` and `/webhooks/paypal`; `None` sends nothing). Give the server's
    /// clock offset through [`Clock::sharing`] so that tests move both with one clock.
    pub fn with_defaults(
        sandbox_base: &str,
        stripe_webhook_url: Option<String>,
        paypal_webhook_url: Option<String>,
        clock: Clock,
    ) -> Emulators {
        let base = sandbox_base.trim_end_matches('/');
        let stripe = StripeEmulator::new(StripeEmulatorConfig {
            webhook_url: stripe_webhook_url,
            clock: clock.clone(),
            ..StripeEmulatorConfig::sandbox(format!("{base}{STRIPE_PREFIX}"))
        });
        let paypal = PaypalEmulator::new(PaypalEmulatorConfig {
            client_id: PAYPAL_CLIENT_ID.into(),
            client_secret: PAYPAL_CLIENT_SECRET.into(),
            webhook_id: PAYPAL_WEBHOOK_ID.into(),
            webhook_url: paypal_webhook_url,
            public_base: format!("{base}{PAYPAL_PREFIX}"),
            token_ttl: PAYPAL_TOKEN_TTL,
            clock,
        });
        Emulators { stripe, paypal }
    }

    /// Stripe's routes under `/stripe`, PayPal's under `/paypal`.
    pub fn router(&self) -> Router {
        Router::new()
            .nest(STRIPE_PREFIX, self.stripe.router())
            .nest(PAYPAL_PREFIX, self.paypal.router())
    }

    /// Starts both webhook senders (each ends at once when its emulator has no webhook URL).
    pub fn spawn_webhook_senders(&self) -> [JoinHandle<()>; 2] {
        [
            self.stripe.spawn_webhook_sender(),
            self.paypal.spawn_webhook_sender(),
        ]
    }

    /// Serves [`router`](Self::router) on `listener`, with both webhook senders running, until
    /// `shutdown` completes and the requests in flight are answered; then stops the senders
    /// (deliveries still queued are dropped, as the state is). Returns the server's error, if
    /// any, after stopping the senders all the same.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let senders = self.spawn_webhook_senders();
        let served = axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await;
        for sender in senders {
            sender.abort();
        }
        served
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults;
    use std::sync::atomic::AtomicI64;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn both_emulators_on_one_listener_with_the_defaults() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let offset = Arc::new(AtomicI64::new(0));
        let emulators = Emulators::with_defaults(
            &format!("{base}/"),
            None,
            Some("http://127.0.0.1:9/webhooks/paypal".into()),
            Clock::sharing(offset.clone()),
        );
        let stripe = emulators.stripe.config();
        assert_eq!(stripe.public_base, format!("{base}/stripe"));
        assert_eq!(stripe.secret_key, defaults::STRIPE_SECRET_KEY);
        assert_eq!(stripe.publishable_key, defaults::STRIPE_PUBLISHABLE_KEY);
        assert_eq!(stripe.webhook_secret, defaults::STRIPE_WEBHOOK_SECRET);
        assert_eq!(stripe.webhook_url, None);
        let paypal = emulators.paypal.config();
        assert_eq!(paypal.public_base, format!("{base}/paypal"));
        assert_eq!(paypal.client_id, defaults::PAYPAL_CLIENT_ID);
        assert_eq!(paypal.client_secret, defaults::PAYPAL_CLIENT_SECRET);
        assert_eq!(paypal.webhook_id, defaults::PAYPAL_WEBHOOK_ID);
        assert_eq!(paypal.token_ttl, defaults::PAYPAL_TOKEN_TTL);
        assert_eq!(
            paypal.webhook_url.as_deref(),
            Some("http://127.0.0.1:9/webhooks/paypal")
        );
        // One clock: the caller's offset moves both emulators.
        let before = paypal.clock.now_ms();
        Clock::sharing(offset).advance(Duration::from_secs(3600));
        assert!(stripe.clock.now_ms() - before >= 3_600_000);
        assert!(paypal.clock.now_ms() - before >= 3_600_000);

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn({
            let emulators = emulators.clone();
            async move {
                emulators
                    .serve(listener, async move {
                        let _ = stopped.await;
                    })
                    .await
            }
        });
        let http = reqwest::Client::new();
        let r = http
            .get(format!("{base}/stripe/v1/customers"))
            .bearer_auth(defaults::STRIPE_SECRET_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["stripe-version"], crate::stripe::API_VERSION);
        let r = http
            .post(format!("{base}/paypal/v1/oauth2/token"))
            .basic_auth(
                defaults::PAYPAL_CLIENT_ID,
                Some(defaults::PAYPAL_CLIENT_SECRET),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(emulators.paypal.tokens_issued(), 1);
        let r = http
            .get(format!(
                "{base}/paypal/sdk/js?client-id={}",
                defaults::PAYPAL_CLIENT_ID
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
