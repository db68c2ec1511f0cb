//! Static files, compiled into the binary: htmx and its SSE extension
//! (vendored from the npm registry, licences beside them in `assets/`)
//! and the stylesheet. No build step, nothing fetched at run time.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

const HTMX: &[u8] = include_bytes!("../assets/htmx.min.js");
const HTMX_SSE: &[u8] = include_bytes!("../assets/htmx-ext-sse.min.js");
const CSS: &[u8] = include_bytes!("../assets/vigil.css");

pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "htmx-ext-sse.min.js" => (HTMX_SSE, "text/javascript; charset=utf-8"),
        "vigil.css" => (CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (CONTENT_TYPE, kind),
            (CACHE_CONTROL, "public, max-age=3600"),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
