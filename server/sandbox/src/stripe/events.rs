//! Events (`GET /v1/events`, newest first, filtered by `type` (with `*` wildcards), `types[]`
//! and `created`; `GET /v1/events/{id}`).

use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::store::list_page;
use super::App;
use axum::extract::{Path, State};
use axum::Extension;
use serde_json::Value;

/// `created=<t>` or `created[gt|gte|lt|lte]=<t>`.
#[derive(Debug, Default)]
pub struct CreatedFilter {
    eq: Option<i64>,
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl CreatedFilter {
    pub fn from(p: &Params) -> Result<CreatedFilter, ApiError> {
        let eq = match p.str("created") {
            Ok(v) => v.map(|_| p.int("created")).transpose()?.flatten(),
            Err(_) => None,
        };
        Ok(CreatedFilter {
            eq,
            gt: p.int("created.gt")?,
            gte: p.int("created.gte")?,
            lt: p.int("created.lt")?,
            lte: p.int("created.lte")?,
        })
    }

    pub fn matches(&self, t: i64) -> bool {
        self.eq.is_none_or(|x| t == x)
            && self.gt.is_none_or(|x| t > x)
            && self.gte.is_none_or(|x| t >= x)
            && self.lt.is_none_or(|x| t < x)
            && self.lte.is_none_or(|x| t <= x)
    }
}

fn type_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

pub async fn list(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "type",
        "types.#",
        "created",
        "created.gt",
        "created.gte",
        "created.lt",
        "created.lte",
        "delivery_success",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let kind = p.str("type")?;
    let types = p.strings("types")?;
    if kind.is_some() && types.is_some() {
        return Err(ApiError::invalid_param(
            "types",
            "You may only specify one of these parameters: type, types.".to_string(),
        ));
    }
    let delivery_success = p.bool("delivery_success")?;
    let created = CreatedFilter::from(&p)?;
    let store = app.store.lock().expect("store lock");
    let data: Vec<Value> = store
        .events
        .iter()
        .rev()
        .filter(|e| {
            let t = e["type"].as_str().unwrap_or("");
            kind.is_none_or(|k| type_matches(k, t))
                && types
                    .as_ref()
                    .is_none_or(|ts| ts.iter().any(|k| type_matches(k, t)))
        })
        .filter(|e| created.matches(e["created"].as_i64().unwrap_or(0)))
        .filter(|e| {
            delivery_success.is_none_or(|ok| (e["pending_webhooks"].as_i64() == Some(0)) == ok)
        })
        .cloned()
        .collect();
    ok(list_page(
        "/v1/events",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?)
}

pub async fn retrieve(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let i = store
        .event_index
        .get(&id)
        .ok_or_else(|| ApiError::no_such("event", &id, "id"))?;
    ok(store.events[*i].clone())
}
