//! SQL that diesel's query builder has no form for, or none that diesel keeps prepared, as
//! expressions diesel keeps prepared. The same SQL written with `diesel::dsl::sql` is prepared
//! again on every run (diesel cannot know a literal's text is the same each time), which on a
//! search cost up to about 50 µs a statement (docs/performance.md, "SQLite's search statements
//! kept prepared"). Each of these writes the same text for any value, so one prepared statement
//! serves them all.

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::is_nullable::{IsSqlTypeNullable, MaybeNullable};
use diesel::sql_types::{
    Array, BigInt, Bool, HasSqlType, MaybeNullableType, Nullable, SqlType, Text,
};
use diesel::sqlite::Sqlite;
use diesel::{Connection, QueryResult};
use std::sync::OnceLock;

/// The backend of `DbConn`, whichever engine it is connected to.
type Any = <super::DbConn as Connection>::Backend;

/// `<table> MATCH ?`: a full-text query on an FTS5 table, the query bound.
#[derive(Debug, Clone)]
pub struct FtsMatch {
    table: &'static str,
    query: String,
}

/// Rows of the FTS5 table `table` (an identifier from the schema, never user input) matching
/// the FTS5 `query`.
pub fn fts_match(table: &'static str, query: String) -> FtsMatch {
    FtsMatch { table, query }
}

impl Expression for FtsMatch {
    type SqlType = Bool;
}

impl<DB> QueryFragment<DB> for FtsMatch
where
    DB: Backend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_identifier(self.table)?;
        out.push_sql(" MATCH ");
        out.push_bind_param::<Text, String>(&self.query)
    }
}

/// The SQL text tells statements apart (the table's name); there is no static id.
impl QueryId for FtsMatch {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<GroupBy> ValidGrouping<GroupBy> for FtsMatch {
    type IsAggregate = is_aggregate::Never;
}

impl<QS> AppearsOnTable<QS> for FtsMatch {}

impl<QS> SelectableExpression<QS> for FtsMatch {}

/// `<column> IN <ids>` with the ids bound as one value, so that one prepared statement serves
/// any number of them: SQLite reads a JSON array (`IN (SELECT value FROM json_each(?))`),
/// PostgreSQL an array (`= ANY(?)`). diesel's `eq_any` binds each id on SQLite, and a statement
/// per count of ids is not kept.
#[derive(Debug, Clone)]
pub struct IdIn<C> {
    column: C,
    ids: Vec<i64>,
    /// The ids as SQLite binds them, written the first time SQLite's form is walked (a bind
    /// borrows from the expression, and the engine is known only then).
    json: OnceLock<String>,
}

/// `column` is one of `ids`.
pub fn id_in<C>(column: C, ids: &[i64]) -> IdIn<C>
where
    C: Expression,
    C::SqlType: IdType,
{
    IdIn {
        column,
        ids: ids.to_vec(),
        json: OnceLock::new(),
    }
}

/// The SQL types of id columns: `BigInt`, and `Nullable<BigInt>` for an optional reference.
pub trait IdType {}

impl IdType for BigInt {}

impl IdType for Nullable<BigInt> {}

/// Bool, or nullable Bool for a nullable column, as diesel types its own `IN`.
impl<C> Expression for IdIn<C>
where
    C: Expression,
    C::SqlType: SqlType,
    IsSqlTypeNullable<C::SqlType>: MaybeNullableType<Bool>,
{
    type SqlType = MaybeNullable<IsSqlTypeNullable<C::SqlType>, Bool>;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        let json = self.json.get_or_init(|| {
            let listed: Vec<String> = self.ids.iter().map(i64::to_string).collect();
            format!("[{}]", listed.join(","))
        });
        out.push_bind_param::<Text, String>(json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<BigInt>, Vec<i64>>(&self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}

/// On `DbConn`, the form of the engine it is connected to.
impl<C> QueryFragment<Any> for IdIn<C>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Any>) -> QueryResult<()> {
        Any::walk_variant_ast(self, pass)
    }
}

/// The SQL text tells statements apart; there is no static id.
impl<C> QueryId for IdIn<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, GroupBy> ValidGrouping<GroupBy> for IdIn<C> {
    type IsAggregate = is_aggregate::Never;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for IdIn<C> where Self: Expression {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for IdIn<C> where Self: Expression {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::{InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;
    use std::sync::{Arc, Mutex};

    diesel::table! {
        words (rowid) {
            rowid -> BigInt,
            text -> Text,
        }
    }

    /// Each form is prepared once and kept, whatever the values: the SQL each adds to the
    /// statement cache, over runs with different queries and different numbers of ids, on
    /// `DbConn` as the service runs them.
    #[test]
    fn statements_are_kept_prepared_for_any_value() {
        let mut conn = crate::db::DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        conn.batch_execute(
            "CREATE VIRTUAL TABLE words USING fts5(text, tokenize = 'trigram');
             INSERT INTO words(rowid, text) VALUES (1, 'luowei'), (2, 'wangfang'), (3, 'luofang');",
        )
        .unwrap();
        let cached = Arc::new(Mutex::new(Vec::new()));
        let seen = cached.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                seen.lock().unwrap().push(sql.to_owned());
            }
        });
        let mut matching = |query: &str| -> Vec<i64> {
            words::table
                .filter(fts_match("words", format!("\"{query}\"")))
                .select(words::rowid)
                .order(words::rowid)
                .load(&mut conn)
                .unwrap()
        };
        assert_eq!(matching("luo"), [1, 3]);
        assert_eq!(matching("fang"), [2, 3]);
        let mut among = |ids: &[i64]| -> Vec<i64> {
            words::table
                .filter(id_in(words::rowid, ids))
                .select(words::rowid)
                .order(words::rowid)
                .load(&mut conn)
                .unwrap()
        };
        assert_eq!(among(&[3, 1]), [1, 3]);
        assert_eq!(among(&[2]), [2]);
        assert_eq!(among(&[]), Vec::<i64>::new());
        let cached = cached.lock().unwrap();
        assert_eq!(cached.len(), 2, "{cached:?}");
        assert!(cached[0].contains("`words` MATCH ?"), "{cached:?}");
        assert!(
            cached[1].contains("IN (SELECT value FROM json_each(?))"),
            "{cached:?}"
        );
    }

    /// On PostgreSQL the ids are one array parameter, whatever their number.
    #[test]
    fn postgres_binds_the_ids_as_one_array() {
        let query = words::table
            .filter(id_in(words::rowid, &[3, 1, 2]))
            .select(words::rowid);
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(sql.contains(r#""words"."rowid" = ANY($1)"#), "{sql}");
        assert!(sql.contains("binds: [[3, 1, 2]]"), "{sql}");
    }
}
