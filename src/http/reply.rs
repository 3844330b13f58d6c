//! Success responses.

use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::json;

use crate::domain::query::ListQuery;
use crate::error::Result;

pub fn created<T: Serialize>(body: &T) -> Result<HttpResponse> {
    Ok(HttpResponse::Created().json(body))
}

pub fn ok<T: Serialize>(body: &T) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(body))
}

pub fn no_content() -> Result<HttpResponse> {
    Ok(HttpResponse::NoContent().finish())
}

/// A page list: `{items, page, limit}`.
pub fn page<T: Serialize>(items: &[T], query: &ListQuery) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(json!({"items": items, "page": query.page, "limit": query.limit})))
}

/// `HEAD …/metrics/count`: 204 with `X-Total-Count`.
pub fn total_count(count: i64) -> Result<HttpResponse> {
    Ok(HttpResponse::NoContent()
        .insert_header(("X-Total-Count", count.to_string()))
        .insert_header(("Content-Length", "0"))
        .finish())
}

/// A cursor list: `{items, limit, next_cursor?, prev_cursor?}`.
pub fn cursor_page<T: Serialize>(
    page: &crate::domain::query::CursorPage<T>,
    query: &ListQuery,
) -> Result<HttpResponse> {
    let mut body = json!({"items": page.items, "limit": query.limit});
    if let Some(next) = &page.next_cursor {
        body["next_cursor"] = json!(next);
    }
    if let Some(prev) = &page.prev_cursor {
        body["prev_cursor"] = json!(prev);
    }
    Ok(HttpResponse::Ok().json(body))
}
