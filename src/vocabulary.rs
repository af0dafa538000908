//! Controlled vocabularies: enums stored as TEXT, with English identifiers in the API and the
//! database, simplified-Chinese labels for clients, and the labels (simplified or traditional)
//! that imports accept.

/// Declares an enum whose values are stored as TEXT, with labels and accepted aliases.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $id:literal, $label:literal $(| $alias:literal)*;)+ }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $id,)+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn parse(value: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }

            /// Accepts the identifier, the label, or a listed alias (e.g. a traditional form).
            pub fn from_text(text: &str) -> Option<$name> {
                let text = text.trim();
                match text {
                    $($id | $label $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use vocabulary;
