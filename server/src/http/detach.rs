//! Work that calls a provider must finish even when the HTTP request that started it does not
//! (client gone, request time limit): hyper drops a handler's future in those cases, which would
//! leave a charge made at the provider but never recorded here. Such work runs as its own task;
//! the handler only waits for it.

use crate::error::ApiError;
use std::future::Future;

pub async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(e) => Err(ApiError::internal(format!("provider task failed: {e}"))),
    }
}
