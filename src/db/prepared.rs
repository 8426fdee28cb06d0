//! Hand-written SQL that PostgreSQL parses and plans once per connection.
//!
//! Diesel prepares a query once per connection and reuses it when the query's shape is known from its
//! type; `sql_query` and `sql` fragments opt out, so the hottest statements (the access facts, the access
//! event, the change feed) would be parsed and planned on every call. A statement declared with
//! [`prepared_statement!`] is its own type with constant SQL, so diesel keeps it in its statement cache.

/// Declares a statement: a struct holding its bind values, whose SQL text is a constant naming them `$1`,
/// `$2`, ... A placeholder may appear more than once. Load rows with a `QueryableByName` type, or
/// `execute` it.
///
/// ```ignore
/// prepared_statement! {
///     /// The case's row.
///     pub struct CaseById<'a> { 1 => id: &'a Uuid as Uuid }
///     = "SELECT * FROM cases WHERE id = $1";
/// }
/// ```
#[macro_export]
macro_rules! prepared_statement {
    // Fields and binds apart: a bind may be a field of a field (`event.case_id`).
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident<$lt:lifetime> {
            $($fname:ident : $fty:ty),* $(,)?
        }
        binds {
            $($index:literal => $($path:ident).+ as $st:ty),* $(,)?
        }
        = $sql:expr;
    ) => {
        $(#[$meta])*
        $vis struct $name<$lt> {
            $(pub $fname: $fty,)*
        }
        $crate::prepared_statement!(@impls $name, $sql, $($index => ($($path).+) as $st),*);
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident<$lt:lifetime> {
            $($index:literal => $field:ident : $ty:ty as $st:ty),* $(,)?
        }
        = $sql:expr;
    ) => {
        $(#[$meta])*
        $vis struct $name<$lt> {
            $(pub $field: $ty,)*
        }
        $crate::prepared_statement!(@impls $name, $sql, $($index => ($field) as $st),*);
    };
    (@impls $name:ident, $sql:expr, $($index:literal => ($($path:ident).+) as $st:ty),*) => {
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name<'_> {}

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                // Split once per statement, not on every execution: diesel walks a query two or three
                // times per execution (binds, cache key, text).
                static PARTS: std::sync::OnceLock<Vec<$crate::db::prepared::Part<'static>>> =
                    std::sync::OnceLock::new();
                for part in PARTS.get_or_init(|| $crate::db::prepared::parts($sql).collect()) {
                    match *part {
                        $crate::db::prepared::Part::Sql(text) => out.push_sql(text),
                        $(
                            $crate::db::prepared::Part::Bind($index) => {
                                out.push_bind_param::<$st, _>(&self.$($path).+)?
                            }
                        )*
                        $crate::db::prepared::Part::Bind(n) => {
                            return Err(diesel::result::Error::QueryBuilderError(
                                format!("{} has no bind ${n}", stringify!($name)).into(),
                            ))
                        }
                    }
                }
                Ok(())
            }
        }
    };
}

/// A piece of a statement's SQL: text, or the placeholder of a bind value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'s> {
    Sql(&'s str),
    Bind(u32),
}

/// Splits SQL text at its `$n` placeholders. Diesel numbers the placeholders itself as binds are pushed,
/// so each occurrence becomes a bind of its own (a value named twice is sent twice).
pub fn parts(sql: &str) -> impl Iterator<Item = Part<'_>> {
    let mut rest = sql;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if let Some(tail) = rest.strip_prefix('$') {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                let n = tail[..digits].parse().expect("ASCII digits");
                rest = &tail[digits..];
                return Some(Part::Bind(n));
            }
        }
        // Up to the next placeholder (a `$` not followed by a digit, as in `$$`, is text).
        let next = rest
            .char_indices()
            .skip(1)
            .find(|&(i, c)| {
                c == '$'
                    && rest[i + 1..]
                        .bytes()
                        .next()
                        .is_some_and(|b| b.is_ascii_digit())
            })
            .map_or(rest.len(), |(i, _)| i);
        let (text, tail) = rest.split_at(next);
        rest = tail;
        Some(Part::Sql(text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_split_the_text_and_may_repeat() {
        let got: Vec<Part> =
            parts("SELECT $1, cardinality($2) + cardinality($2) WHERE x = $10").collect();
        assert_eq!(
            got,
            vec![
                Part::Sql("SELECT "),
                Part::Bind(1),
                Part::Sql(", cardinality("),
                Part::Bind(2),
                Part::Sql(") + cardinality("),
                Part::Bind(2),
                Part::Sql(") WHERE x = "),
                Part::Bind(10),
            ]
        );
    }

    #[test]
    fn a_dollar_without_digits_is_text() {
        let got: Vec<Part> = parts("SELECT '$$' || $1").collect();
        assert_eq!(got, vec![Part::Sql("SELECT '$$' || "), Part::Bind(1)]);
    }
}
