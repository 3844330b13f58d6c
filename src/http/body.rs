//! Request bodies: parsed strictly, in Midaz's order — malformed JSON or a wrong type (0094),
//! unknown fields (0053), missing required fields (0009), other field rules (0047).

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::entities::{STATUS_CODE_LENGTH_MAX, STATUS_DESCRIPTION_LENGTH_MAX, Status};
use crate::domain::metadata::{self, Metadata, Patch as MetadataPatch};
use crate::error::{Error, Kind, Result};

/// Deepest JSON nesting accepted in a request body (objects and arrays count one level each).
pub const JSON_DEPTH_MAX: usize = 10;

/// Parses `bytes` into `T`, rejecting any field `T` does not know.
///
/// Unknown fields are found the way Midaz finds them: the parsed value is serialized back and
/// every key of the request that did not survive the round trip is unknown. `T` must therefore
/// serialize every field it reads, `None` included.
pub fn parse<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| unmarshalling(&e.to_string()))?;
    if depth(&value) > JSON_DEPTH_MAX {
        return Err(Error::new(Kind::JsonNestingDepthExceeded));
    }
    parse_value(value)
}

/// [`parse`] of a JSON value already read (an item of a batch, say).
pub fn parse_value<T: DeserializeOwned + Serialize>(value: Value) -> Result<T> {
    if !value.is_object() {
        return Err(unmarshalling("the body must be a JSON object"));
    }
    let parsed: T = serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        // Names the field whose value has the wrong type, as Midaz does (`legalName: …`).
        match e.path().to_string().as_str() {
            "." => unmarshalling(&e.inner().to_string()),
            path => unmarshalling(&format!("{path}: {}", e.inner())),
        }
    })?;
    let known = serde_json::to_value(&parsed)?;
    let mut unknown = BTreeMap::new();
    collect_unknown(&value, &known, "", &mut unknown);
    if !unknown.is_empty() {
        return Err(Error::new(Kind::UnexpectedFieldsInTheRequest).with_fields(unknown));
    }
    Ok(parsed)
}

pub fn unmarshalling(detail: &str) -> Error {
    Error::new(Kind::InvalidRequestBody).with_message(format!("Invalid request body: {detail}."))
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn collect_unknown(
    given: &Value,
    known: &Value,
    prefix: &str,
    unknown: &mut BTreeMap<String, String>,
) {
    match (given, known) {
        (Value::Object(given), Value::Object(known)) => {
            for (key, value) in given {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match known.get(key) {
                    Some(known_value) => collect_unknown(value, known_value, &path, unknown),
                    None => {
                        unknown.insert(path, value.to_string());
                    }
                }
            }
        }
        (Value::Array(given), Value::Array(known)) => {
            for (index, (g, k)) in given.iter().zip(known).enumerate() {
                collect_unknown(g, k, &format!("{prefix}[{index}]"), unknown);
            }
        }
        _ => {}
    }
}

/// Collects field problems so that a request reports all of them at once, missing fields
/// (0009) taking precedence over invalid ones (0047).
#[derive(Default)]
pub struct Check {
    missing: BTreeMap<String, String>,
    invalid: BTreeMap<String, String>,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    /// A required text field: present and not blank.
    pub fn required<'a>(&mut self, field: &str, value: Option<&'a str>) -> &'a str {
        match value {
            Some(text) if !text.trim().is_empty() => text,
            _ => {
                self.missing
                    .insert(field.to_owned(), format!("{field} is a required field"));
                ""
            }
        }
    }

    /// A required text field of at most `max_chars` characters.
    pub fn required_max(&mut self, field: &str, value: Option<&str>, max_chars: usize) -> String {
        let text = self.required(field, value);
        self.max_len(field, Some(text), max_chars);
        text.to_owned()
    }

    /// Optional text fields sharing one length limit.
    pub fn max_lens<const N: usize>(
        &mut self,
        max_chars: usize,
        fields: [(&str, Option<&str>); N],
    ) {
        for (field, value) in fields {
            self.max_len(field, value, max_chars);
        }
    }

    pub fn max_len(&mut self, field: &str, value: Option<&str>, max_chars: usize) {
        if value.is_some_and(|text| text.chars().count() > max_chars) {
            self.invalid(
                field,
                format!("{field} must be a maximum of {max_chars} characters in length"),
            );
        }
    }

    pub fn invalid(&mut self, field: &str, message: String) {
        self.invalid.insert(field.to_owned(), message);
    }

    pub fn uuid(&mut self, field: &str, value: Option<&str>) {
        if value.is_some_and(|text| uuid::Uuid::parse_str(text).is_err()) {
            self.invalid(field, format!("{field} must be a valid UUID"));
        }
    }

    pub fn status(&mut self, status: Option<&StatusInput>) {
        if let Some(StatusInput { code, description }) = status {
            self.max_len("status.code", code.as_deref(), STATUS_CODE_LENGTH_MAX);
            let description = description.as_deref();
            self.max_len(
                "status.description",
                description,
                STATUS_DESCRIPTION_LENGTH_MAX,
            );
        }
    }

    pub fn finish(self) -> Result<()> {
        if !self.missing.is_empty() {
            return Err(Error::new(Kind::MissingFieldsInRequest).with_fields(self.missing));
        }
        if !self.invalid.is_empty() {
            return Err(Error::new(Kind::BadRequest).with_fields(self.invalid));
        }
        Ok(())
    }
}

/// `status` as clients send it; an empty or missing code means `ACTIVE`.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize, utoipa::ToSchema)]
pub struct StatusInput {
    #[schema(max_length = 100)]
    pub code: Option<String>,
    #[schema(max_length = 256)]
    pub description: Option<String>,
}

impl StatusInput {
    pub fn into_status(self) -> Status {
        Status::or_active(Some(Status {
            code: self.code.unwrap_or_default(),
            description: self.description,
        }))
    }
}

/// The status of a created entity: the given one, or ACTIVE.
pub fn status_or_active(status: Option<StatusInput>) -> Status {
    status
        .map(StatusInput::into_status)
        .unwrap_or_else(Status::active)
}

/// Metadata of a create: checked, absent or `null` meaning none.
pub fn create_metadata(metadata: Option<Metadata>) -> Result<Metadata> {
    let metadata = metadata.unwrap_or_default();
    metadata::validate(&metadata, false)?;
    Ok(metadata)
}

/// Metadata of a PATCH: absent keeps, `null` clears, an object merges (null values delete).
pub fn patch_metadata(metadata: Option<Option<Metadata>>) -> Result<MetadataPatch> {
    match metadata {
        None => Ok(MetadataPatch::Keep),
        Some(None) => Ok(MetadataPatch::Clear),
        Some(Some(changes)) => {
            metadata::validate(&changes, true)?;
            Ok(MetadataPatch::Merge(changes))
        }
    }
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, T, D>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        name: Option<String>,
        status: Option<StatusInput>,
        metadata: Option<Metadata>,
    }

    fn kind(raw: &str) -> Option<Kind> {
        parse::<Probe>(raw.as_bytes()).err().map(|e| e.kind)
    }

    #[test]
    fn reports_the_first_error_in_midaz_order() {
        assert_eq!(kind("{"), Some(Kind::InvalidRequestBody));
        assert_eq!(kind("[]"), Some(Kind::InvalidRequestBody));
        assert_eq!(kind(r#"{"name": 5}"#), Some(Kind::InvalidRequestBody));
        assert_eq!(
            kind(r#"{"name": "a", "extra": 1}"#),
            Some(Kind::UnexpectedFieldsInTheRequest)
        );
        assert_eq!(
            kind(r#"{"status": {"code": "A", "colour": "red"}}"#),
            Some(Kind::UnexpectedFieldsInTheRequest)
        );
        assert_eq!(
            kind(r#"{"name": null, "status": null, "metadata": {"k": {"a": 1}}}"#),
            None
        );
        let deep = format!(
            "{{\"metadata\": {}1{}}}",
            "{\"a\":".repeat(11),
            "}".repeat(11)
        );
        assert_eq!(kind(&deep), Some(Kind::JsonNestingDepthExceeded));
    }

    #[test]
    fn unknown_fields_are_all_listed() {
        let error = parse::<Probe>(br#"{"x": 1, "status": {"y": 2}}"#).err();
        let fields = error.and_then(|e| e.fields).unwrap_or_default();
        assert_eq!(
            fields.keys().cloned().collect::<Vec<_>>(),
            vec!["status.y".to_owned(), "x".to_owned()]
        );
    }
}
