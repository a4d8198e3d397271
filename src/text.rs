//! A single read-only view over Arrow string columns, whatever their physical layout.

use arrow::array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use arrow::datatypes::DataType;

/// Text values of one column: `Utf8`, `LargeUtf8` or `Utf8View`, null-aware. Borrowed, never copied.
#[derive(Clone, Copy)]
pub enum TextColumn<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

impl<'a> TextColumn<'a> {
    /// The view over `array`, or `None` if it is not a (non-dictionary) string array.
    /// Use [`text_array`] first to unpack dictionary-encoded strings.
    pub fn new(array: &'a dyn Array) -> Option<Self> {
        let any = array.as_any();
        match array.data_type() {
            DataType::Utf8 => any.downcast_ref().map(TextColumn::Utf8),
            DataType::LargeUtf8 => any.downcast_ref().map(TextColumn::LargeUtf8),
            DataType::Utf8View => any.downcast_ref().map(TextColumn::Utf8View),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TextColumn::Utf8(a) => a.len(),
            TextColumn::LargeUtf8(a) => a.len(),
            TextColumn::Utf8View(a) => a.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `i`, `None` when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            TextColumn::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            TextColumn::LargeUtf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            TextColumn::Utf8View(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }

    /// Address of the first byte of the values buffer (used to check zero-copy imports).
    pub fn values_address(&self) -> usize {
        match self {
            TextColumn::Utf8(a) => a.values().as_ptr() as usize,
            TextColumn::LargeUtf8(a) => a.values().as_ptr() as usize,
            TextColumn::Utf8View(a) => a.data_buffers().first().map_or(0, |b| b.as_ptr() as usize),
        }
    }
}

/// Whether `dt` can be audited as text (directly or after unpacking a dictionary).
pub fn is_text_type(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text_type(v),
        _ => false,
    }
}

/// The array itself when it is a plain string array; a dictionary of strings is unpacked.
pub fn text_array(array: &ArrayRef) -> Result<ArrayRef, String> {
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(array.clone()),
        DataType::Dictionary(_, v) if is_text_type(v) => {
            arrow::compute::cast(array, &DataType::LargeUtf8).map_err(|e| e.to_string())
        }
        other => Err(format!("has type {other}, not a string type")),
    }
}

/// Converts increasing byte offsets within one text into Unicode scalar offsets without
/// re-counting from the start each time.
pub struct CharOffsets<'a> {
    bytes: &'a [u8],
    byte: usize,
    chars: usize,
}

impl<'a> CharOffsets<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            byte: 0,
            chars: 0,
        }
    }

    /// Char offset of `byte` (which must be a char boundary).
    pub fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += count_chars(&self.bytes[self.byte..byte]);
        self.byte = byte;
        self.chars
    }
}

/// Number of Unicode scalar values in valid UTF-8 (counts non-continuation bytes; vectorizes).
#[inline]
pub fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn char_offsets_match_python_indexing() {
        let s = "aé😀b\u{202E}c";
        let mut co = CharOffsets::new(s);
        for (ci, (bi, _)) in s.char_indices().enumerate() {
            assert_eq!(co.at(bi), ci);
        }
        assert_eq!(co.at(s.len()), s.chars().count());
        assert_eq!(co.at(1), 1, "going backwards recounts");
    }

    #[test]
    fn views_agree_across_layouts() {
        let vals = vec![Some("héllo"), None, Some("")];
        let a: ArrayRef = Arc::new(StringArray::from(vals.clone()));
        let b: ArrayRef = Arc::new(LargeStringArray::from(vals.clone()));
        let c: ArrayRef = Arc::new(StringViewArray::from(vals.clone()));
        let d: ArrayRef = Arc::new(
            vals.iter()
                .copied()
                .collect::<arrow::array::DictionaryArray<arrow::datatypes::Int32Type>>(),
        );
        for arr in [a, b, c, d] {
            let arr = text_array(&arr).unwrap();
            let t = TextColumn::new(arr.as_ref()).unwrap();
            let got: Vec<_> = (0..t.len()).map(|i| t.get(i)).collect();
            assert_eq!(got, vals);
        }
    }

    #[test]
    fn non_strings_are_rejected() {
        let a: ArrayRef = Arc::new(arrow::array::Int64Array::from(vec![1]));
        assert!(text_array(&a).unwrap_err().contains("Int64"));
    }
}
