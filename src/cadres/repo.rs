//! Queries on cadres and their tags. Other domains read cadres through these functions.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::dto::CadreFilter;
use super::model::{CadreRow, CadreViewRow};
use super::vocab::Category;
use crate::db::kept_sql::{fts_match, id_in, FtsMatch};
use crate::db::schema::{cadre_search, cadre_search_by_name, cadre_tags, cadres};
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

/// Bits of a `cadre_search_by_name` rowid below its name's order: the cadre's id.
const NAME_ORDER_ID_BITS: u32 = 24;

/// The cadre's id in a `cadre_search_by_name` rowid.
const NAME_ORDER_ID_MASK: i64 = (1 << NAME_ORDER_ID_BITS) - 1;

/// Characters of `sort_key` a `cadre_search_by_name` rowid holds.
const NAME_ORDER_CHARACTERS: usize = 8;

/// A cadre's rowid in `cadre_search_by_name`, as its migration computes it (`cadres.name_order`):
/// the first eight characters of `sort_key` in base 29, above the id. Rowids never go against
/// the order of `(sort_key, id)`; keys that share those characters come out in id order.
pub fn name_order_key(sort_key: &str, id: i64) -> i64 {
    (name_order_prefix(sort_key) << NAME_ORDER_ID_BITS) | id
}

/// The part of [`name_order_key`] that `sort_key` gives: 0 past its end, 1 a character below
/// `a`, 2 to 27 the letters, 28 a character above `z`, and 0 for every character after the first
/// that is not a letter. The digits 1 and 28 each stand for many characters, so what follows
/// one says nothing of the order (`aili'maimaiti` sorts before `aili-abudu`): the prefix stops
/// there, and names alike up to it are one run, sorted exactly.
pub fn name_order_prefix(sort_key: &str) -> i64 {
    let mut characters = sort_key.chars();
    let mut after_another_character = false;
    (0..NAME_ORDER_CHARACTERS).fold(0, |code, _| {
        let digit = match characters.next() {
            _ if after_another_character => 0,
            None => 0,
            Some(c) if c.is_ascii_lowercase() => i64::from(u32::from(c) - u32::from('a')) + 2,
            Some(c) => {
                after_another_character = true;
                if c < 'a' {
                    1
                } else {
                    28
                }
            }
        };
        code * 29 + digit
    })
}

/// The rowids of every cadre whose `sort_key` begins as `sort_key` does (its first eight
/// characters).
pub fn name_order_range(sort_key: &str) -> std::ops::Range<i64> {
    let prefix = name_order_prefix(sort_key);
    (prefix << NAME_ORDER_ID_BITS)..((prefix + 1) << NAME_ORDER_ID_BITS)
}

/// The sort keys of the cadres that share one [`name_order_prefix`].
#[derive(Debug, PartialEq, Eq)]
pub enum NameRun {
    /// One sort key, shorter than eight characters: the run is in id order, which is its order.
    OneKey,
    /// The keys that begin with these eight letters, as a range of `sort_key`.
    Keys(std::ops::Range<String>),
    /// Characters other than letters, which the prefix does not tell apart.
    Unknown,
}

/// The run of sort keys behind a [`name_order_prefix`].
pub fn name_run(prefix: i64) -> NameRun {
    let mut digits = [0i64; NAME_ORDER_CHARACTERS];
    let mut rest = prefix;
    for digit in digits.iter_mut().rev() {
        *digit = rest % 29;
        rest /= 29;
    }
    let mut key = String::with_capacity(NAME_ORDER_CHARACTERS);
    for (place, &digit) in digits.iter().enumerate() {
        match digit {
            0 if digits[place..].iter().all(|&d| d == 0) => return NameRun::OneKey,
            2..=27 => key.push(char::from(b'a' + u8::try_from(digit - 2).unwrap_or(0))),
            _ => return NameRun::Unknown,
        }
    }
    let last = key.pop().map_or(0, u32::from);
    let past = format!("{key}{}", char::from_u32(last + 1).unwrap_or(char::MAX));
    key.push(char::from_u32(last).unwrap_or('a'));
    NameRun::Keys(key..past)
}

/// The [`name_order_prefix`] of a `cadre_search_by_name` rowid.
pub fn prefix_of_name_order(rowid: i64) -> i64 {
    rowid >> NAME_ORDER_ID_BITS
}

/// The cadre's id in a `cadre_search_by_name` rowid.
pub fn id_of_name_order(rowid: i64) -> i64 {
    rowid & NAME_ORDER_ID_MASK
}

/// Whether `cadre_search_by_name` holds every cadre: it leaves out ids too large for its rowids.
pub fn name_order_holds_every_cadre(conn: &mut DbConn) -> QueryResult<bool> {
    let highest: Option<i64> = cadres::table
        .select(diesel::dsl::max(cadres::id))
        .get_result(conn)?;
    Ok(highest.is_none_or(|id| id <= NAME_ORDER_ID_MASK))
}

/// At most `rows` rowids of `cadre_search_by_name` matching the FTS5 query, in name order from
/// `from` on (rowids at or above it; at or below it, in the reverse order, when `desc`).
pub fn matches_in_name_order(
    conn: &mut DbConn,
    fts_query: String,
    from: i64,
    desc: bool,
    rows: i64,
) -> QueryResult<Vec<i64>> {
    let matching = cadre_search_by_name::table
        .filter(fts_match("cadre_search_by_name", fts_query))
        .select(cadre_search_by_name::rowid);
    if desc {
        let matching = matching
            .filter(cadre_search_by_name::rowid.le(from))
            .order(cadre_search_by_name::rowid.desc());
        crate::db::written_in::limit(matching, rows).load(conn)
    } else {
        let matching = matching
            .filter(cadre_search_by_name::rowid.ge(from))
            .order(cadre_search_by_name::rowid.asc());
        crate::db::written_in::limit(matching, rows).load(conn)
    }
}

/// The status and sort key of each of the cadres `ids` names, by id.
pub fn statuses_and_sort_keys(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<HashMap<i64, (String, String)>> {
    Ok(cadres::table
        .filter(id_in(cadres::id, ids))
        .select((cadres::id, cadres::status, cadres::sort_key))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, status, sort_key)| (id, (status, sort_key)))
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_order_keys_never_go_against_name_order() {
        // In the order of `(sort_key, id)`: past the end, below `a`, letters, above `z`; keys
        // alike in their first eight characters in id order.
        let in_order = [
            ("", 9),
            ("0a", 1),
            ("a", 5),
            ("a0", 2),
            ("ab", 1),
            ("aili'maimaiti", 6),
            ("aili-abudu", 5),
            ("aili-maimaiti", 4),
            ("lvmin", 3),
            ("lümin", 1),
            ("lümio", 1),
            ("zhangwei", 4),
            ("zhangweilan", 2),
            ("zhangweiqiang", 1),
            ("zhangwen", 1),
            ("zzzzzzzzz", (1 << 24) - 1),
        ];
        let keys: Vec<i64> = in_order
            .iter()
            .map(|(sort_key, id)| name_order_key(sort_key, *id))
            .collect();
        for (pair, names) in keys.windows(2).zip(in_order.windows(2)) {
            let same_prefix = name_order_prefix(names[0].0) == name_order_prefix(names[1].0);
            assert!(pair[0] < pair[1] || same_prefix, "{names:?}");
        }
        // "zhangweilan" (id 2) shares "zhangwei" with "zhangweiqiang" (id 1): id order there.
        assert!(keys[12] > keys[13]);
        // After a character that is not a letter the prefix ends: one run, in id order.
        assert_eq!(
            name_order_prefix("aili'maimaiti"),
            name_order_prefix("aili-abudu")
        );
        assert_eq!(name_order_prefix("lümin"), name_order_prefix("lümio"));
        assert!(keys.iter().all(|&key| key > 0));
        let key = name_order_key("zhangweilan", 77);
        assert_eq!(id_of_name_order(key), 77);
        assert_eq!(prefix_of_name_order(key), name_order_prefix("zhangwei"));
        assert!(name_order_range("zhangweiqiang").contains(&key));
        assert!(!name_order_range("zhangwen").contains(&key));
    }

    #[test]
    fn a_name_order_prefix_tells_its_run_of_sort_keys() {
        let run = |sort_key: &str| name_run(name_order_prefix(sort_key));
        assert_eq!(run("wangfan"), NameRun::OneKey);
        assert_eq!(run(""), NameRun::OneKey);
        assert_eq!(
            run("zhangweiqiang"),
            NameRun::Keys("zhangwei".to_owned().."zhangwej".to_owned())
        );
        assert_eq!(
            run("ayigulimaimaiti"),
            NameRun::Keys("ayigulim".to_owned().."ayigulin".to_owned())
        );
        assert_eq!(
            run("wangyizz"),
            NameRun::Keys("wangyizz".to_owned().."wangyiz{".to_owned())
        );
        assert_eq!(run("lümin"), NameRun::Unknown);
        assert_eq!(run("a0"), NameRun::Unknown);
    }
}
