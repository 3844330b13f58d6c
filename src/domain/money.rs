//! Amounts: exact decimals, never floats; written without trailing zeros.

use rust_decimal::Decimal;
use serde::Serializer;

/// The canonical text of an amount: `100.00` → `100`, `0.50` → `0.5`.
pub fn canonical(amount: Decimal) -> String {
    amount.normalize().to_string()
}

/// Serializes an amount as its canonical JSON string.
pub fn serialize<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&canonical(*amount))
}

/// Serializes an optional amount as its canonical JSON string, or `null`.
pub fn serialize_option<S: Serializer>(
    amount: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serialize(amount, serializer),
        None => serializer.serialize_none(),
    }
}

/// Parses a stored amount; stored amounts are always canonical decimal text.
pub fn parse_stored(text: &str) -> Option<Decimal> {
    text.parse().ok()
}

/// Serializes a decimal as an exact JSON number (for fields Midaz types as numbers).
pub fn serialize_number<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    match canonical(*amount).parse::<serde_json::Number>() {
        Ok(number) => number.serialize(serializer),
        Err(_) => serializer.serialize_str(&canonical(*amount)),
    }
}
