//! Whether the service may serve the data yet.
//!
//! The service listens as soon as it starts, so that `/health`, `/docs` and
//! `/ready` answer while it waits for the database, applies migrations and
//! loads the historical files. Until then every `/api/` request gets a 503
//! saying what it waits for.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Readiness {
    ready: AtomicBool,
    /// What the service is doing while not ready, for people.
    status: Mutex<&'static str>,
}

impl Readiness {
    pub fn starting() -> Readiness {
        Readiness {
            ready: AtomicBool::new(false),
            status: Mutex::new("the service is starting"),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn status(&self) -> &'static str {
        *self
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_status(&self, status: &'static str) {
        *self
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = status;
    }

    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
}
