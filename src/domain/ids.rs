//! Typed ids: each wraps the lower-case hyphenated UUID text the store keeps, so that an
//! account id cannot be passed where a balance id is expected without a compile error:
//!
//! ```compile_fail
//! use ledgerlite::domain::ids::{AccountId, BalanceId};
//! fn balance(_: &BalanceId) {}
//! balance(&AccountId::new("01900000-0000-7000-8000-000000000000"));
//! ```
//!
//! On the wire and in the database an id is its text, unchanged.

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    )*};
}

ids! {
    OrganizationId;
    LedgerId;
    AccountId;
    TransactionId;
    OperationId;
    BalanceId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_text_on_the_wire() {
        let text = "01900000-0000-7000-8000-000000000000";
        let id = TransactionId::new(text);
        assert_eq!(id.as_str(), text);
        assert_eq!(id.to_string(), text);
        assert_eq!(serde_json::to_string(&id).ok(), Some(format!("\"{text}\"")));
        let read: Option<TransactionId> = serde_json::from_str(&format!("\"{text}\"")).ok();
        assert_eq!(read, Some(id));
    }
}
