//! `text_enum!`: a closed list of lower-case snake_case words that is a JSON enum in the API (and the
//! OpenAPI document) and a `TEXT` column with a CHECK constraint in the database. One definition gives
//! serde, the schema and the string conversions, so the two spellings cannot drift apart.

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
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            strum::EnumString,
            strum::IntoStaticStr,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }
    };
}
