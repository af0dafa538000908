//! Values written into a statement's SQL instead of bound, where a bound value costs a plan on
//! every run of a statement that is otherwise kept prepared.
//!
//! - PostgreSQL plans a kept statement with a bound `LIMIT` anew on every run: a generic plan must
//!   guess the limit (a tenth of the table), so the custom plan for the actual value always looks
//!   cheaper. pgbench on the filtered list's SQL, 100,000 cadres: 5,100–6,100 tps with the limit
//!   written in, 3,300–3,700 with it bound.
//! - SQLite (with `STAT4`, which the bundled library enables) prepares a statement again whenever
//!   a value it planned by is bound anew: a `LIMIT`, and a value compared with an indexed column.
//!
//! Only values from a closed set are written in: words of a controlled vocabulary, and a page's
//! row limit (at most `web::MAX_PAGE_SIZE` + 1). Each distinct value makes a statement of its
//! own, kept per pooled connection until the pool retires it (after at most 30 minutes), so the
//! statements stay few; free text, ids and cursors stay bound.

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::{QueryResult, RunQueryDsl};

/// A word of a controlled vocabulary (`jiusan`, `active`) as an SQL string literal.
#[derive(Debug, Clone, Copy)]
pub struct Word(&'static str);

/// `word` written into the SQL. Vocabulary words are lower-case ASCII letters, digits and `_`,
/// which need no quoting; anything else is a programming error.
pub fn word(word: &'static str) -> Word {
    assert!(
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "not a vocabulary word: {word:?}"
    );
    Word(word)
}

impl Expression for Word {
    type SqlType = Text;
}

impl<DB: Backend> QueryFragment<DB> for Word {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("'");
        out.push_sql(self.0);
        out.push_sql("'");
        Ok(())
    }
}

/// The SQL text tells statements apart; there is no static id.
impl QueryId for Word {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<GroupBy> ValidGrouping<GroupBy> for Word {
    type IsAggregate = is_aggregate::Never;
}

impl<QS> AppearsOnTable<QS> for Word {}

impl<QS> SelectableExpression<QS> for Word {}

/// `query LIMIT rows`, the number written into the SQL.
#[derive(Debug, Clone)]
pub struct LimitWrittenIn<Q> {
    query: Q,
    rows: i64,
}

/// `query` (which has no limit of its own) limited to `rows`, written in.
pub fn limit<Q>(query: Q, rows: i64) -> LimitWrittenIn<Q> {
    LimitWrittenIn { query, rows }
}

impl<Q: Query> Query for LimitWrittenIn<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for LimitWrittenIn<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.rows.to_string());
        Ok(())
    }
}

impl<Q> QueryId for LimitWrittenIn<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, Conn> RunQueryDsl<Conn> for LimitWrittenIn<Q> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "not a vocabulary word")]
    fn only_plain_words_are_written_in() {
        word("x' OR '1'='1");
    }
}
