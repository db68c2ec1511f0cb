//! vigil-pgwire
