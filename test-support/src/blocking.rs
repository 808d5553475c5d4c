//! The test server for synchronous tests (the client's, which run a binary
//! and wait for it): the app on a runtime of its own.

use crate::{Engine, TestApp, app};
use api::config::Config;
use std::path::Path;

pub struct BlockingApp {
    pub app: TestApp,
    /// Declared last: dropped after the app, which stops on it.
    runtime: tokio::runtime::Runtime,
}

impl BlockingApp {
    /// Starts the API on a fresh database of `engine`, with the files
    /// `write_data` puts in its data folder and `tweak` applied to its
    /// configuration, and waits until it is ready.
    pub fn start(
        engine: Engine,
        write_data: impl FnOnce(&Path),
        tweak: impl Fn(&mut Config) + Send + Sync + 'static,
    ) -> BlockingApp {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let app = runtime.block_on(async {
            let mut app = app::unstarted(engine, write_data, tweak).await;
            app.start().await;
            app
        });
        BlockingApp { app, runtime }
    }

    /// Runs `call` against the app to completion.
    pub fn block_on<'a, F: Future>(&'a self, call: impl FnOnce(&'a TestApp) -> F) -> F::Output {
        self.runtime.block_on(call(&self.app))
    }

    pub fn url(&self) -> &str {
        &self.app.address
    }

    pub fn shared_dir(&self) -> &Path {
        self.app.shared_dir.path()
    }
}
