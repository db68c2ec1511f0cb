//! Dynamic data masking: the step between "server message" and "client" in
//! Vigil's data path. Every outbound message that can carry data goes
//! through a masker here — DataRow (text and binary), CopyData (text, CSV,
//! binary), ErrorResponse/NoticeResponse, NotificationResponse and
//! ParameterStatus — and comes back either unchanged (forward the original
//! bytes) or re-encoded with correct lengths.
//!
//! Two mechanisms work together:
//! - **Column classification**: a [`Catalog`] maps the table OID and column
//!   number that RowDescription reports to a [`Classification`], so a
//!   classified column is masked whatever alias or view the query used.
//! - **Value detectors**: [`Detectors`] find emails, phones, SSNs, cards
//!   (Luhn), IBANs (mod 97), IP addresses, JWTs, cloud and API keys, private
//!   keys and password hashes anywhere inside any text value, JSON document,
//!   composite row or error message, with zero configuration.
//!
//! Strategies ([`Strategy`]) come from the policy decision through
//! [`MaskRules`]; anything not named is still masked by default.
//!
//! **It fails closed.** Anything that cannot be decoded or masked — a
//! truncated DataRow, a wrong value count, a broken COPY stream, an
//! encoding that cannot round-trip, a refused classification — is a
//! [`MaskError`]; the caller must not forward the original bytes and fails
//! the statement with SQLSTATE 58000 `vigil: masking failed`.
//!
//! The crate is pure: no sockets, no tokio, no clock.
//!
//! # What value-based detection cannot catch
//! Detectors see values, not meaning. These leave unmasked unless the
//! column is classified in the catalog (and computed columns of a statement
//! that read a classified column are masked wholesale by the caller's
//! `wholesale_computed` flag):
//! - **encodings of a value**: `encode(email::bytea, 'base64')`, `md5(ssn)`,
//!   hex, `reverse()`, `upper()`-then-split, one character per row;
//! - **hashes and digests** of PII (they are not the value, but can be
//!   matched against a dictionary of known values);
//! - **inference**: `WHERE ssn LIKE '123%'` probing, `count(*)` oracles,
//!   `length()`, sorting or timing — the answer is not the value itself;
//! - **unstructured PII** without a checksum or fixed shape: names,
//!   addresses, dates of birth, free-text notes (column classification
//!   covers them);
//! - **formats outside the detectors' shapes**: bare 10-digit national
//!   phone numbers without `+`, non-NANP national formats, bare 9-digit
//!   SSNs without an `ssn`/`social` keyword nearby, standalone AWS secret
//!   keys without `/` or `+`, IPv6 with fewer than three groups;
//! - **binary values** of types Vigil cannot re-encode (arrays, records)
//!   are not rewritten: a detector hit there fails the statement instead.
//!
//! # Modules
//! - [`detect`]: the value detectors and their prefilter.
//! - [`validate`]: checksums and ranges (Luhn, IBAN mod 97, SSN ranges).
//! - [`strategy`], [`rules`]: how values are replaced, and which way for
//!   which classification or column.
//! - [`catalog`], [`classify`]: classified columns and suggesting them.
//! - [`wire`]: the message maskers (row, copy, notice).
//! - [`stats`]: per-statement counts for the audit trail.

pub mod catalog;
pub mod class;
pub mod classify;
pub mod detect;
pub mod error;
pub mod rules;
pub mod stats;
pub mod strategy;
mod text;
pub mod validate;
pub mod wire;

pub use catalog::{Catalog, CatalogEntry, TableColumns};
pub use class::Classification;
pub use detect::{Detectors, Kind, Span};
pub use error::MaskError;
pub use rules::MaskRules;
pub use stats::MaskStats;
pub use strategy::{HashKey, Strategy};
pub use wire::copy::{ColumnMask, CopyFormat, CopyMasker};
pub use wire::notice::mask_error_or_notice;
pub use wire::notify::{mask_notification, mask_parameter_status};
pub use wire::row::{mask_data_row, ColumnPlan, RowPlan};
pub use wire::types::TypeClass;
pub use wire::Outcome;
