//! vigil-pgtemp
