//! The error envelope `{code, title, message[, entityType][, index][, fields]}`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use actix_web::http::header::{LOCATION, RETRY_AFTER};

use crate::error::{Error, Kind};

/// `Retry-After` of a write refused while its tenant is frozen (503 `TENANT_READ_ONLY`), in
/// seconds: a move takes a few replication intervals.
pub const READ_ONLY_RETRY_AFTER_SECS: u64 = 5;
/// `Retry-After` of a write refused because another program held the tenant's file locked
/// (503 `TENANT_BUSY`), in seconds: such locks last a checkpoint.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

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
        let mut response = HttpResponse::build(self.status_code());
        match self.kind {
            Kind::TenantReadOnly => {
                response.insert_header((RETRY_AFTER, READ_ONLY_RETRY_AFTER_SECS.to_string()));
            }
            Kind::TenantBusy => {
                response.insert_header((RETRY_AFTER, BUSY_RETRY_AFTER_SECS.to_string()));
            }
            Kind::TenantMoved => {
                if let Some(location) = self.location() {
                    response.insert_header((LOCATION, location));
                }
            }
            _ => {}
        }
        response.json(self.envelope())
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Error)]
pub struct Envelope {
    /// A Midaz error code (`"0009"`) or a tenancy code (`"MISSING_TOKEN"`).
    #[schema(example = "0009")]
    pub code: &'static str,
    #[schema(example = "Missing Fields in Request")]
    pub title: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<&'static str>,
    /// The item of a batch request the error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The offending fields and what is wrong with each (0009, 0047, 0053).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// `TENANT_MOVED`: the URL of the node that serves the tenant now (also the `Location`
    /// header), when the operator gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Error {
    /// The JSON body of this error.
    pub fn envelope(&self) -> Envelope {
        let spec = self.spec();
        Envelope {
            code: spec.code,
            title: spec.title,
            message: self.message.clone(),
            entity_type: self.entity_type,
            index: self.index,
            fields: self.fields.clone().filter(|_| self.location().is_none()),
            location: self.location().map(str::to_owned),
        }
    }
}
