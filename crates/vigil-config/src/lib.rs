//! vigil-config
