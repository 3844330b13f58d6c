//! The error envelope `{code, title, message[, entityType][, fields]}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::Error;

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.spec().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let spec = self.spec();
        if let Some(cause) = &self.cause {
            if spec.status >= 500 {
                tracing::error!(code = spec.code, cause = %cause, "request failed");
            } else {
                tracing::warn!(code = spec.code, cause = %cause, "request refused");
            }
        }
        HttpResponse::build(self.status_code()).json(self.envelope())
    }
}

impl Error {
    /// The JSON body of this error.
    pub fn envelope(&self) -> serde_json::Value {
        let spec = self.spec();
        let mut body = json!({"code": spec.code, "title": spec.title, "message": self.message});
        if let Some(entity) = self.entity_type {
            body["entityType"] = json!(entity);
        }
        if let Some(index) = self.index {
            body["index"] = json!(index);
        }
        if let Some(fields) = &self.fields {
            body["fields"] = json!(fields);
        }
        body
    }
}
