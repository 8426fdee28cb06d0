//! `text_enum!`: a closed list of words that is a JSON enum in the API (and the OpenAPI document) and a
//! `TEXT` column with a CHECK constraint in the database. One definition gives serde, the schema, the
//! string conversions, the list of all variants and diesel's reading and writing, so the spellings cannot
//! drift apart, and a word in the database that the enum does not know is an error when it is read, never a
//! silent default.
//!
//! A variant is spelt in lower-case snake_case (`GoalReached` is `goal_reached`), unless it names its own
//! word (`CaseOpened = "case.opened"`): the change feed's types and the access log's resources are dotted
//! paths, and clients already hold those spellings. The word is taken as a token tree, not a `literal`
//! fragment: a fragment reaches the derives wrapped in an invisible group, which serde looks through but
//! utoipa does not (the schema would list the snake_case name instead).

#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident $(= $word:tt)?),* $(,)?
        }
    ) => {
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
            strum::VariantArray,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $(#[serde(rename = $word)] #[strum(serialize = $word)])?
                $variant
            ),*
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
            /// Spelt as the paint shop does.
            SeaGreen = "sea.green",
        }
    }

    #[test]
    fn a_word_the_enum_does_not_know_is_an_error_not_a_default() {
        assert_eq!("deep_red".parse::<Colour>().unwrap(), Colour::DeepRed);
        assert_eq!(Colour::Blue.as_str(), "blue");
        assert!("green".parse::<Colour>().is_err());
    }

    #[test]
    fn a_variant_that_names_its_word_is_spelt_so_everywhere_and_only_so() {
        use strum::VariantArray;
        assert_eq!(Colour::SeaGreen.as_str(), "sea.green");
        assert_eq!("sea.green".parse::<Colour>().unwrap(), Colour::SeaGreen);
        assert!("sea_green".parse::<Colour>().is_err());
        assert_eq!(
            serde_json::to_string(&Colour::SeaGreen).unwrap(),
            r#""sea.green""#
        );
        assert_eq!(
            serde_json::from_str::<Colour>(r#""sea.green""#).unwrap(),
            Colour::SeaGreen
        );
        assert!(serde_json::from_str::<Colour>(r#""sea_green""#).is_err());
        let words: Vec<&str> = Colour::VARIANTS.iter().map(|c| c.as_str()).collect();
        assert_eq!(words, ["deep_red", "blue", "sea.green"]);
    }
}
