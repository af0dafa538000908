//! Queries on cadres and their tags. Other domains read cadres through these functions.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::dto::CadreFilter;
use super::model::{CadreRow, CadreViewRow};
use super::vocab::Category;
use crate::db::kept_sql::{fts_match, id_in, FtsMatch};
use crate::db::schema::{cadre_search, cadre_tags, cadres};
use crate::db::{DbConn, Engine};
use crate::text::{fold, like_contains, search_pattern};

/// The backend type of `DbConn`, for boxed queries.
pub type Db = <DbConn as Connection>::Backend;

/// `get_result` rather than `first`: a key names at most one row, and `first` adds a bound
/// `LIMIT`, which SQLite (3.50) takes as able to change the plan, so it prepared the kept
/// statement anew on every run, the busiest read's largest cost after the HTTP stack.
/// The cadre's row: the statement of every cadre read and edit, on the engine's own connection
/// (`db::on_engine`; 11 % of the server's CPU in `GET /cadres/{id}` went to writing its SQL
/// text again through `DbConn`).
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<CadreRow>> {
    crate::on_engine!(conn, |native| cadres::table
        .find(id)
        .select(CadreRow::as_select())
        .get_result(native)
        .optional())
}

/// What a cadre's view shows (`service::get`), on the engine's own connection as [`find`].
pub fn find_view(conn: &mut DbConn, id: i64) -> QueryResult<Option<CadreViewRow>> {
    crate::on_engine!(conn, |native| cadres::table
        .find(id)
        .select(CadreViewRow::as_select())
        .get_result(native)
        .optional())
}

pub fn exists(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(cadres::table.find(id))).get_result(conn)
}

/// The names of the cadres `ids` names, by id, in one kept statement (`kept_sql::id_in`):
/// what the pages of meetings, contacts and appointments show beside a cadre's id.
pub fn names_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(cadres::table
        .filter(id_in(cadres::id, ids))
        .select((cadres::id, cadres::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn find_by_id_number_lookup(conn: &mut DbConn, lookup: &str) -> QueryResult<Option<CadreRow>> {
    cadres::table
        .filter(cadres::id_number_lookup.eq(lookup))
        .select(CadreRow::as_select())
        .get_result(conn)
        .optional()
}

/// A cadre's tags by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    pub categories: Vec<Category>,
    pub sectors: Vec<String>,
    pub expertise: Vec<String>,
}

/// `cadres.tag_lists`: a cadre's sectors and expertise, each in code point order (written from
/// slices, read into vectors).
#[derive(Serialize, Deserialize)]
struct TagLists<L> {
    sectors: L,
    expertise: L,
}

impl Tags {
    /// The tags a cadre's row holds: categories in `category_mask`, sectors and expertise in
    /// `tag_lists`. Both are written with the rows of `cadre_tags` (which the filters read), so
    /// that a cadre or a page of cadres is read in one statement. `None` if `tag_lists` is not
    /// what [`tag_lists_json`] writes.
    pub fn of_columns(category_mask: i32, tag_lists: &str) -> Option<Tags> {
        let lists: TagLists<Vec<String>> = serde_json::from_str(tag_lists).ok()?;
        Some(Tags {
            categories: Category::in_mask(category_mask).collect(),
            sectors: lists.sectors,
            expertise: lists.expertise,
        })
    }
}

/// The value of `cadres.tag_lists` for a profile's sectors and expertise (which its check
/// sorted).
pub fn tag_lists_json(sectors: &[String], expertise: &[String]) -> String {
    serde_json::to_string(&TagLists { sectors, expertise }).expect("lists of strings serialise")
}

pub const CATEGORY: &str = "category";
pub const SECTOR: &str = "sector";
pub const EXPERTISE: &str = "expertise";

/// Tag rows written in one statement: three bound values each, under both engines' limits
/// (SQLite 32,766, PostgreSQL 65,535).
const TAG_ROWS_PER_STATEMENT: usize = 5_000;

/// A cadre's tags as rows of (cadre id, kind, tag).
pub fn tag_rows(id: i64, tags: &Tags) -> impl Iterator<Item = (i64, &'static str, &str)> {
    tags.categories
        .iter()
        .map(move |c| (id, CATEGORY, c.as_str()))
        .chain(tags.sectors.iter().map(move |t| (id, SECTOR, t.as_str())))
        .chain(
            tags.expertise
                .iter()
                .map(move |t| (id, EXPERTISE, t.as_str())),
        )
}

/// Inserts tag rows in multi-row statements.
pub fn insert_tags(conn: &mut DbConn, rows: &[(i64, &str, &str)]) -> QueryResult<()> {
    for chunk in rows.chunks(TAG_ROWS_PER_STATEMENT) {
        let values: Vec<_> = chunk
            .iter()
            .map(|&(id, kind, tag)| {
                (
                    cadre_tags::cadre_id.eq(id),
                    cadre_tags::kind.eq(kind),
                    cadre_tags::tag.eq(tag),
                )
            })
            .collect();
        crate::on_engine!(&mut *conn, |native| diesel::insert_into(cadre_tags::table)
            .values(&values)
            .execute(native))?;
    }
    Ok(())
}

pub fn replace_tags(conn: &mut DbConn, id: i64, tags: &Tags) -> QueryResult<()> {
    diesel::delete(cadre_tags::table.filter(cadre_tags::cadre_id.eq(id))).execute(conn)?;
    insert_tags(conn, &tag_rows(id, tags).collect::<Vec<_>>())
}

/// The date `years` years before `date` (29 February falls back to 28).
pub fn years_before(date: NaiveDate, years: i32) -> NaiveDate {
    let months = u32::try_from(years.max(0)).unwrap_or(0) * 12;
    date.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

/// Adds the conditions of a `CadreFilter` to a boxed query over `cadres` (alone or joined).
/// A macro rather than a function because diesel cannot group a boxed query, nor nest a boxed
/// query as a subquery across engines: the list boxes `cadres`, the statistics box their grouped
/// selects, and both get the same conditions from here. Vocabulary values are written into the
/// SQL (`db::written_in`), so that each keeps its own plan; free text and ids stay bound.
macro_rules! filter_cadres {
    ($query:expr, $filter:expr, $today:expr, $search_with:expr) => {{
        use $crate::cadres::dto::StatusFilter;
        use $crate::cadres::repo::{years_before, CATEGORY, EXPERTISE, SECTOR};
        use $crate::db::schema::{cadre_tags, cadres};
        use $crate::db::written_in::word;
        let filter: &$crate::cadres::dto::CadreFilter = $filter;
        let mut query = $query;
        match filter.status.unwrap_or(StatusFilter::Active) {
            StatusFilter::Active => query = query.filter(cadres::status.eq(word("active"))),
            StatusFilter::Archived => query = query.filter(cadres::status.eq(word("archived"))),
            StatusFilter::All => {}
        }
        if let Some(q) = &filter.q {
            let search = $crate::cadres::repo::Search::of(q);
            if let Some(fts_query) = search.fts_query($search_with) {
                let matching = $crate::cadres::repo::trigram_matches(fts_query);
                query = query.filter(cadres::id.eq_any(matching));
            } else {
                use diesel::sql_types::{Bool, Text};
                // Written as SQL so that diesel does not keep the statement prepared: PostgreSQL
                // then plans each search with its pattern (a kept statement may be given a
                // generic plan, which ignores the pattern and may walk the whole table), while
                // every other statement is kept and planned once.
                let like = |pattern: String| {
                    diesel::dsl::sql::<Bool>("cadres.search_text LIKE ")
                        .bind::<Text, _>(pattern)
                        .sql(" ESCAPE '\\'")
                };
                query = match search.like_patterns() {
                    (compact, None) => query.filter(like(compact)),
                    (compact, Some(spaced)) => query.filter(like(compact).or(like(spaced))),
                };
            }
        }
        if let Some(party) = filter.party {
            query = query.filter(cadres::party.eq(word(party.as_str())));
        }
        if let Some(gender) = filter.gender {
            query = query.filter(cadres::gender.eq(word(gender.as_str())));
        }
        if let Some(ethnicity) = &filter.ethnicity {
            query = query.filter(cadres::ethnicity.eq(ethnicity.clone()));
        }
        if let Some(level) = filter.level {
            query = query.filter(cadres::level.eq(word(level.as_str())));
        }
        if let Some(unit_id) = filter.unit_id {
            query = query.filter(cadres::unit_id.eq(unit_id));
        }
        if let Some(education) = filter.education {
            query = query.filter(cadres::education.eq(word(education.as_str()).nullable()));
        }
        // The tag subqueries read an alias of `cadre_tags`, so that the same conditions also
        // fit a query that joins `cadre_tags` itself (the statistics by category).
        let holders = diesel::alias!(cadre_tags as tag_holders);
        if let Some(category) = filter.category {
            let with_category = holders
                .filter(holders.field(cadre_tags::kind).eq(word(CATEGORY)))
                .filter(holders.field(cadre_tags::tag).eq(word(category.as_str())))
                .select(holders.field(cadre_tags::cadre_id));
            query = query.filter(cadres::id.eq_any(with_category));
        }
        if let Some(tag) = &filter.tag {
            let with_tag = holders
                .filter(holders.field(cadre_tags::kind).eq_any([SECTOR, EXPERTISE]))
                .filter(
                    holders
                        .field(cadre_tags::tag)
                        .eq($crate::text::normalise(tag)),
                )
                .select(holders.field(cadre_tags::cadre_id));
            query = query.filter(cadres::id.eq_any(with_tag));
        }
        let at = filter.age_at.unwrap_or($today);
        if let Some(min) = filter.age_min {
            query = query.filter(cadres::birth_date.le(years_before(at, min)));
        }
        if let Some(max) = filter.age_max {
            query = query.filter(cadres::birth_date.gt(years_before(at, max + 1)));
        }
        query
    }};
}
pub(crate) use filter_cadres;

/// Cadres matching a filter, as a boxed query the caller selects, orders and pages.
pub fn filtered<'a>(
    filter: &CadreFilter,
    today: NaiveDate,
    search_with: SearchWith,
) -> cadres::BoxedQuery<'a, Db> {
    filter_cadres!(cadres::table.into_boxed(), filter, today, search_with)
}

/// The ids of the cadres SQLite's trigram table `cadre_search` finds for an FTS5 query
/// ([`Search::fts_query`]): a subquery for the filter, or read alone.
pub fn trigram_matches(
    fts_query: String,
) -> diesel::dsl::Select<diesel::dsl::Filter<cadre_search::table, FtsMatch>, cadre_search::rowid> {
    cadre_search::table
        .filter(fts_match("cadre_search", fts_query))
        .select(cadre_search::rowid)
}

/// The cadres SQLite's trigram table finds for the search, before any other condition, when
/// they are `count` or fewer: reading so few ids costs what their number costs, so a search can
/// hold them (to sort them, or to look for them among the next names) apart from matches better
/// found by a walk that checks each row (`service::NamePage::rows`). None when there are more,
/// or the table cannot serve the search.
pub fn text_matches_if_few(
    conn: &mut DbConn,
    search: &Search,
    count: i64,
) -> QueryResult<Option<Vec<i64>>> {
    let Some(fts_query) = search.fts_query(SearchWith::TrigramTable) else {
        return Ok(None);
    };
    let matching = trigram_matches(fts_query);
    let found: Vec<i64> = crate::db::written_in::limit(matching, count + 1).load(conn)?;
    Ok((found.len() as i64 <= count).then_some(found))
}

/// How a text search finds its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchWith {
    /// SQLite's FTS5 trigram table, for a query of a trigram or more.
    TrigramTable,
    /// `LIKE` on `search_text`: PostgreSQL's trigram index serves it; on SQLite it checks the
    /// rows another condition found (a bounded stretch of the name index).
    Like,
}

impl SearchWith {
    /// The way that reads the engine's search index.
    pub fn index_of(engine: Engine) -> SearchWith {
        match engine {
            Engine::Sqlite => SearchWith::TrigramTable,
            Engine::Postgres => SearchWith::Like,
        }
    }
}

/// A text search: a substring of the stored search text, matched with the pattern
/// `text::search_pattern` makes (marked for short queries, plain for longer ones). Pinyin in the
/// search text has no spaces, so `luo wei` must find `luowei` too: a query with spaces is also
/// tried without them. On PostgreSQL the trigram index on `search_text` serves `LIKE`; on SQLite
/// the FTS5 trigram table `cadre_search` serves a phrase match (it cannot use `LIKE ... ESCAPE`
/// or two `LIKE`s). A query of one character is too short for trigrams and is a `LIKE` on
/// `cadres` on both engines: such a query matches many cadres, and an ordered page stops early.
pub struct Search {
    compact: String,
    spaced: Option<String>,
}

impl Search {
    pub fn of(q: &str) -> Search {
        let folded = fold(q.trim());
        let compact: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
        let spaced = (compact != folded).then(|| search_pattern(&folded));
        Search {
            compact: search_pattern(&compact),
            spaced,
        }
    }

    fn forms(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.compact).chain(self.spaced.as_ref())
    }

    /// Whether the trigram index can serve this search: every pattern holds a trigram.
    pub fn indexable(&self) -> bool {
        self.forms().all(|form| form.chars().count() >= 3)
    }

    /// The FTS5 query (quoted phrases joined by `OR`) when the search reads the FTS5 table and
    /// it can serve this search.
    pub fn fts_query(&self, with: SearchWith) -> Option<String> {
        (with == SearchWith::TrigramTable && self.indexable()).then(|| {
            self.forms()
                .map(|form| format!("\"{}\"", form.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" OR ")
        })
    }

    /// `LIKE` patterns (escape character `\`) for the search without spaces and with them.
    pub fn like_patterns(&self) -> (String, Option<String>) {
        (
            like_contains(&self.compact),
            self.spaced.as_deref().map(like_contains),
        )
    }
}
