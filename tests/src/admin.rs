//! An admin console client for the tests: signs in like the browser does (cookie + CSRF token)
//! and calls `/admin/api/...`.

use crate::app::TestApp;
use reqwest::{header, Method, Response};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";

/// Creates an admin the way `paygate admin create` does.
pub async fn create_admin(app: &TestApp, email: &str) {
    paygate::admin::accounts::create(&app.state.db, email, PASSWORD, app.state.clock.now_ms())
        .await
        .expect("admin created");
}

pub struct AdminClient {
    pub url: String,
    pub client: reqwest::Client,
    /// `paygate_admin=<token>`
    pub cookie: String,
    pub csrf: String,
}

/// Signs in; the raw answer, for tests of failures.
pub async fn sign_in_raw(app: &TestApp, email: &str, password: &str) -> Response {
    app.client
        .post(format!("{}/admin/api/session", app.url))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("request")
}

/// [`sign_in_raw`] from another loopback address (`127.0.0.x`: all of 127/8 is this machine), as
/// if from another client.
pub async fn sign_in_from(app: &TestApp, from: [u8; 4], email: &str, password: &str) -> Response {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .expect("client")
        .post(format!("{}/admin/api/session", app.url))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("request")
}

impl AdminClient {
    pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> AdminClient {
        let res = sign_in_raw(app, email, password).await;
        assert_eq!(res.status(), 200, "sign-in failed");
        let set_cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("Set-Cookie")
            .to_string();
        let cookie = set_cookie.split(';').next().unwrap_or_default().to_string();
        let body: Value = res.json().await.expect("json");
        AdminClient {
            url: app.url.clone(),
            client: app.client.clone(),
            cookie,
            csrf: body["csrf_token"].as_str().expect("csrf token").to_string(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let safe = method == Method::GET || method == Method::HEAD;
        let mut b = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header(header::COOKIE, &self.cookie);
        if !safe {
            b = b.header("x-csrf-token", &self.csrf);
        }
        b
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        crate::app::json_with_status(self.get(path).await, 200).await
    }

    pub async fn refund(&self, payment: &str, body: &Value, key: &str) -> Response {
        self.request(
            Method::POST,
            &format!("/admin/api/payments/{payment}/refunds"),
        )
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request")
    }
}
