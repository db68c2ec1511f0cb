//! Accounting reaches metrics: the counters a statement's masking adds,
//! read back through a recorder installed for the test's thread only (so
//! tests running in parallel do not see each other's counts).

use super::tests::{catalog, done, layout, row, shared, tag, CUSTOMERS};
use super::*;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counter values by `name{label=value,…}`.
#[derive(Default)]
struct Counters(Arc<Mutex<BTreeMap<String, u64>>>);

struct Cell {
    name: String,
    all: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        *self
            .all
            .lock()
            .unwrap()
            .entry(self.name.clone())
            .or_default() += value;
    }

    fn absolute(&self, value: u64) {
        self.all.lock().unwrap().insert(self.name.clone(), value);
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = match labels.is_empty() {
            true => key.name().to_owned(),
            false => format!("{}{{{}}}", key.name(), labels.join(",")),
        };
        Counter::from_arc(Arc::new(Cell {
            name,
            all: self.0.clone(),
        }))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

impl Counters {
    fn get(&self, name: &str) -> u64 {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

#[test]
fn masked_values_rows_and_failures_reach_the_metrics() {
    let rec = Counters::default();
    metrics::with_local_recorder(&rec, || {
        let mut m = SessionMasker::new(shared(false), catalog(), "UTF8");
        // A classified phone column and a free-text column (detectors).
        let t = tag("SELECT phone, note FROM customers", &[]);
        let l = layout(
            1,
            &[
                ("phone", CUSTOMERS, 3, 25, 0),
                ("note", CUSTOMERS, 9, 25, 0),
            ],
        );
        m.on_row_description(Some(&t), &l);
        let rows = [
            ["+1 415 555 0100", "write to ann@example.com"],
            ["+1 415 555 0101", "ann@example.com or bob@example.org"],
            ["+1 415 555 0102", "nothing to see"],
        ];
        for r in rows {
            assert!(m.on_data_row(Some(&t), &l, &row(&r)).is_ok());
        }
        // Nothing is reported before the statement completes.
        assert_eq!(rec.get("vigil_masked_rows_total"), 0);
        done(&mut m, Some(&t));
        // A second statement whose only row fails closed.
        let q = layout(2, &[("a", 0, 0, 25, 0), ("b", 0, 0, 25, 0)]);
        assert!(m.on_data_row(None, &q, &row(&["only one"])).is_err());
    });
    assert_eq!(rec.get("vigil_masked_values_total{class=PHONE_NUMBER}"), 3);
    assert_eq!(rec.get("vigil_masked_values_total{class=EMAIL_ADDRESS}"), 3);
    assert_eq!(rec.get("vigil_masked_rows_total"), 3);
    assert_eq!(rec.get("vigil_masking_failures_total"), 1);
}

#[test]
fn a_statement_without_masked_values_adds_nothing() {
    let rec = Counters::default();
    metrics::with_local_recorder(&rec, || {
        let mut m = SessionMasker::new(shared(false), catalog(), "UTF8");
        let t = tag("SELECT note FROM orders", &[]);
        let l = layout(1, &[("note", 0, 0, 25, 0)]);
        m.on_row_description(Some(&t), &l);
        let r = m.on_data_row(Some(&t), &l, &row(&["order 42 shipped"]));
        assert_eq!(r, Ok(Rewrite::Unchanged));
        done(&mut m, Some(&t));
    });
    let all = rec.0.lock().unwrap().clone();
    assert!(all.is_empty(), "{all:?}");
}
