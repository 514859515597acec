//! Work on the libuv thread pool: a job resolving to JSON text, its panics
//! caught and its errors rejected as the same JS errors as sync calls.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;

use tad_store_core::Error as CoreError;

use crate::errors::error_object;

/// A job run on the libuv thread pool, resolving to a string (JSON). Panics
/// are caught there too; errors reject with the same JS errors as sync calls.
pub struct Job {
    work: Option<Box<dyn FnOnce() -> tad_store_core::Result<String> + Send>>,
    failure: Option<CoreError>,
}

impl Job {
    pub(crate) fn task(
        f: impl FnOnce() -> tad_store_core::Result<String> + Send + 'static,
    ) -> AsyncTask<Job> {
        AsyncTask::new(Job {
            work: Some(Box::new(f)),
            failure: None,
        })
    }
}

impl Task for Job {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        let r = match self.work.take() {
            Some(f) => catch_unwind(AssertUnwindSafe(f))
                .unwrap_or_else(|p| Err(CoreError::from_panic(&*p, "a background task"))),
            None => Err(CoreError::Internal("a task ran twice".into())),
        };
        r.map_err(|e| {
            let m = napi::Error::new(Status::GenericFailure, e.to_string());
            self.failure = Some(e);
            m
        })
    }

    fn resolve(&mut self, _env: Env, output: String) -> Result<String> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> Result<String> {
        match self.failure.take() {
            Some(e) => {
                let obj = error_object(&env, &e)?;
                Err(napi::Error::from(obj.to_unknown()))
            }
            None => Err(err),
        }
    }
}
