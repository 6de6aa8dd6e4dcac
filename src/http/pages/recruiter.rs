//! placeholder
use utoipa_axum::router::OpenApiRouter;
use crate::http::AppState;
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
