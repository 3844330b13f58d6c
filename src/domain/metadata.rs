//! Metadata: a flat JSON object of scalars attached to every entity.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Error, Kind, Result};

/// Longest metadata key, in characters.
pub const METADATA_KEY_LENGTH_MAX: usize = 100;
/// Longest metadata value, in characters of its JSON text form.
pub const METADATA_VALUE_LENGTH_MAX: usize = 2000;

pub type Metadata = Map<String, Value>;

/// Checks a metadata object given on create: keys ≤ 100 characters, values strings, numbers
/// or booleans ≤ 2000 characters. `field` prefixes the offending key in the error's `fields`.
pub fn validate(metadata: &Metadata, allow_null_values: bool) -> Result<()> {
    for (key, value) in metadata {
        if key.chars().count() > METADATA_KEY_LENGTH_MAX {
            return Err(field_error(Kind::MetadataKeyLengthExceeded, key));
        }
        match value {
            Value::Object(_) => return Err(field_error(Kind::InvalidMetadataNesting, key)),
            Value::Array(_) => return Err(field_error(Kind::MetadataValueLengthExceeded, key)),
            Value::Null if !allow_null_values => {
                return Err(field_error(Kind::MetadataValueLengthExceeded, key));
            }
            // A string counts without its JSON quotes, as Midaz's `valuemax` measures it.
            Value::String(text) if text.chars().count() > METADATA_VALUE_LENGTH_MAX => {
                return Err(field_error(Kind::MetadataValueLengthExceeded, key));
            }
            Value::String(_) => {}
            other if other.to_string().chars().count() > METADATA_VALUE_LENGTH_MAX => {
                return Err(field_error(Kind::MetadataValueLengthExceeded, key));
            }
            _ => {}
        }
    }
    Ok(())
}

fn field_error(kind: Kind, key: &str) -> Error {
    let fields = BTreeMap::from([(format!("metadata.{key}"), kind.spec().message.to_owned())]);
    Error::new(kind).with_fields(fields)
}

/// A PATCH of metadata: absent keeps everything, `null` clears everything, an object merges
/// key by key where a `null` value removes that key.
#[derive(Debug, Clone, Default)]
pub enum Patch {
    #[default]
    Keep,
    Clear,
    Merge(Metadata),
}

impl Patch {
    pub fn apply(self, current: Metadata) -> Metadata {
        match self {
            Patch::Keep => current,
            Patch::Clear => Metadata::new(),
            Patch::Merge(changes) => {
                let mut merged = current;
                for (key, value) in changes {
                    if value.is_null() {
                        merged.remove(&key);
                    } else {
                        merged.insert(key, value);
                    }
                }
                merged
            }
        }
    }
}

/// Most metadata indexes one entity may have (each one slows every write of that entity).
pub const METADATA_INDEXES_PER_ENTITY_MAX: usize = 16;

/// Whether `key` may be indexed: Midaz's `metadatakeyformat` (a letter, then letters, digits
/// and `_`) within the key length limit. Such a key is also safe as SQL text and as a JSON
/// path without quoting.
pub fn is_index_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= METADATA_KEY_LENGTH_MAX
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An index on one metadata key of one entity, in Midaz's shape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetadataIndex {
    /// The name Midaz (MongoDB) gives it: `metadata.<key>_1`.
    pub index_name: String,
    pub entity_name: String,
    pub metadata_key: String,
    /// A second live entity with the same value of the key is refused.
    pub unique: bool,
    /// Only entities that have the key are indexed.
    pub sparse: bool,
}

impl MetadataIndex {
    pub fn new(entity_name: &str, metadata_key: &str, unique: bool, sparse: bool) -> Self {
        Self {
            index_name: format!("metadata.{metadata_key}_1"),
            entity_name: entity_name.to_owned(),
            metadata_key: metadata_key.to_owned(),
            unique,
            sparse,
        }
    }
}

/// A JSON object literal as a map, for tests of metadata and claims.
#[cfg(test)]
pub(crate) fn object(value: Value) -> Metadata {
    value.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejects_long_keys_nested_values_and_long_values() {
        let long_key = "k".repeat(101);
        assert_eq!(
            validate(&object(json!({ long_key: 1 })), false).map_err(|e| e.kind),
            Err(Kind::MetadataKeyLengthExceeded)
        );
        assert_eq!(
            validate(&object(json!({"a": {"b": 1}})), false).map_err(|e| e.kind),
            Err(Kind::InvalidMetadataNesting)
        );
        assert_eq!(
            validate(&object(json!({"a": "x".repeat(2001)})), false).map_err(|e| e.kind),
            Err(Kind::MetadataValueLengthExceeded)
        );
        assert_eq!(
            validate(&object(json!({"a": null})), false).map_err(|e| e.kind),
            Err(Kind::MetadataValueLengthExceeded)
        );
        assert!(validate(&object(json!({"a": null})), true).is_ok());
        assert!(
            validate(
                &object(json!({"a": "x".repeat(2000), "b": 1.5, "c": true})),
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn index_keys_start_with_a_letter_and_hold_letters_digits_and_underscores() {
        for key in ["tier", "a", "Tier_2", &"k".repeat(100)] {
            assert!(is_index_key(key), "{key}");
        }
        let too_long = "k".repeat(101);
        for key in [
            "", "2tier", "_tier", "ti-er", "a.b", "a b", "a'b", "é", &too_long,
        ] {
            assert!(!is_index_key(key), "{key}");
        }
    }

    #[test]
    fn patch_merges_removes_and_clears() {
        let current = object(json!({"a": 1, "b": 2}));
        assert_eq!(Patch::Keep.apply(current.clone()), current);
        assert_eq!(Patch::Clear.apply(current.clone()), Metadata::new());
        let merged = Patch::Merge(object(json!({"a": null, "c": 3}))).apply(current);
        assert_eq!(Value::Object(merged), json!({"b": 2, "c": 3}));
    }
}
