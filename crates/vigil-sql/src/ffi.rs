//! The two libpg_query C functions the classifier calls directly.
//!
//! Why not `pg_query::parse`: it also builds a summary (tables, functions,
//! filter columns, aliases) by walking the whole tree into hash sets, which
//! the classifier never reads — its own walker finds all of that. The C
//! library is already linked into the binary by the `pg_query` crate, whose
//! own bindings module is private, so the declarations are repeated here.
//!
//! The `#[repr(C)]` layouts are copied from `libpg_query/pg_query.h` as
//! shipped in pg_query 18.1.0 and match the bindgen output of that crate's
//! build; the tests below pin their sizes and field offsets.

use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;

/// `PgQueryError` (pg_query.h). Only `message` is read; the rest is
/// declared so the layout matches.
#[repr(C)]
#[allow(dead_code)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

/// `PgQueryProtobuf` (pg_query.h): `size_t len; char* data;`.
#[repr(C)]
#[derive(Clone, Copy)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

/// `PgQueryProtobufParseResult` (pg_query.h). `Copy` only so that `Drop`
/// can hand it to the C free function by value; it never leaves [`Parsed`].
/// `stderr_buffer` (parser warnings) is unused but owned and freed.
#[repr(C)]
#[allow(dead_code)]
#[derive(Clone, Copy)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

extern "C" {
    fn pg_query_parse_protobuf_opts(
        input: *const c_char,
        parser_options: c_int,
    ) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// One libpg_query parse result, freed when dropped (on every path,
/// including unwinding), borrowed from for as long as it lives.
pub(crate) struct Parsed<'input> {
    raw: PgQueryProtobufParseResult,
    // The C side does not keep `input`, but tying the lifetimes keeps the
    // contract simple to read.
    _input: PhantomData<&'input CStr>,
}

impl<'input> Parsed<'input> {
    /// Parses `input` with the default (top-level SQL) grammar.
    pub(crate) fn new(input: &'input CStr) -> Self {
        // SAFETY: `input` is a valid NUL-terminated string that outlives the
        // call; the C function only reads it and returns malloc-ed buffers
        // (or NULLs) that this struct owns and frees exactly once in `Drop`.
        let raw = unsafe { pg_query_parse_protobuf_opts(input.as_ptr(), 0) };
        Parsed {
            raw,
            _input: PhantomData,
        }
    }

    /// The parser's error message, when parsing failed.
    pub(crate) fn error(&self) -> Option<String> {
        if self.raw.error.is_null() {
            return None;
        }
        // SAFETY: a non-NULL `error` points to a PgQueryError allocated by
        // libpg_query and alive until `Drop`.
        let message = unsafe { (*self.raw.error).message };
        if message.is_null() {
            return Some("syntax error".to_string());
        }
        // SAFETY: `message` is a NUL-terminated string (strdup) owned by the
        // error above, alive until `Drop`; it is copied before returning.
        Some(
            unsafe { CStr::from_ptr(message) }
                .to_string_lossy()
                .into_owned(),
        )
    }

    /// The protobuf-encoded parse tree (empty after an error).
    pub(crate) fn tree(&self) -> &[u8] {
        let tree = self.raw.parse_tree;
        if tree.data.is_null() || tree.len == 0 {
            return &[];
        }
        // SAFETY: libpg_query returns `len` initialised bytes at `data`,
        // malloc-ed and owned by `self` until `Drop`; the slice borrows `self`.
        unsafe { std::slice::from_raw_parts(tree.data.cast::<u8>(), tree.len) }
    }
}

impl Drop for Parsed<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from pg_query_parse_protobuf_opts and is freed
        // only here, once; the free function accepts NULL members.
        unsafe { pg_query_free_protobuf_parse_result(self.raw) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn layouts_match_the_c_header_on_this_target() {
        let word = size_of::<usize>();
        assert_eq!(size_of::<PgQueryProtobuf>(), 2 * word);
        assert_eq!(offset_of!(PgQueryProtobuf, data), word);
        assert_eq!(size_of::<PgQueryProtobufParseResult>(), 4 * word);
        assert_eq!(
            offset_of!(PgQueryProtobufParseResult, stderr_buffer),
            2 * word
        );
        assert_eq!(offset_of!(PgQueryProtobufParseResult, error), 3 * word);
        assert_eq!(offset_of!(PgQueryError, lineno), 3 * word);
        assert_eq!(offset_of!(PgQueryError, cursorpos), 3 * word + 4);
        assert_eq!(align_of::<PgQueryError>(), word);
    }

    #[test]
    fn a_good_statement_yields_a_tree_and_no_error() {
        let parsed = Parsed::new(c"SELECT 1");
        assert!(parsed.error().is_none());
        assert!(!parsed.tree().is_empty());
    }

    #[test]
    fn a_bad_statement_yields_the_error_and_no_tree() {
        let parsed = Parsed::new(c"SELEC 1");
        let error = parsed.error().unwrap();
        assert!(error.contains("syntax error"), "{error}");
        assert!(parsed.tree().is_empty());
    }
}
