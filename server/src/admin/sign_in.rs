//! `/admin/api/session`: sign in, who am I, sign out. Failed sign-ins are limited (OWASP
//! Authentication Cheat Sheet) per account from one address and per address; over a limit the
//! answer is 429 with `Retry-After`, and the password is not even checked. Guessing at one
//! account from many addresses is slowed, not turned into a lockout: once the account has many
//! failures, an address that already failed for it must wait longer after each new failure,
//! while an address that has not (the admin, elsewhere) still gets to try.

use super::session::{self, check_origin, AdminAuth, ClientIp};
use super::{accounts, audit};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shared::api::admin::{AdminSession, SignIn};

/// Failures counted within this window...
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// ...at most this many per account from one address (then that address waits for that
/// account; the account's admin signs in from anywhere else)...
pub const MAX_PER_ACCOUNT_AND_ADDRESS: i64 = 5;
/// ...and this many per client address (one address guessing many accounts).
pub const MAX_PER_ADDRESS: i64 = 20;
/// Failures of one account, from all addresses, after which an address that failed for it
/// waits one more second per further failure before its next try (at most
/// [`MAX_ACCOUNT_DELAY_MS`]).
pub const ACCOUNT_SLOWDOWN_AFTER: i64 = 10;
/// The longest such wait.
pub const MAX_ACCOUNT_DELAY_MS: i64 = 10 * 60 * 1000;

/// `POST /admin/api/session`.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Json(body): Json<SignIn>,
) -> ApiResult<Response> {
    check_origin(&headers, &state.config.public_url)?;
    let ip = ip.unwrap_or_else(|| "unknown".to_string());
    let ip_group = session::address_group(&ip);
    let email = crate::crypto::normalize_email(&body.email);
    if email.is_empty() || email.len() > 254 || body.password.len() > 1024 {
        return Err(ApiError::invalid("email", "Enter your email and password."));
    }
    let now = state.clock.now_ms();
    // The attempt is counted before the password is checked, so a burst of parallel guesses
    // cannot all pass the limit: each one sees every attempt stored before its own.
    let attempt: i64 = sqlx::query_scalar(
        "INSERT INTO admin_sign_in_failures (email, ip, at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&email)
    .bind(&ip_group)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?;
    if let Err(refused) = refuse_if_limited(&state, &email, &ip_group, now, attempt).await {
        forget_attempt(&state, attempt).await?;
        return Err(refused);
    }

    let found = accounts::find_for_sign_in(&state.db, &email).await?;
    let stored = found
        .as_ref()
        .map(|(_, hash)| hash.clone())
        .unwrap_or_else(|| accounts::decoy_hash().to_string());
    let password = body.password;
    // Argon2 takes tens of milliseconds and 19 MiB per check: a few at a time, off the async
    // workers, so a flood of sign-ins cannot exhaust memory.
    let _slot = ARGON2_SLOTS.acquire().await.map_err(ApiError::internal)?;
    let matches =
        tokio::task::spawn_blocking(move || accounts::verify_password(&password, &stored))
            .await
            .map_err(ApiError::internal)?;
    let admin = match (found, matches) {
        (Some((admin, _)), true) => admin,
        _ => {
            // The attempt stays counted as a failure.
            audit::record(
                &state.db,
                &email,
                "sign_in_failed",
                None,
                &json!({}),
                Some(&ip),
                now,
            )
            .await?;
            return Err(ApiError::unauthorized("Wrong email or password."));
        }
    };
    forget_attempt(&state, attempt).await?;

    let (token, auth) =
        session::create(&state.db, &admin.id, &admin.email, Some(ip.clone()), now).await?;
    sqlx::query("UPDATE admins SET last_sign_in_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&admin.id)
        .execute(&state.db.pool)
        .await?;
    audit::record(
        &state.db,
        &admin.email,
        "sign_in",
        None,
        &json!({}),
        Some(&ip),
        now,
    )
    .await?;
    Ok((
        [(
            header::SET_COOKIE,
            session::set_cookie(&state.config.public_url, &token),
        )],
        axum::Json(auth.to_api()),
    )
        .into_response())
}

static ARGON2_SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(4));

async fn forget_attempt(state: &AppState, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM admin_sign_in_failures WHERE id = $1")
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Refuses when the failures counted in the window, this attempt included, exceed a limit.
/// Only attempts stored before this one (`attempt`, its row id) count: in a burst of parallel
/// guesses the first ones up to the limit are tried and the rest refused, whatever order their
/// checks run in (counting later rows too could refuse every one of them).
async fn refuse_if_limited(
    state: &AppState,
    email: &str,
    ip: &str,
    now: i64,
    attempt: i64,
) -> ApiResult<()> {
    let window_start = now - WINDOW_MS;
    // A successful sign-in clears the account's count (not the address's: an attacker with one
    // valid account must not reset the limit on their guesses at others).
    let last_success: Option<i64> =
        sqlx::query_scalar("SELECT last_sign_in_at FROM admins WHERE email = $1")
            .bind(email)
            .fetch_optional(&state.db.pool)
            .await?
            .flatten();
    let account_since = window_start.max(last_success.unwrap_or(i64::MIN));
    let pair = failures(
        state,
        "email = $1 AND ip = $2",
        email,
        Some(ip),
        account_since,
        attempt,
    )
    .await?;
    let address = failures(state, "ip = $1", ip, None, window_start, attempt).await?;
    for (times, max) in [
        (&pair, MAX_PER_ACCOUNT_AND_ADDRESS),
        (&address, MAX_PER_ADDRESS),
    ] {
        let counted = times.len() as i64;
        if counted > max {
            // Earlier failures age out one by one: the next attempt is allowed once all but
            // max - 1 of them have (this refused attempt is not kept).
            let must_age = (counted - 1) - (max - 1);
            let at = times[(must_age - 1).max(0) as usize];
            return Err(too_many((at + WINDOW_MS - now).max(1000)));
        }
    }
    // This attempt is among the times (at `now`); the address's earlier ones are the rest.
    if pair.len() > 1 {
        let account = failures(state, "email = $1", email, None, account_since, attempt).await?;
        let earlier = account.len() as i64 - 1;
        if earlier > ACCOUNT_SLOWDOWN_AFTER {
            let delay = ((earlier - ACCOUNT_SLOWDOWN_AFTER) * 1000).min(MAX_ACCOUNT_DELAY_MS);
            let last = account.iter().rev().copied().find(|at| *at < now);
            if let Some(last) = last {
                if now < last + delay {
                    return Err(too_many(last + delay - now));
                }
            }
        }
    }
    Ok(())
}

/// The times of the failures matching `condition` since `since`, stored no later than the
/// attempt `up_to`, oldest first.
async fn failures(
    state: &AppState,
    condition: &str,
    first: &str,
    second: Option<&str>,
    since: i64,
    up_to: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let (at, id) = if second.is_some() {
        ("$3", "$4")
    } else {
        ("$2", "$3")
    };
    let sql = format!(
        "SELECT at FROM admin_sign_in_failures WHERE {condition} AND at > {at} AND id <= {id} ORDER BY at"
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(first.to_string());
    if let Some(second) = second {
        query = query.bind(second.to_string());
    }
    query
        .bind(since)
        .bind(up_to)
        .fetch_all(&state.db.pool)
        .await
}

fn too_many(wait_ms: i64) -> ApiError {
    let mut e = ApiError::rate_limited(((wait_ms.max(1) + 999) / 1000) as u64);
    e.detail = "Too many failed sign-ins; wait before trying again.".to_string();
    e
}

/// `GET /admin/api/session`: the signed-in admin and the CSRF token, or 401.
pub async fn current(admin: AdminAuth) -> axum::Json<AdminSession> {
    axum::Json(admin.to_api())
}

/// `DELETE /admin/api/session`: sign out (CSRF-checked like every state change).
pub async fn sign_out(State(state): State<AppState>, admin: AdminAuth) -> ApiResult<Response> {
    session::end(&state.db, &admin).await?;
    let now = state.clock.now_ms();
    audit::record(
        &state.db,
        &admin.email,
        "sign_out",
        None,
        &json!({}),
        admin.ip.as_deref(),
        now,
    )
    .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session::clear_cookie(&state.config.public_url),
        )],
    )
        .into_response())
}
