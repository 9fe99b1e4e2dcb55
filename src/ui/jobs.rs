//! Background jobs: heavy work (building the database, loading extracts, queries)
//! runs on a worker thread and reports progress; the UI polls once per frame and
//! never blocks on it.

use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};

/// How far a job has got, as shown in the status bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobProgress {
    /// 0–1, or `None` while the job cannot tell.
    pub fraction: Option<f32>,
    /// What the job is doing now.
    pub message: String,
}

/// Handed to the worker so it can report progress and wake the UI.
#[derive(Clone)]
pub struct ProgressSink {
    shared: Arc<Mutex<JobProgress>>,
    repaint: egui::Context,
}

impl ProgressSink {
    /// Records progress and asks the UI for a repaint so the bar moves.
    pub fn report(&self, fraction: Option<f32>, message: impl Into<String>) {
        if let Ok(mut progress) = self.shared.lock() {
            progress.fraction = fraction;
            progress.message = message.into();
        }
        self.repaint.request_repaint();
    }
}

/// A running job that will produce a `T` or an error message.
pub struct Job<T> {
    /// What the job is, for the status bar ("Importing extracts").
    pub title: String,
    receiver: Receiver<Result<T, String>>,
    progress: Arc<Mutex<JobProgress>>,
}

/// What polling a job found.
pub enum JobPoll<T> {
    Running,
    Finished(Result<T, String>),
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a new thread.
    pub fn spawn(
        title: impl Into<String>,
        ctx: &egui::Context,
        work: impl FnOnce(&ProgressSink) -> anyhow::Result<T> + Send + 'static,
    ) -> Job<T> {
        let (sender, receiver) = mpsc::channel();
        let progress = Arc::new(Mutex::new(JobProgress::default()));
        let sink = ProgressSink {
            shared: Arc::clone(&progress),
            repaint: ctx.clone(),
        };
        let title = title.into();
        let thread_name = title.clone();
        let spawned = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                let result = work(&sink).map_err(|error| crate::format::describe_error(&error));
                // The receiver is gone only if the app closed; nothing is left to tell.
                let _ = sender.send(result);
                sink.repaint.request_repaint();
            });
        if let Err(error) = spawned {
            let (failed_sender, failed_receiver) = mpsc::channel();
            let _ = failed_sender.send(Err(format!("cannot start a worker thread: {error}")));
            return Job {
                title,
                receiver: failed_receiver,
                progress,
            };
        }
        Job {
            title,
            receiver,
            progress,
        }
    }

    /// Checks, without waiting, whether the job has finished.
    pub fn poll(&self) -> JobPoll<T> {
        match self.receiver.try_recv() {
            Ok(result) => JobPoll::Finished(result),
            Err(TryRecvError::Empty) => JobPoll::Running,
            Err(TryRecvError::Disconnected) => {
                JobPoll::Finished(Err(format!("{} stopped unexpectedly", self.title)))
            }
        }
    }

    /// The latest progress report.
    pub fn progress(&self) -> JobProgress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Polls an optional job; when it has finished, takes it out and returns its result.
pub fn take_finished<T: Send + 'static>(slot: &mut Option<Job<T>>) -> Option<Result<T, String>> {
    let finished = match slot.as_ref()?.poll() {
        JobPoll::Running => return None,
        JobPoll::Finished(result) => result,
    };
    *slot = None;
    Some(finished)
}
