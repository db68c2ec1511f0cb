//! Per-statement accounting for the audit trail: how many values of each
//! classification were masked, and in how many rows.

use crate::Classification;
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts for one classification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassStats {
    /// Values (whole column values or detected spans) masked.
    pub values: u64,
    /// Rows (or messages) in which at least one was masked.
    pub rows: u64,
}

/// Masking counts by classification; mergeable across messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaskStats {
    pub by_class: BTreeMap<Classification, ClassStats>,
    /// Rows (or messages) with any masked value.
    pub rows_touched: u64,
    /// Values turned into NULL because no safe text form exists.
    pub nulled: u64,
}

impl MaskStats {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &MaskStats) {
        for (class, s) in &other.by_class {
            let mine = self.by_class.entry(class.clone()).or_default();
            mine.values += s.values;
            mine.rows += s.rows;
        }
        self.rows_touched += other.rows_touched;
        self.nulled += other.nulled;
    }

    /// Total values masked.
    pub fn values(&self) -> u64 {
        self.by_class.values().map(|s| s.values).sum()
    }

    pub(crate) fn commit(&mut self, row: &mut RowTally) {
        if row.classes.is_empty() {
            return;
        }
        self.rows_touched += 1;
        self.nulled += row.nulled;
        for (class, n) in row.classes.drain(..) {
            let s = self.by_class.entry(class).or_default();
            s.values += n;
            s.rows += 1;
        }
        row.nulled = 0;
    }
}

/// What one row (or message) masked, before it is committed to the stats.
#[derive(Debug, Default)]
pub(crate) struct RowTally {
    classes: Vec<(Classification, u64)>,
    nulled: u64,
}

impl RowTally {
    pub(crate) fn add(&mut self, class: &Classification) {
        match self.classes.iter_mut().find(|(c, _)| c == class) {
            Some((_, n)) => *n += 1,
            None => self.classes.push((class.clone(), 1)),
        }
    }

    /// A value nulled after its spans were already counted.
    pub(crate) fn null(&mut self) {
        self.nulled += 1;
    }

    pub(crate) fn add_null(&mut self, class: &Classification) {
        self.add(class);
        self.nulled += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_once_per_class_and_merge_adds() {
        let mut stats = MaskStats::default();
        let mut row = RowTally::default();
        row.add(&Classification::EMAIL_ADDRESS);
        row.add(&Classification::EMAIL_ADDRESS);
        row.add_null(&Classification::US_SSN);
        stats.commit(&mut row);
        stats.commit(&mut row); // empty: no row counted
        let e = stats.by_class[&Classification::EMAIL_ADDRESS];
        assert_eq!(
            (e.values, e.rows, stats.rows_touched, stats.nulled),
            (2, 1, 1, 1)
        );
        let mut total = stats.clone();
        total.merge(&stats);
        assert_eq!(total.values(), 6);
        assert_eq!(total.rows_touched, 2);
        let json = serde_json::to_string(&total).unwrap();
        assert!(
            json.contains("\"EMAIL_ADDRESS\":{\"values\":4,\"rows\":2}"),
            "{json}"
        );
    }
}
