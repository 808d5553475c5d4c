pub mod add_records;
pub mod backups;
pub mod rejects;
pub mod reports;
pub mod rows;
