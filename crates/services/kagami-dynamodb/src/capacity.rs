//! ReturnConsumedCapacity: the capacity units a request consumed, by AWS's rules: a write
//! unit per started KB written, a read unit per started 4 KB read (half for an eventually
//! consistent read), each request at least one unit of its kind.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html>

use crate::generated::{Capacity as CapacityShape, ConsumedCapacity};
use crate::errors::ValidationError;
use indexmap::IndexMap;

/// Bytes of one write capacity unit.
pub const WRITE_UNIT_BYTES: usize = 1024;
/// Bytes of one read capacity unit (strongly consistent).
pub const READ_UNIT_BYTES: usize = 4096;

/// What ReturnConsumedCapacity asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    None,
    Total,
    Indexes,
}

impl Report {
    pub fn parse(value: Option<&str>) -> Result<Report, ValidationError> {
        match value {
            None | Some("NONE") => Ok(Report::None),
            Some("TOTAL") => Ok(Report::Total),
            Some("INDEXES") => Ok(Report::Indexes),
            Some(other) => Err(ValidationError::new(format!(
                "1 validation error detected: Value '{other}' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
            ))),
        }
    }
}

pub fn write_units(size: usize) -> f64 {
    size.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// Units consumed on the table and on each index by one request.
#[derive(Debug, Default, Clone)]
pub struct Consumed {
    pub table: f64,
    pub global: IndexMap<String, f64>,
    pub local: IndexMap<String, f64>,
}

impl Consumed {
    pub fn table(units: f64) -> Consumed {
        Consumed { table: units, ..Consumed::default() }
    }

    pub fn add(&mut self, other: &Consumed) {
        self.table += other.table;
        for (k, v) in &other.global {
            *self.global.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.local {
            *self.local.entry(k.clone()).or_default() += v;
        }
    }

    fn total(&self) -> f64 {
        self.table + self.global.values().sum::<f64>() + self.local.values().sum::<f64>()
    }

    /// The ConsumedCapacity of the response, if the request asked for one.
    pub fn report(&self, report: Report, table_name: &str) -> Option<ConsumedCapacity> {
        let shape = |units: f64| CapacityShape { capacity_units: Some(units), ..CapacityShape::default() };
        let indexes = |m: &IndexMap<String, f64>| (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), shape(*v))).collect());
        match report {
            Report::None => None,
            Report::Total => {
                Some(ConsumedCapacity { table_name: Some(table_name.to_string()), capacity_units: Some(self.total()), ..ConsumedCapacity::default() })
            }
            Report::Indexes => Some(ConsumedCapacity {
                table_name: Some(table_name.to_string()),
                capacity_units: Some(self.total()),
                table: Some(shape(self.table)),
                global_secondary_indexes: indexes(&self.global),
                local_secondary_indexes: indexes(&self.local),
                ..ConsumedCapacity::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_documented_rounding() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(10, false), 0.5);
    }
}
