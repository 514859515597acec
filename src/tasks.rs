//! Work on the libuv thread pool: `work` runs on a worker thread, then
//! `finish` on the JS thread with its result (restore and rollback apply
//! there what the worker prepared, so JS holds no token between the two).
//! Panics are caught on both threads; errors reject with the same JS errors
//! as sync calls.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;

use tad_store_core::Error as CoreError;

use crate::errors::error_object;

type Work<T> = Box<dyn FnOnce() -> tad_store_core::Result<T> + Send>;
type Finish<T, R> = Box<dyn FnOnce(T) -> tad_store_core::Result<R> + Send>;

/// A job: `work` on the thread pool, then `finish` on the JS thread.
pub struct Job<T: Send + 'static, R: 'static> {
    work: Option<Work<T>>,
    finish: Option<Finish<T, R>>,
    failure: Option<CoreError>,
}

impl<T: Send + ToNapiValue + TypeName + 'static> Job<T, T> {
    /// A job whose result is the worker's.
    pub(crate) fn task(
        work: impl FnOnce() -> tad_store_core::Result<T> + Send + 'static,
    ) -> AsyncTask<Job<T, T>> {
        Job::then(work, Ok)
    }
}

impl<T: Send + 'static, R: ToNapiValue + TypeName + 'static> Job<T, R> {
    /// A job that prepares on the thread pool and applies on the JS thread.
    pub(crate) fn then(
        work: impl FnOnce() -> tad_store_core::Result<T> + Send + 'static,
        finish: impl FnOnce(T) -> tad_store_core::Result<R> + Send + 'static,
    ) -> AsyncTask<Job<T, R>> {
        AsyncTask::new(Job {
            work: Some(Box::new(work)),
            finish: Some(Box::new(finish)),
            failure: None,
        })
    }
}

/// The JS error for `e`, as a rejection.
fn rejection(env: &Env, e: &CoreError) -> Error {
    match error_object(env, e) {
        Ok(obj) => Error::from(obj.to_unknown()),
        Err(err) => err,
    }
}

impl<T: Send + 'static, R: ToNapiValue + TypeName + 'static> Task for Job<T, R> {
    type Output = T;
    type JsValue = R;

    fn compute(&mut self) -> Result<T> {
        let r = match self.work.take() {
            Some(f) => catch_unwind(AssertUnwindSafe(f))
                .unwrap_or_else(|p| Err(CoreError::from_panic(&*p, "a background task"))),
            None => Err(CoreError::Internal("a task ran twice".into())),
        };
        r.map_err(|e| {
            let m = Error::new(Status::GenericFailure, e.to_string());
            self.failure = Some(e);
            m
        })
    }

    fn resolve(&mut self, env: Env, output: T) -> Result<R> {
        let r = match self.finish.take() {
            Some(f) => catch_unwind(AssertUnwindSafe(move || f(output)))
                .unwrap_or_else(|p| Err(CoreError::from_panic(&*p, "finishing a task"))),
            None => Err(CoreError::Internal("a task finished twice".into())),
        };
        r.map_err(|e| rejection(&env, &e))
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<R> {
        match self.failure.take() {
            Some(e) => Err(rejection(&env, &e)),
            None => Err(err),
        }
    }
}
