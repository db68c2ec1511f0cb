//! A serde `Serializer` that writes canonical JSON straight from a typed
//! value, byte for byte what [`super::encode`] writes for the
//! `serde_json::Value` that `serde_json::to_value` would have built, without
//! building that tree. The audit writer encodes two events per statement,
//! and the tree (a map node and a key string per member, then freed) was
//! the larger part of the cost.
//!
//! How it stays equal to the `Value` route (tests compare the two on every
//! event type and on the edge cases below):
//! - struct and map members are encoded into a scratch buffer, then written
//!   sorted by the keys' bytes; a repeated key keeps its last value, as a
//!   map insert does;
//! - integers print in decimal; 128-bit ones only when they fit 64 bits;
//! - a finite float is refused, as the `Value` route refuses a fraction; a
//!   NaN or infinity becomes `null`, as `serde_json` turns it into `Null`;
//! - enums: a unit variant is its name, other variants a one-member object;
//! - map keys: strings, chars, integers, bools and unit variants, as
//!   `serde_json` accepts them.

use super::{encode_str, EncodeError};
use serde::ser::{self, Serialize};
use std::borrow::Cow;

/// Appends the canonical encoding of `value` to `out`.
pub(super) fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    value.serialize(Ser { out })
}

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
}

fn int(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{v}");
}

fn float(out: &mut Vec<u8>, v: f64) -> Result<(), EncodeError> {
    if v.is_finite() {
        return Err(EncodeError(format!("number {v} is not an integer")));
    }
    out.extend_from_slice(b"null");
    Ok(())
}

fn wide(out: &mut Vec<u8>, v: i128) -> Result<(), EncodeError> {
    if u64::try_from(v).is_ok() || i64::try_from(v).is_ok() {
        int(out, v);
        Ok(())
    } else {
        Err(EncodeError(format!("number {v} is out of range")))
    }
}

/// `Serializer` methods that write an integer in decimal.
macro_rules! decimal {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), EncodeError> {
            int(self.out, v);
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Obj<'a>;
    type SerializeStruct = Obj<'a>;
    type SerializeStructVariant = Obj<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
        Ok(())
    }
    decimal!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64
    );
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        wide(self.out, v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        match u64::try_from(v) {
            Ok(v) => {
                int(self.out, v);
                Ok(())
            }
            Err(_) => Err(EncodeError(format!("number {v} is out of range"))),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        float(self.out, f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        float(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        encode_str(v.encode_utf8(&mut [0u8; 4]), self.out);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        encode_str(v, self.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.out.push(b'[');
        for (i, b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            int(self.out, b);
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        // A one-member object: nothing to sort.
        self.out.push(b'{');
        encode_str(variant, self.out);
        self.out.push(b':');
        value.serialize(Ser {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, EncodeError> {
        Ok(Seq::open(self.out, None))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, EncodeError> {
        Ok(Seq::open(self.out, Some(variant)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Obj<'a>, EncodeError> {
        Ok(Obj::open(self.out, None, len.unwrap_or(0)))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Obj<'a>, EncodeError> {
        Ok(Obj::open(self.out, None, len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Obj<'a>, EncodeError> {
        Ok(Obj::open(self.out, Some(variant), len))
    }
}

/// An array, written as it goes (elements keep their order). Inside a
/// tuple variant it is wrapped as `{"variant":[…]}`.
struct Seq<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    wrapped: bool,
}

impl<'a> Seq<'a> {
    fn open(out: &'a mut Vec<u8>, variant: Option<&str>) -> Seq<'a> {
        if let Some(v) = variant {
            out.push(b'{');
            encode_str(v, out);
            out.push(b':');
        }
        out.push(b'[');
        Seq {
            out,
            first: true,
            wrapped: variant.is_some(),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Ser {
            out: &mut *self.out,
        })
    }

    fn close(self) {
        self.out.push(b']');
        if self.wrapped {
            self.out.push(b'}');
        }
    }
}

/// The array-like compounds all push elements in order.
macro_rules! seq_like {
    ($($tr:ident :: $method:ident),*) => {$(
        impl ser::$tr for Seq<'_> {
            type Ok = ();
            type Error = EncodeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
                self.element(value)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.close();
                Ok(())
            }
        }
    )*};
}

seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object: members are encoded into `buf` as they come and written out
/// sorted by key at the end. Inside a struct variant it is wrapped as
/// `{"variant":{…}}`.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    variant: Option<&'static str>,
    buf: Vec<u8>,
    /// Each member's key and the range of its encoded value in `buf`.
    members: Vec<(Cow<'static, str>, usize, usize)>,
    /// A map key waiting for its value.
    key: Option<String>,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>, variant: Option<&'static str>, len: usize) -> Obj<'a> {
        Obj {
            out,
            variant,
            buf: Vec::with_capacity(64 * len.min(64)),
            members: Vec::with_capacity(len.min(64)),
            key: None,
        }
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        value: &T,
    ) -> Result<(), EncodeError> {
        let start = self.buf.len();
        value.serialize(Ser { out: &mut self.buf })?;
        self.members.push((key, start, self.buf.len()));
        Ok(())
    }

    fn close(mut self) -> Result<(), EncodeError> {
        if self.key.is_some() {
            return Err(EncodeError("a map key without its value".to_owned()));
        }
        if let Some(v) = self.variant {
            self.out.push(b'{');
            encode_str(v, self.out);
            self.out.push(b':');
        }
        // Stable: of equal keys the last one sorts last, and is the one kept.
        self.members
            .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        self.out.push(b'{');
        let mut first = true;
        let mut it = self.members.iter().peekable();
        while let Some((key, start, end)) = it.next() {
            if it.peek().is_some_and(|next| next.0 == *key) {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            encode_str(key, self.out);
            self.out.push(b':');
            let value = self
                .buf
                .get(*start..*end)
                .ok_or_else(|| EncodeError("member out of range".to_owned()))?;
            self.out.extend_from_slice(value);
        }
        self.out.push(b'}');
        if self.variant.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| EncodeError("a map value without its key".to_owned()))?;
        self.member(Cow::Owned(key), value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

/// Struct members have static keys.
macro_rules! struct_like {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Obj<'_> {
            type Ok = ();
            type Error = EncodeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), EncodeError> {
                self.member(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result<(), EncodeError> {
                self.close()
            }
        }
    )*};
}

struct_like!(SerializeStruct, SerializeStructVariant);

/// Turns a map key into its string, accepting what `serde_json` accepts.
struct KeySer;

fn key_refused() -> EncodeError {
    EncodeError("key must be a string".to_owned())
}

/// `KeySer` methods whose key is the value's `Display` text.
macro_rules! key_text {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<String, EncodeError> {
            Ok(v.to_string())
        }
    )*};
}

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = EncodeError;
    type SerializeSeq = ser::Impossible<String, EncodeError>;
    type SerializeTuple = ser::Impossible<String, EncodeError>;
    type SerializeTupleStruct = ser::Impossible<String, EncodeError>;
    type SerializeTupleVariant = ser::Impossible<String, EncodeError>;
    type SerializeMap = ser::Impossible<String, EncodeError>;
    type SerializeStruct = ser::Impossible<String, EncodeError>;
    type SerializeStructVariant = ser::Impossible<String, EncodeError>;

    key_text!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char
    );
    fn serialize_f32(self, _v: f32) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_str(self, v: &str) -> Result<String, EncodeError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_none(self) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_unit(self) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, EncodeError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, EncodeError> {
        Err(key_refused())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        Err(key_refused())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, EncodeError> {
        Err(key_refused())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        Err(key_refused())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(key_refused())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Err(key_refused())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        Err(key_refused())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(key_refused())
    }
}

#[cfg(test)]
mod tests {
    use super::super::to_string as via_value;
    use serde::Serialize;
    use std::collections::{BTreeMap, HashMap};

    fn direct<T: Serialize>(v: &T) -> Result<String, super::EncodeError> {
        super::super::to_text(v)
    }

    /// The direct encoding equals the `Value` route's, or both refuse.
    fn same<T: Serialize + std::fmt::Debug>(v: &T) {
        let value = serde_json::to_value(v);
        let expected = value
            .map_err(|e| e.to_string())
            .and_then(|v| via_value(&v).map_err(|e| e.0));
        let got = direct(v).map_err(|e| e.0);
        match (&expected, &got) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{v:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{v:?}: value route {expected:?}, direct {got:?}"),
        }
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "snake_case")]
    enum E {
        Unit,
        New(u32),
        Tuple(u8, String),
        Struct { b: i64, a: Option<bool> },
    }

    #[derive(Debug, Serialize)]
    struct Inner {
        zeta: Vec<E>,
        alpha: (),
    }

    #[derive(Debug, Serialize)]
    struct Outer {
        z: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        m: BTreeMap<String, i32>,
        ints: HashMap<u16, char>,
        a: Inner,
        #[serde(rename = "Ä")]
        umlaut: i8,
        #[serde(rename = "B")]
        capital: u64,
        bytes: serde_bytes_like::Bytes,
        #[serde(flatten)]
        extra: BTreeMap<String, String>,
    }

    mod serde_bytes_like {
        #[derive(Debug)]
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn equals_the_value_route() {
        let outer = Outer {
            z: "q\"b\\n\nt\tc\u{1}d\u{7f}/é😀\u{8}\u{c}\r".to_owned(),
            skipped: None,
            m: [("b", 1), ("a", -2), ("é", 3), ("", 0)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ints: [(10, 'x'), (9, '"')].into_iter().collect(),
            a: Inner {
                zeta: vec![
                    E::Unit,
                    E::New(7),
                    E::Tuple(1, "t".to_owned()),
                    E::Struct { b: -1, a: None },
                    E::Struct {
                        b: i64::MIN,
                        a: Some(true),
                    },
                ],
                alpha: (),
            },
            umlaut: -128,
            capital: u64::MAX,
            bytes: serde_bytes_like::Bytes(vec![0, 255, 34]),
            // "z" repeats a field: the last one wins, as in a map.
            extra: [("y", "flattened"), ("z", "last")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        };
        same(&outer);
        let text = direct(&outer).unwrap();
        assert!(
            text.starts_with(r#"{"B":18446744073709551615,"a":{"alpha":null,"#),
            "{text}"
        );
        assert!(text.contains(r#""z":"last","#), "{text}");
        same(&Vec::<u8>::new());
        same(&BTreeMap::<String, u8>::new());
        same(&Some("x"));
        same(&'c');
        same(&(1u128, -5i128));
    }

    #[test]
    fn refuses_what_the_value_route_refuses() {
        for v in [0.5f64, 1.0, -3.25e10] {
            same(&v);
            assert!(direct(&v).is_err());
        }
        // Not finite: null, as serde_json makes it.
        same(&f64::NAN);
        assert_eq!(direct(&f64::INFINITY).unwrap(), "null");
        same(&u128::MAX);
        assert!(direct(&u128::MAX).is_err());
        same(&i128::MIN);
        let mut bad = BTreeMap::new();
        bad.insert(vec![1u8], 1);
        assert!(direct(&bad).is_err());
    }
}
