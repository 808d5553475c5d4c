//! Validated domain types: the data dictionary, enforced once at the edge.
//!
//! Every path into the tables (REST ingest, the historical CSV load and
//! restore) turns raw fields into these types with the same constructors, so
//! nothing past the edge can hold a row that breaks the dictionary.

mod hiring_date;
mod id;
mod name;
mod raw;
mod rejection;
mod row;

pub use hiring_date::HiringDate;
pub use id::RowId;
pub use name::Name;
pub use raw::Raw;
pub use rejection::{FieldError, Reject};
pub use row::{Department, Employee, Job, Row};
// The shared vocabulary, spoken here too.
pub use vocab::{RejectCode, Table, UnknownTable};
