//! The masking response phase: vigil-mask on the data path, between
//! "server message" and "client". Every message that can carry data —
//! DataRow (text and binary), CopyData of COPY … TO STDOUT (text, CSV,
//! binary), ErrorResponse/NoticeResponse, NotificationResponse and
//! ParameterStatus — is masked in a stream, one message at a time, and
//! forwarded unchanged (zero-copy) when nothing in it is sensitive.
//!
//! Rules per statement: the policy decision's `mask` output (carried on
//! the response tag, [`crate::tag::Decided`]) over `[masking] default`;
//! without a decision, the default alone. Columns are classified by the
//! catalog `vigil classify` writes (table OID + attribute number, so an
//! alias does not hide a column); everything else goes through the value
//! detectors.
//!
//! **It fails closed**: any [`vigil_mask::MaskError`] becomes a
//! [`Failure`](vigil_proxy::respond::Failure) (SQLSTATE 58000, `vigil:
//! masking failed: …`): the message is not sent, the statement fails and
//! the session stays usable. Nothing is ever passed through raw.
//!
//! - [`settings`]: `[masking]` → key, catalogs per connection, defaults.
//! - [`session`]: the per-session [`ResponseHook`](vigil_proxy::ResponseHook).
//! - [`rules`]: policy output → [`vigil_mask::MaskRules`], cached.
//! - [`reads`]: whether a statement reads a classified column.
//! - [`copy`]: a COPY's dialect and columns, from the statement.
//! - [`key`]: the HMAC key file behind `hash`.
//! - [`classify`]: `vigil classify`: scan a database, suggest a catalog.

pub mod classify;
pub mod copy;
pub mod key;
pub mod reads;
pub mod rules;
pub mod session;
pub mod settings;

use crate::app::Services;
use crate::ServerError;
use std::sync::Arc;
use vigil_config::Config;
use vigil_proxy::respond::ResponseHookFactory;

pub use settings::Masking;

/// The masking phase for `cfg`, or `None` when `[masking] enabled = false`.
pub fn factory(
    cfg: &Config,
    _services: &Services,
) -> Result<Option<Arc<dyn ResponseHookFactory>>, ServerError> {
    if !cfg.masking.enabled {
        tracing::warn!("[masking] enabled = false: results leave unmasked");
        return Ok(None);
    }
    Ok(Some(Arc::new(Masking::from_config(cfg)?)))
}
