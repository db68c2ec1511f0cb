//! What a column's type OID says about how its values may be masked.

/// How values of a type are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    /// text, varchar, bpchar, name, "char", unknown, xml: masked in place.
    Text,
    /// json (text form in both formats).
    Json,
    /// jsonb: binary form is a version byte (1) then JSON text.
    Jsonb,
    /// Numbers, dates, times, uuid, bool, network types: a value that
    /// holds PII has no masked form of its type, so it becomes NULL.
    Scalar,
    /// User-defined types (OID ≥ 16384: citext, enums): text forms are
    /// masked in place.
    User,
    /// Other built-ins (arrays, records, ranges, bytea): text form is masked
    /// in place; a binary form with a detection fails closed.
    Container,
}

/// The first OID PostgreSQL assigns to user objects.
const FIRST_USER_OID: u32 = 16384;

impl TypeClass {
    pub fn of(type_oid: u32) -> TypeClass {
        match type_oid {
            25 | 1043 | 1042 | 19 | 18 | 705 | 142 => TypeClass::Text,
            114 => TypeClass::Json,
            3802 => TypeClass::Jsonb,
            16 | 20 | 21 | 23 | 26 | 700 | 701 | 790 | 1700 | 1082 | 1083 | 1114 | 1184 | 1186
            | 1266 | 2950 | 869 | 650 | 829 | 774 | 28 | 5069 | 3220 => TypeClass::Scalar,
            oid if oid >= FIRST_USER_OID => TypeClass::User,
            _ => TypeClass::Container,
        }
    }

    /// Whether a masked text (`****`) is a valid value of this type.
    pub fn takes_text(self) -> bool {
        !matches!(self, TypeClass::Scalar | TypeClass::Container)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(TypeClass::of(25), TypeClass::Text);
        assert_eq!(TypeClass::of(3802), TypeClass::Jsonb);
        assert_eq!(TypeClass::of(23), TypeClass::Scalar);
        assert_eq!(TypeClass::of(1009), TypeClass::Container);
        assert_eq!(TypeClass::of(20000), TypeClass::User);
        assert!(TypeClass::Text.takes_text() && !TypeClass::Scalar.takes_text());
    }
}
