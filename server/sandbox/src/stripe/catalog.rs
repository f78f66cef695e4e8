//! Products and Prices (`recurring[interval]`, `lookup_key`, `unit_amount`, `currency`), with
//! the demo catalogue seeded at start (see `DEMO_*` in the module root).

use super::error::{ok, ApiError, ApiResult};
use super::form::Params;
use super::http::Ctx;
use super::store::{list_page, Metadata, Price, Product, Store, View};
use super::App;
use axum::extract::{Path, State};
use axum::Extension;

fn product_of<'a>(store: &'a Store, id: &str, param: &str) -> Result<&'a Product, ApiError> {
    store
        .products
        .get(id)
        .ok_or_else(|| ApiError::no_such("product", id, param))
}

fn check_currency(currency: &str) -> Result<String, ApiError> {
    // Prices may be zero (subscriptions allow 0): only the currency is checked here.
    super::charging::check_amount(0, currency, "unit_amount").or_else(|e| {
        if e.param() == Some("currency") {
            Err(e)
        } else {
            Ok(currency.to_ascii_lowercase())
        }
    })
}

pub async fn create_product(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "id",
        "name",
        "description",
        "active",
        "metadata.*",
        "expand.#",
    ])?;
    let name = p.required("name")?.to_string();
    let id = p.nonempty("id")?.map(str::to_string);
    let description = p.nonempty("description")?.map(str::to_string);
    let active = p.bool("active")?.unwrap_or(true);
    let metadata = p.metadata("metadata")?;
    let origin = ctx.origin();
    app.run(|store| {
        let id = id.unwrap_or_else(|| crate::ids::new_id("prod"));
        if store.products.contains_key(&id) {
            return Err(ApiError::invalid("Product already exists.")
                .with_code("resource_already_exists")
                .with_param("id"));
        }
        let mut meta = Metadata::new();
        if let Some(m) = &metadata {
            m.apply(&mut meta);
        }
        let now = store.now();
        let seq = store.next_seq();
        let product = Product {
            id: id.clone(),
            seq,
            created: now,
            updated: now,
            name,
            description,
            active,
            default_price: None,
            metadata: meta,
        };
        let json = store.product_json(&product);
        store.products.insert(id, product);
        store.emit(&origin, "product.created", json.clone(), None);
        ok(json)
    })
}

pub async fn retrieve_product(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let mut v = store.product_json(product_of(&store, &id, "id")?);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn update_product(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "name",
        "description",
        "active",
        "default_price",
        "metadata.*",
        "expand.#",
    ])?;
    let metadata = p.metadata("metadata")?;
    let active = p.bool("active")?;
    let origin = ctx.origin();
    app.run(|store| {
        product_of(store, &id, "id")?;
        if let Some(price) = p.nonempty("default_price")? {
            if store.prices.get(price).is_none_or(|x| x.product != id) {
                return Err(ApiError::no_such("price", price, "default_price"));
            }
        }
        let now = store.now();
        let product = store.products.get_mut(&id).expect("product");
        if let Some(n) = p.nonempty("name")? {
            product.name = n.to_string();
        }
        if let Some(d) = p.str("description")? {
            product.description = (!d.is_empty()).then(|| d.to_string());
        }
        if let Some(a) = active {
            product.active = a;
        }
        if let Some(d) = p.nonempty("default_price")? {
            product.default_price = Some(d.to_string());
        }
        if let Some(m) = &metadata {
            m.apply(&mut product.metadata);
        }
        product.updated = now;
        let json = store.product_json(&store.products[&id]);
        store.emit(&origin, "product.updated", json.clone(), None);
        ok(json)
    })
}

pub async fn list_products(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "active",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let active = p.bool("active")?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&Product> = store
        .products
        .values()
        .filter(|x| active.is_none_or(|a| x.active == a))
        .collect();
    items.sort_by_key(|x| std::cmp::Reverse(x.seq));
    let data = items.iter().map(|x| store.product_json(x)).collect();
    ok(list_page(
        "/v1/products",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?)
}

const PRICE_CREATE: &[&str] = &[
    "currency",
    "unit_amount",
    "product",
    "product_data.name",
    "product_data.metadata.*",
    "recurring.interval",
    "recurring.interval_count",
    "lookup_key",
    "transfer_lookup_key",
    "nickname",
    "active",
    "metadata.*",
    "expand.#",
];

pub async fn create_price(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(PRICE_CREATE)?;
    let currency = check_currency(p.required("currency")?)?;
    let unit_amount = p.required_int("unit_amount")?;
    if unit_amount < 0 {
        return Err(ApiError::invalid_param(
            "unit_amount",
            "This value must be greater than or equal to 0.".to_string(),
        ));
    }
    if unit_amount > shared::providers::stripe::MAX_AMOUNT {
        return Err(ApiError::invalid_param(
            "unit_amount",
            "This value must be less than or equal to 99999999.".to_string(),
        ));
    }
    let product = p.nonempty("product")?.map(str::to_string);
    let product_name = p.nonempty("product_data.name")?.map(str::to_string);
    if product.is_none() && product_name.is_none() {
        return Err(ApiError::missing_parameter("product"));
    }
    if product.is_some() && p.has("product_data") {
        return Err(ApiError::invalid_param(
            "product",
            "You may only specify one of these parameters: product, product_data.".to_string(),
        ));
    }
    let interval = p.one_of("recurring.interval", &["day", "week", "month", "year"])?;
    if p.has("recurring") && interval.is_none() {
        return Err(ApiError::missing_parameter("recurring[interval]"));
    }
    let count = p.int("recurring.interval_count")?.unwrap_or(1);
    if !(1..=36).contains(&count) {
        return Err(ApiError::invalid_param(
            "recurring[interval_count]",
            "This value must be greater than or equal to 1.".to_string(),
        ));
    }
    let recurring = interval.map(|i| (i.to_string(), count));
    let lookup_key = p.nonempty("lookup_key")?.map(str::to_string);
    let transfer = p.bool("transfer_lookup_key")?.unwrap_or(false);
    let nickname = p.nonempty("nickname")?.map(str::to_string);
    let active = p.bool("active")?.unwrap_or(true);
    let metadata = p.metadata("metadata")?;
    let origin = ctx.origin();
    app.run(|store| {
        let product_id = match &product {
            Some(id) => product_of(store, id, "product")?.id.clone(),
            None => {
                let now = store.now();
                let seq = store.next_seq();
                let prod = Product {
                    id: crate::ids::new_id("prod"),
                    seq,
                    created: now,
                    updated: now,
                    name: product_name.clone().unwrap_or_default(),
                    description: None,
                    active: true,
                    default_price: None,
                    metadata: Metadata::new(),
                };
                let id = prod.id.clone();
                let json = store.product_json(&prod);
                store.products.insert(id.clone(), prod);
                store.emit(&origin, "product.created", json, None);
                id
            }
        };
        if let Some(key) = &lookup_key {
            let holder = store
                .prices
                .values()
                .find(|x| x.lookup_key.as_deref() == Some(key.as_str()))
                .map(|x| x.id.clone());
            if let Some(holder) = holder {
                if !transfer {
                    return Err(ApiError::invalid(format!(
                        "A price (`{holder}`) already uses that lookup key."
                    ))
                    .with_param("lookup_key"));
                }
                store.prices.get_mut(&holder).expect("price").lookup_key = None;
            }
        }
        let mut meta = Metadata::new();
        if let Some(m) = &metadata {
            m.apply(&mut meta);
        }
        let seq = store.next_seq();
        let price = Price {
            id: crate::ids::new_id("price"),
            seq,
            created: store.now(),
            product: product_id,
            currency: currency.clone(),
            unit_amount,
            recurring: recurring.clone(),
            lookup_key: lookup_key.clone(),
            nickname: nickname.clone(),
            active,
            metadata: meta,
        };
        let json = store.price_json(&price);
        store.prices.insert(price.id.clone(), price);
        store.emit(&origin, "price.created", json.clone(), None);
        ok(json)
    })
}

pub async fn retrieve_price(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["expand.#"])?;
    let store = app.store.lock().expect("store lock");
    let price = store
        .prices
        .get(&id)
        .ok_or_else(|| ApiError::no_such("price", &id, "price"))?;
    let mut v = store.price_json(price);
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}

pub async fn update_price(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
    Path(id): Path<String>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&["active", "nickname", "lookup_key", "metadata.*", "expand.#"])?;
    let metadata = p.metadata("metadata")?;
    let active = p.bool("active")?;
    let origin = ctx.origin();
    app.run(|store| {
        let price = store
            .prices
            .get_mut(&id)
            .ok_or_else(|| ApiError::no_such("price", &id, "price"))?;
        if let Some(a) = active {
            price.active = a;
        }
        if let Some(n) = p.str("nickname")? {
            price.nickname = (!n.is_empty()).then(|| n.to_string());
        }
        if let Some(k) = p.str("lookup_key")? {
            price.lookup_key = (!k.is_empty()).then(|| k.to_string());
        }
        if let Some(m) = &metadata {
            m.apply(&mut price.metadata);
        }
        let json = store.price_json(&store.prices[&id]);
        store.emit(&origin, "price.updated", json.clone(), None);
        ok(json)
    })
}

pub async fn list_prices(
    State(app): State<App>,
    Extension(ctx): Extension<Ctx>,
    Extension(p): Extension<Params>,
) -> ApiResult {
    ctx.require_secret()?;
    p.check_allowed(&[
        "active",
        "product",
        "type",
        "currency",
        "lookup_keys.#",
        "limit",
        "starting_after",
        "ending_before",
        "expand.#",
    ])?;
    let active = p.bool("active")?;
    let product = p.str("product")?;
    let kind = p.one_of("type", &["one_time", "recurring"])?;
    let currency = p.str("currency")?.map(str::to_ascii_lowercase);
    let keys = p.strings("lookup_keys")?;
    let store = app.store.lock().expect("store lock");
    let mut items: Vec<&Price> = store
        .prices
        .values()
        .filter(|x| active.is_none_or(|a| x.active == a))
        .filter(|x| product.is_none_or(|pr| x.product == pr))
        .filter(|x| kind.is_none_or(|k| (k == "recurring") == x.recurring.is_some()))
        .filter(|x| currency.as_deref().is_none_or(|c| x.currency == c))
        .filter(|x| {
            keys.as_ref()
                .is_none_or(|ks| x.lookup_key.as_ref().is_some_and(|k| ks.contains(k)))
        })
        .collect();
    items.sort_by_key(|x| std::cmp::Reverse(x.seq));
    let data = items.iter().map(|x| store.price_json(x)).collect();
    let mut v = list_page(
        "/v1/prices",
        data,
        p.int("limit")?,
        p.str("starting_after")?,
        p.str("ending_before")?,
    )?;
    store.expand(&mut v, &p.expand()?, View::Secret)?;
    ok(v)
}
