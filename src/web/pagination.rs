//! Cursor (keyset) pagination: `?limit=&cursor=` -> `{"items": [...], "next_cursor": ...}`.
//! The cursor is opaque to clients; it holds the sort key of the last item served, so that a
//! late page costs what the first one does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The decoded `limit` and `cursor` of a list request.
#[derive(Debug, Clone, Copy)]
pub struct PageCursor {
    pub limit: i64,
    /// The sort key of the last item already served.
    pub after: Option<i64>,
}

impl PageCursor {
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::field("limit", "range"));
        }
        let after = cursor
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_cursor",
                            "the cursor is not one this API gave out",
                        )
                    })
            })
            .transpose()?;
        Ok(PageCursor { limit, after })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and makes the cursor for the next one.
    pub fn page<R, T>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> i64,
        view: impl FnMut(R) -> T,
    ) -> Page<T> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last()
                .map(|last| URL_SAFE_NO_PAD.encode(key(last).to_string()))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PageCursor;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let first = PageCursor::new(Some(2), None).unwrap();
        let page = first.page(vec![1_i64, 2, 3], |r| *r, |r| r);
        assert_eq!(page.items, vec![1, 2]);
        let next = PageCursor::new(Some(2), page.next_cursor.as_deref()).unwrap();
        assert_eq!(next.after, Some(2));
        assert!(PageCursor::new(None, Some("%%%")).is_err());
        assert!(PageCursor::new(Some(0), None).is_err());
        assert!(PageCursor::new(Some(201), None).is_err());
        let last = next.page(vec![3_i64], |r| *r, |r| r);
        assert!(last.next_cursor.is_none());
    }
}
