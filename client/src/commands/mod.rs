pub mod add_records;
pub mod backups;
pub mod rejects;
pub mod reports;
pub mod rows;

use std::path::PathBuf;

/// What every command may need of the global options.
pub struct Context {
    /// The API's base URL.
    pub url: String,
    /// The folder shared with the API (incoming/, secrets/).
    pub shared_dir: PathBuf,
    pub quiet: bool,
    pub verbose: bool,
}
