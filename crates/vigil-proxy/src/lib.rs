//! vigil-proxy
