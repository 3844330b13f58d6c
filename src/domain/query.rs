//! List queries: page, limit, sort order, date window, one metadata filter and the entity's
//! own filters, parsed from query-string pairs with the Midaz error codes.

use super::time::{DayEnd, Timestamp, format, parse_query_date};
use crate::error::{Error, Kind, Result};

/// Items per page when `limit` is absent.
pub const PAGE_LIMIT_DEFAULT: u32 = 10;
/// Largest `limit` accepted.
pub const PAGE_LIMIT_MAX: u32 = 100;
/// Largest `page` accepted (keeps `OFFSET` inside `i64`).
pub const PAGE_NUMBER_MAX: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn sql(self) -> &'static str {
        match self {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        }
    }
}

/// How a filter compares its stored field with the query value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Exact text equality.
    Exact,
    /// Case-insensitive prefix.
    Prefix,
    /// `true` or `false`.
    Flag,
    /// One of the listed codes, case-insensitive, compared upper-case.
    OneOf(&'static [&'static str]),
    /// Any of the comma-separated values given (exact text); repeating the parameter adds
    /// values.
    AnyOf,
    /// Transactions with an operation on the account of this id.
    LegAccount,
    /// Transactions with an operation on the live account of the ledger with this alias.
    LegAlias,
}

/// A filter an entity's list accepts: the query parameter and the stored field it reads.
#[derive(Debug, Clone, Copy)]
pub struct FilterSpec {
    pub param: &'static str,
    pub field: &'static str,
    pub matching: Match,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Text(String),
    Flag(bool),
    /// The values of an [`Match::AnyOf`] filter.
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: &'static str,
    pub matching: Match,
    pub value: FilterValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: u32,
    pub page: u32,
    pub sort: SortOrder,
    /// Inclusive `created_at` window.
    pub window: Option<(Timestamp, Timestamp)>,
    /// `metadata.<key>=<value>`: only one is honoured, the last one given.
    pub metadata: Option<(String, String)>,
    pub filters: Vec<Filter>,
    /// Where a cursor list resumes; page lists ignore it.
    pub cursor: Option<Cursor>,
}

/// One page of a cursor list, with the cursors to the pages around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

impl<T> CursorPage<T> {
    /// The page of `items` (in list order) read from the start (`after` is `None`), after a
    /// cursor (`Some(true)`) or before one (`Some(false)`); `more` says whether rows lay
    /// beyond the page's far end. Its cursors name its edge items' ids (`id_of`).
    pub fn around(
        items: Vec<T>,
        after: Option<bool>,
        more: bool,
        id_of: impl Fn(&T) -> String,
    ) -> Self {
        let (has_next, has_prev) = match after {
            None => (more, false),
            Some(true) => (more, true),
            Some(false) => (true, more),
        };
        let edge = |item: Option<&T>, next: bool| {
            item.map(|item| {
                Cursor {
                    id: id_of(item),
                    next,
                }
                .encode()
            })
        };
        Self {
            next_cursor: edge(items.last().filter(|_| has_next), true),
            prev_cursor: edge(items.first().filter(|_| has_prev), false),
            items,
        }
    }

    /// The same page with each item changed by `f`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> CursorPage<U> {
        CursorPage {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            prev_cursor: self.prev_cursor,
        }
    }
}

/// A position in a cursor list: the id of the item at the edge of the page seen, and whether
/// the next page after it or the previous page before it is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub id: String,
    pub next: bool,
}

impl Cursor {
    /// base64 of `{"id": "...", "direction": "next|prev"}`, as Midaz v3.6+ writes it.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let direction = if self.next { "next" } else { "prev" };
        let json = serde_json::json!({"id": self.id, "direction": direction}).to_string();
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// Reads a cursor of a UUID list; also accepts v3.4's `{"id", "points_next": bool}` and
    /// URL-safe base64.
    pub fn decode(raw: &str) -> Option<Self> {
        let cursor = Self::decode_any(raw)?;
        let id = uuid::Uuid::parse_str(&cursor.id)
            .ok()?
            .hyphenated()
            .to_string();
        Some(Self { id, ..cursor })
    }

    /// [`Cursor::decode`] for a list whose ids are not UUIDs: the id is left to the caller.
    pub fn decode_any(raw: &str) -> Option<Self> {
        use base64::Engine;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|e| e.decode(raw).ok())?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let id = value.get("id")?.as_str()?.to_owned();
        let next = match (
            value.get("direction").and_then(|d| d.as_str()),
            value.get("points_next"),
        ) {
            (Some("next"), _) => true,
            (Some("prev"), _) => false,
            (None, Some(points_next)) => points_next.as_bool()?,
            _ => return None,
        };
        Some(Self { id, next })
    }
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            limit: PAGE_LIMIT_DEFAULT,
            page: 1,
            sort: SortOrder::Asc,
            window: None,
            metadata: None,
            filters: Vec::new(),
            cursor: None,
        }
    }
}

fn invalid(param: &str) -> Error {
    Error::new(Kind::InvalidQueryParameter).with_message(format!(
        "The query parameter '{param}' has an invalid value."
    ))
}

impl ListQuery {
    /// Parses query pairs; unknown parameters are ignored, as Midaz does.
    pub fn parse(pairs: &[(String, String)], specs: &[FilterSpec]) -> Result<Self> {
        let mut query = Self::default();
        let (mut start, mut end) = (None, None);
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => query.limit = parse_limit(value)?,
                "page" => query.page = parse_page(value)?,
                "sort_order" => query.sort = parse_sort(value)?,
                "start_date" => start = Some(value.as_str()),
                "end_date" => end = Some(value.as_str()),
                "cursor" if !value.is_empty() => {
                    query.cursor = Some(Cursor::decode(value).ok_or_else(|| invalid("cursor"))?);
                }
                _ => {
                    if let Some(meta_key) = key.strip_prefix("metadata.") {
                        query.metadata = Some((meta_key.to_owned(), value.clone()));
                    } else if let Some(spec) = specs.iter().find(|s| s.param == key) {
                        query.add_filter(parse_filter(spec, value)?);
                    }
                }
            }
        }
        query.window = parse_window(start, end)?;
        Ok(query)
    }

    /// Adds `filter`; the values of a repeated [`Match::AnyOf`] join the earlier ones, and one
    /// without values filters nothing.
    fn add_filter(&mut self, filter: Filter) {
        if filter.value == FilterValue::List(Vec::new()) {
            return;
        }
        let earlier = self
            .filters
            .iter_mut()
            .find(|f| f.field == filter.field && f.matching == Match::AnyOf);
        match (earlier, filter.value) {
            (Some(earlier), FilterValue::List(more)) => {
                if let FilterValue::List(values) = &mut earlier.value {
                    values.extend(more);
                }
            }
            (_, value) => self.filters.push(Filter { value, ..filter }),
        }
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.limit)
    }
}

fn parse_limit(value: &str) -> Result<u32> {
    let limit: u32 = value.parse().map_err(|_| invalid("limit"))?;
    if limit == 0 {
        return Err(invalid("limit"));
    }
    if limit > PAGE_LIMIT_MAX {
        return Err(Error::new(Kind::PaginationLimitExceeded)
            .with_message(format!("The limit must not exceed {PAGE_LIMIT_MAX}.")));
    }
    Ok(limit)
}

fn parse_page(value: &str) -> Result<u32> {
    match value.parse::<u32>() {
        Ok(page) if (1..=PAGE_NUMBER_MAX).contains(&page) => Ok(page),
        _ => Err(invalid("page")),
    }
}

fn parse_sort(value: &str) -> Result<SortOrder> {
    match value.to_ascii_lowercase().as_str() {
        "asc" => Ok(SortOrder::Asc),
        "desc" => Ok(SortOrder::Desc),
        _ => Err(Error::new(Kind::InvalidSortOrder)),
    }
}

fn parse_window(start: Option<&str>, end: Option<&str>) -> Result<Option<(Timestamp, Timestamp)>> {
    let (start, end) = match (start, end) {
        (None, None) => return Ok(None),
        (Some(start), Some(end)) => (start, end),
        _ => return Err(Error::new(Kind::InvalidDateRange)),
    };
    let start = parse_query_date(start, DayEnd::Start)
        .ok_or_else(|| Error::new(Kind::InvalidDatetimeFormat))?;
    let end = parse_query_date(end, DayEnd::End)
        .ok_or_else(|| Error::new(Kind::InvalidDatetimeFormat))?;
    if start > end {
        return Err(Error::new(Kind::InvalidFinalDate));
    }
    Ok(Some((format(start), format(end))))
}

fn parse_filter(spec: &FilterSpec, raw: &str) -> Result<Filter> {
    let value = match spec.matching {
        Match::Exact | Match::Prefix | Match::LegAccount | Match::LegAlias => {
            FilterValue::Text(raw.to_owned())
        }
        Match::Flag => match raw {
            "true" => FilterValue::Flag(true),
            "false" => FilterValue::Flag(false),
            _ => return Err(invalid(spec.param)),
        },
        Match::AnyOf => {
            let values: Vec<String> = raw
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            FilterValue::List(values)
        }
        Match::OneOf(allowed) => {
            let upper = raw.to_ascii_uppercase();
            if !allowed.contains(&upper.as_str()) {
                return Err(invalid(spec.param));
            }
            FilterValue::Text(upper)
        }
    };
    Ok(Filter {
        field: spec.field,
        matching: spec.matching,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn kind(raw: &[(&str, &str)]) -> Option<Kind> {
        ListQuery::parse(&pairs(raw), &[]).err().map(|e| e.kind)
    }

    #[test]
    fn defaults_and_limits() {
        let query = ListQuery::parse(&[], &[]).ok();
        assert_eq!(query, Some(ListQuery::default()));
        assert_eq!(
            kind(&[("limit", "101")]),
            Some(Kind::PaginationLimitExceeded)
        );
        assert_eq!(kind(&[("limit", "0")]), Some(Kind::InvalidQueryParameter));
        assert_eq!(kind(&[("limit", "x")]), Some(Kind::InvalidQueryParameter));
        assert_eq!(kind(&[("page", "0")]), Some(Kind::InvalidQueryParameter));
        assert_eq!(kind(&[("sort_order", "up")]), Some(Kind::InvalidSortOrder));
        assert_eq!(
            kind(&[("start_date", "2026-01-01")]),
            Some(Kind::InvalidDateRange)
        );
        assert_eq!(
            kind(&[("start_date", "2026-01-02"), ("end_date", "2026-01-01")]),
            Some(Kind::InvalidFinalDate)
        );
        assert_eq!(
            kind(&[("start_date", "yesterday"), ("end_date", "2026-01-01")]),
            Some(Kind::InvalidDatetimeFormat)
        );
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_rejected() -> Result<()> {
        let cursor = Cursor {
            id: "01940000-0000-7000-8000-000000000001".into(),
            next: false,
        };
        let query = ListQuery::parse(&pairs(&[("cursor", &cursor.encode())]), &[])?;
        assert_eq!(query.cursor, Some(cursor));
        assert_eq!(
            kind(&[("cursor", "not-base64!")]),
            Some(Kind::InvalidQueryParameter)
        );
        Ok(())
    }

    #[test]
    fn metadata_and_entity_filters() -> Result<()> {
        let specs = [FilterSpec {
            param: "status",
            field: "status_code",
            matching: Match::OneOf(&["ACTIVE", "INACTIVE"]),
        }];
        let query = ListQuery::parse(
            &pairs(&[
                ("metadata.a", "1"),
                ("metadata.b", "2"),
                ("status", "active"),
                ("other", "x"),
            ]),
            &specs,
        )?;
        assert_eq!(query.metadata, Some(("b".to_owned(), "2".to_owned())));
        assert_eq!(
            query.filters,
            vec![Filter {
                field: "status_code",
                matching: specs[0].matching,
                value: FilterValue::Text("ACTIVE".into())
            }]
        );
        let bad = ListQuery::parse(&pairs(&[("status", "gone")]), &specs)
            .err()
            .map(|e| e.kind);
        assert_eq!(bad, Some(Kind::InvalidQueryParameter));
        Ok(())
    }
}
