//! Tenant ids. A tenant id becomes a file name, so it is parsed, never trusted.

use std::fmt;

/// Longest tenant id, in characters (all ASCII, so also bytes).
pub const TENANT_ID_LENGTH_MAX: usize = 64;

/// The tenant of single-tenant mode.
pub const DEFAULT_TENANT: &str = "default";

/// A tenant id matching `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`: safe as a file name on every
/// platform (no separators, no dots, no leading dash).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Option<Self> {
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        (first_ok && rest_ok && raw.len() <= TENANT_ID_LENGTH_MAX).then(|| Self(raw.to_owned()))
    }

    pub fn default_tenant() -> Self {
        Self(DEFAULT_TENANT.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids_and_rejects_file_system_tricks() {
        for good in ["a", "acme", "Acme-01_x", &"a".repeat(64)] {
            assert!(TenantId::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            "a\\b",
            ".hidden",
            "-x",
            "_x",
            "a.b",
            "é",
            "a b",
            "a\0",
            &"a".repeat(65),
        ] {
            assert!(TenantId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
