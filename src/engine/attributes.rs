//! An entity's attributes as the rules see them: the JSON shape of its
//! typed facts, built straight from the facts by a serde serializer.
//!
//! Not a `serde_json::Value`: the Cedar crates turn on serde_json's
//! `preserve_order`, so every object of a `Value` is an index map hashing
//! each key with SipHash, once to build it and once per lookup. A large
//! organization's rules phase builds one view per entity and reads it
//! once per rule group and per message; records here are lists of pairs in
//! the facts' order (a record has a few dozen fields at most), so a view
//! costs its allocations and nothing more. It serializes exactly as the
//! `Value` would.

use std::borrow::Cow;
use std::fmt;

use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// A record's field name: a struct's own (static) name, or a map's key.
pub type Key = Cow<'static, str>;

/// A JSON value whose records keep their fields in order, unhashed.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Set(Vec<Attr>),
    Record(Vec<(Key, Attr)>),
}

impl Attr {
    /// The view of anything serializable (the facts of an entity).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<Attr, AttrError> {
        value.serialize(ToAttr)
    }

    /// A record's field.
    pub fn get(&self, name: &str) -> Option<&Attr> {
        match self {
            Attr::Record(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_record(&self) -> Option<&[(Key, Attr)]> {
        match self {
            Attr::Record(fields) => Some(fields),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Attr::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Writes the value in a compact form that tells every two different
    /// values apart (each part says its kind and length), for keys: no
    /// escaping or number formatting as JSON would need. Numbers are
    /// written by their kind (whole, negative, fractional), so equal
    /// values always write the same bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Attr::Null => out.push(b'n'),
            Attr::Bool(false) => out.push(b'f'),
            Attr::Bool(true) => out.push(b't'),
            Attr::Number(n) => {
                if let Some(u) = n.as_u64() {
                    out.push(b'u');
                    out.extend_from_slice(&u.to_le_bytes());
                } else if let Some(i) = n.as_i64() {
                    out.push(b'i');
                    out.extend_from_slice(&i.to_le_bytes());
                } else {
                    out.push(b'd');
                    out.extend_from_slice(&n.as_f64().unwrap_or(f64::NAN).to_bits().to_le_bytes());
                }
            }
            Attr::String(s) => {
                out.push(b's');
                encode_str(s, out);
            }
            Attr::Set(items) => {
                out.push(b'[');
                encode_len(items.len(), out);
                for item in items {
                    item.encode(out);
                }
            }
            Attr::Record(fields) => {
                out.push(b'{');
                encode_len(fields.len(), out);
                for (k, v) in fields {
                    encode_str(k, out);
                    v.encode(out);
                }
            }
        }
    }

    /// The same value as a `serde_json::Value` (for a finding's details).
    pub fn to_json(&self) -> Value {
        match self {
            Attr::Null => Value::Null,
            Attr::Bool(b) => Value::Bool(*b),
            Attr::Number(n) => Value::Number(n.clone()),
            Attr::String(s) => Value::String(s.clone()),
            Attr::Set(items) => Value::Array(items.iter().map(Attr::to_json).collect()),
            Attr::Record(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Where a field was last found in records of one shape, so that the next
/// lookup of the same name compares one key before it searches: the rules
/// look up a few paths in each of half a million findings, in records of a
/// few dozen fields. Record keys are unique (a struct's field names; a
/// map's keys, each set once), so the field a hint finds is the field a
/// search finds.
#[derive(Debug, Default)]
pub struct FieldHint(std::sync::atomic::AtomicUsize);

impl Clone for FieldHint {
    fn clone(&self) -> Self {
        FieldHint(std::sync::atomic::AtomicUsize::new(
            self.0.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

impl FieldHint {
    /// The field `name` of `fields`.
    pub fn find<'a>(&self, fields: &'a [(Key, Attr)], name: &str) -> Option<&'a Attr> {
        use std::sync::atomic::Ordering::Relaxed;
        let guess = self.0.load(Relaxed);
        if let Some((key, value)) = fields.get(guess) {
            if key == name {
                return Some(value);
            }
        }
        let (at, (_, value)) = fields
            .iter()
            .enumerate()
            .find(|(_, (key, _))| key == name)?;
        self.0.store(at, Relaxed);
        Some(value)
    }
}

/// A length, in the compact form of [`Attr::encode`].
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

/// A string, in the compact form of [`Attr::encode`]: its length, then its
/// bytes.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    encode_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

impl Serialize for Attr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Attr::Null => serializer.serialize_unit(),
            Attr::Bool(b) => serializer.serialize_bool(*b),
            Attr::Number(n) => n.serialize(serializer),
            Attr::String(s) => serializer.serialize_str(s),
            Attr::Set(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Attr::Record(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Why a value has no view: a map key that is not a string, number or
/// boolean (facts have none), or a serializer's own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrError(String);

impl fmt::Display for AttrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AttrError {}

impl ser::Error for AttrError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        AttrError(msg.to_string())
    }
}

/// Builds an [`Attr`] as `serde_json::to_value` builds a `Value`: the same
/// numbers, the same enum shapes, non-finite floats as null.
struct ToAttr;

/// Fields set once keep their place when set again, as in a JSON map.
fn insert(fields: &mut Vec<(Key, Attr)>, key: Key, value: Attr) {
    match fields.iter_mut().find(|(k, _)| *k == key) {
        Some((_, old)) => *old = value,
        None => fields.push((key, value)),
    }
}

/// A map key as JSON writes it: strings as they are, numbers and booleans
/// as their text.
fn key_of(key: Attr) -> Result<String, AttrError> {
    match key {
        Attr::String(s) => Ok(s),
        Attr::Number(n) => Ok(n.to_string()),
        Attr::Bool(b) => Ok(b.to_string()),
        _ => Err(AttrError("a map key must be a string".to_string())),
    }
}

impl Serializer for ToAttr {
    type Ok = Attr;
    type Error = AttrError;
    type SerializeSeq = SetBuilder;
    type SerializeTuple = SetBuilder;
    type SerializeTupleStruct = SetBuilder;
    type SerializeTupleVariant = VariantBuilder<SetBuilder>;
    type SerializeMap = RecordBuilder;
    type SerializeStruct = RecordBuilder;
    type SerializeStructVariant = VariantBuilder<RecordBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Attr, AttrError> {
        Ok(Attr::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Attr, AttrError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Attr, AttrError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Attr, AttrError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Attr, AttrError> {
        Ok(Attr::Number(v.into()))
    }
    fn serialize_u8(self, v: u8) -> Result<Attr, AttrError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Attr, AttrError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Attr, AttrError> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Attr, AttrError> {
        Ok(Attr::Number(v.into()))
    }
    fn serialize_f32(self, v: f32) -> Result<Attr, AttrError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Attr, AttrError> {
        Ok(Number::from_f64(v).map_or(Attr::Null, Attr::Number))
    }
    fn serialize_char(self, v: char) -> Result<Attr, AttrError> {
        Ok(Attr::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Attr, AttrError> {
        Ok(Attr::String(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Attr, AttrError> {
        Ok(Attr::Set(
            v.iter()
                .map(|b| Attr::Number(u64::from(*b).into()))
                .collect(),
        ))
    }
    fn serialize_none(self) -> Result<Attr, AttrError> {
        Ok(Attr::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Attr, AttrError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Attr, AttrError> {
        Ok(Attr::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Attr, AttrError> {
        Ok(Attr::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Attr, AttrError> {
        Ok(Attr::String(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Attr, AttrError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Attr, AttrError> {
        Ok(Attr::Record(vec![(
            Cow::Borrowed(variant),
            value.serialize(self)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SetBuilder, AttrError> {
        Ok(SetBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SetBuilder, AttrError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SetBuilder, AttrError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<SetBuilder>, AttrError> {
        Ok(VariantBuilder {
            variant,
            inner: SetBuilder(Vec::with_capacity(len)),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<RecordBuilder, AttrError> {
        Ok(RecordBuilder {
            fields: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<RecordBuilder, AttrError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<RecordBuilder>, AttrError> {
        Ok(VariantBuilder {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

struct SetBuilder(Vec<Attr>);

impl SerializeSeq for SetBuilder {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AttrError> {
        self.0.push(value.serialize(ToAttr)?);
        Ok(())
    }
    fn end(self) -> Result<Attr, AttrError> {
        Ok(Attr::Set(self.0))
    }
}

impl ser::SerializeTuple for SetBuilder {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AttrError> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Attr, AttrError> {
        SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SetBuilder {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AttrError> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Attr, AttrError> {
        SerializeSeq::end(self)
    }
}

struct RecordBuilder {
    fields: Vec<(Key, Attr)>,
    key: Option<Key>,
}

impl SerializeMap for RecordBuilder {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), AttrError> {
        self.key = Some(Cow::Owned(key_of(key.serialize(ToAttr)?)?));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AttrError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| AttrError("a map value without its key".to_string()))?;
        insert(&mut self.fields, key, value.serialize(ToAttr)?);
        Ok(())
    }
    fn end(self) -> Result<Attr, AttrError> {
        Ok(Attr::Record(self.fields))
    }
}

impl ser::SerializeStruct for RecordBuilder {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), AttrError> {
        // A struct's fields are distinct (flattened ones come as a map).
        self.fields
            .push((Cow::Borrowed(key), value.serialize(ToAttr)?));
        Ok(())
    }
    fn end(self) -> Result<Attr, AttrError> {
        SerializeMap::end(self)
    }
}

/// An enum variant with fields: `{"Variant": fields}`, as serde_json has it.
struct VariantBuilder<B> {
    variant: &'static str,
    inner: B,
}

impl ser::SerializeTupleVariant for VariantBuilder<SetBuilder> {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AttrError> {
        SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> Result<Attr, AttrError> {
        Ok(Attr::Record(vec![(
            Cow::Borrowed(self.variant),
            SerializeSeq::end(self.inner)?,
        )]))
    }
}

impl ser::SerializeStructVariant for VariantBuilder<RecordBuilder> {
    type Ok = Attr;
    type Error = AttrError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), AttrError> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Attr, AttrError> {
        Ok(Attr::Record(vec![(
            Cow::Borrowed(self.variant),
            SerializeMap::end(self.inner)?,
        )]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, bool),
        Struct { side: f64 },
    }

    #[derive(Serialize)]
    struct Inner {
        b: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    #[derive(Serialize)]
    struct Facts {
        name: String,
        count: i64,
        huge: u64,
        ratio: f64,
        not_a_number: f64,
        tags: BTreeSet<String>,
        by_name: BTreeMap<String, Vec<u32>>,
        by_number: BTreeMap<u16, bool>,
        shapes: Vec<Shape>,
        letter: char,
        unit: (),
        #[serde(flatten)]
        inner: Inner,
    }

    fn sample() -> Facts {
        Facts {
            name: "web \"quoted\" \u{e9}".into(),
            count: -3,
            huge: u64::MAX,
            ratio: 0.5,
            not_a_number: f64::NAN,
            tags: ["b=2".to_string(), "a=1".to_string()].into(),
            by_name: [("z".to_string(), vec![1, 2]), ("a".to_string(), vec![])].into(),
            by_number: [(7, true)].into(),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(4),
                Shape::Tuple(-1, false),
                Shape::Struct { side: 2.0 },
            ],
            letter: 'x',
            unit: (),
            inner: Inner {
                b: None,
                skipped: None,
            },
        }
    }

    #[test]
    fn a_view_is_the_value_serde_json_builds() {
        let facts = sample();
        let attr = Attr::of(&facts).unwrap();
        let value = serde_json::to_value(&facts).unwrap();
        assert_eq!(attr.to_json(), value);
        // Written out, the same bytes in the same order.
        assert_eq!(
            serde_json::to_string(&attr).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
        assert_eq!(attr.get("count").and_then(Attr::as_i64), Some(-3));
        assert_eq!(attr.get("huge").and_then(Attr::as_i64), None);
        assert_eq!(attr.get("not_a_number"), Some(&Attr::Null));
        assert_eq!(attr.get("b"), Some(&Attr::Null));
        assert_eq!(attr.get("skipped"), None);
        assert_eq!(
            attr.as_record().unwrap().first().map(|(k, _)| &**k),
            Some("name")
        );
    }

    #[test]
    fn a_key_set_twice_keeps_its_place_and_takes_the_last_value() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("a", &1)?;
                map.serialize_entry("b", &2)?;
                map.serialize_entry("a", &3)?;
                map.end()
            }
        }
        let attr = Attr::of(&Twice).unwrap();
        assert_eq!(attr.to_json(), serde_json::to_value(&Twice).unwrap());
        assert_eq!(serde_json::to_string(&attr).unwrap(), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn encoded_values_are_equal_exactly_when_the_values_are() {
        let values = [
            json!(null),
            json!(false),
            json!(true),
            json!(0),
            json!(1),
            json!(-1),
            json!(1.5),
            json!(""),
            json!("a"),
            json!("ab"),
            json!(["a", "b"]),
            json!(["ab"]),
            json!(["a"]),
            json!([["a"], "b"]),
            json!([]),
            json!({}),
            json!({"a": "b"}),
            json!({"ab": ""}),
            json!({"a": "", "b": ""}),
            json!({"a": {"b": 1}}),
            json!({"a": [{"b": 1}]}),
            json!([{"a": 1}, {"b": 1}]),
        ];
        let encoded: Vec<Vec<u8>> = values
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                Attr::of(v).unwrap().encode(&mut out);
                out
            })
            .collect();
        for (i, a) in encoded.iter().enumerate() {
            for (j, b) in encoded.iter().enumerate() {
                assert_eq!(a == b, i == j, "{} and {}", values[i], values[j]);
                // No encoding is a prefix of another: they can be written
                // one after another and still be told apart.
                if i != j {
                    assert!(!b.starts_with(a), "{} and {}", values[i], values[j]);
                }
            }
        }
        let mut again = Vec::new();
        Attr::of(&json!(1u64)).unwrap().encode(&mut again);
        assert_eq!(again, encoded[4]);
    }

    #[test]
    fn a_map_keyed_by_a_record_has_no_view() {
        let keyed: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(Attr::of(&keyed).is_err());
        assert!(serde_json::to_value(&keyed).is_err());
    }
}
