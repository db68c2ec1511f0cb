//! Placeholder: the SQL classifier output is defined by the vigil-sql work.
