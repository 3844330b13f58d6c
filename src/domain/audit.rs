//! The report of an audit: what `ledgerlite verify` and the admin API answer.

/// Problems an audit lists before it stops looking.
pub const AUDIT_PROBLEMS_MAX: usize = 20;

/// What an audit of one tenant found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    pub chain_entries: u64,
    pub operations: u64,
    pub balances: u64,
    /// The first problems found, most precise first, at most [`AUDIT_PROBLEMS_MAX`].
    pub problems: Vec<String>,
}

impl Audit {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub(crate) fn problem(&mut self, text: String) {
        if self.problems.len() < AUDIT_PROBLEMS_MAX {
            self.problems.push(text);
        }
    }
}
