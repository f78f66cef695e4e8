use serde::{Deserialize, Serialize};

/// A page of results, newest first, with an opaque cursor for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `starting_after` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/payments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct ListPaymentsQuery {
    /// Only payments in this status.
    pub status: Option<super::PaymentStatus>,
    /// Only payments through this provider.
    pub provider: Option<super::ProviderName>,
    /// Created at or after this Unix time (seconds).
    pub created_gte: Option<i64>,
    /// Created at or before this Unix time (seconds).
    pub created_lte: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub starting_after: Option<String>,
}
