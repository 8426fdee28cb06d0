//! `text_enum!`: a closed list of lower-case snake_case words that is a JSON enum in the API (and the
//! OpenAPI document) and a `TEXT` column with a CHECK constraint in the database. One definition gives
//! serde, the schema, the string conversions and diesel's reading and writing, so the spellings cannot
//! drift apart, and a word in the database that the enum does not know is an error when it is read, never a
//! silent default.

#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            strum::EnumString,
            strum::IntoStaticStr,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            /// The word as the API and the database spell it.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                let word: &'static str = self.into();
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    word,
                    &mut out.reborrow(),
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let word = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(value)?;
                word.parse().map_err(|_| {
                    format!("the database holds `{word}`, which is no {}", stringify!($name)).into()
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        pub enum Colour {
            DeepRed,
            Blue,
        }
    }

    #[test]
    fn a_word_the_enum_does_not_know_is_an_error_not_a_default() {
        assert_eq!("deep_red".parse::<Colour>().unwrap(), Colour::DeepRed);
        assert_eq!(Colour::Blue.as_str(), "blue");
        assert!("green".parse::<Colour>().is_err());
    }
}
