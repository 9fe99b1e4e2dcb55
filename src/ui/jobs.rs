//! Background jobs: heavy work (building the database, loading extracts, queries)
//! runs on a worker thread and reports progress; the UI polls once per frame and
//! never blocks on it.

use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};

use duckdb::Connection;

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

/// The open database, as the UI thread holds it: it cannot run a query, only
/// hand the database to a job, whose worker makes its own connection
/// (`Connection::try_clone`, a new connection to the same instance) on its own
/// thread. So no database call can be written on the frame: there is no
/// connection there to call it on.
pub struct Database {
    root: Arc<Mutex<Connection>>,
}

impl Database {
    /// Keeps `conn` (opened on a worker) as the root every job connects through.
    pub fn new(conn: Connection) -> Database {
        Database {
            root: Arc::new(Mutex::new(conn)),
        }
    }
}

/// A [`Database`] on its way to a worker, which connects there.
struct Connector {
    root: Arc<Mutex<Connection>>,
}

impl Connector {
    /// A new connection to the database, made on the calling (worker) thread.
    fn connect(&self) -> anyhow::Result<Connection> {
        let root = self.root.lock().unwrap_or_else(PoisonError::into_inner);
        root.try_clone()
            .map_err(|error| anyhow::anyhow!("cannot open a database connection: {error}"))
    }
}

/// Every job the shell runs, each with its kind: one place to start, poll and
/// show them, so busy state and the status bar cover every job and a new kind
/// of work is one variant, not a new slot with its own polling.
pub struct JobQueue<K, T> {
    running: Vec<(K, Job<T>)>,
}

impl<K, T> Default for JobQueue<K, T> {
    fn default() -> JobQueue<K, T> {
        JobQueue {
            running: Vec::new(),
        }
    }
}

impl<K: Copy + PartialEq, T: Send + 'static> JobQueue<K, T> {
    /// Starts `work` on a worker thread as a job of `kind`.
    pub fn start(
        &mut self,
        kind: K,
        title: impl Into<String>,
        ctx: &egui::Context,
        work: impl FnOnce(&ProgressSink) -> anyhow::Result<T> + Send + 'static,
    ) {
        self.running.push((kind, Job::spawn(title, ctx, work)));
    }

    /// Starts `work` on a worker thread as a job of `kind`, with a connection to
    /// `database` made on that thread.
    pub fn start_on(
        &mut self,
        database: &Database,
        kind: K,
        title: impl Into<String>,
        ctx: &egui::Context,
        work: impl FnOnce(&ProgressSink, &Connection) -> anyhow::Result<T> + Send + 'static,
    ) {
        let connector = Connector {
            root: Arc::clone(&database.root),
        };
        self.start(kind, title, ctx, move |sink| {
            let conn = connector.connect()?;
            work(sink, &conn)
        });
    }

    /// True while a job of `kind` runs.
    pub fn is_running(&self, kind: K) -> bool {
        self.running.iter().any(|(running, _)| *running == kind)
    }

    /// True while any job runs.
    pub fn is_busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Takes out the jobs that have finished since the last call, in the order they
    /// were started.
    pub fn take_finished(&mut self) -> Vec<(K, Result<T, String>)> {
        let mut finished = Vec::new();
        let mut still_running = Vec::new();
        for (kind, job) in self.running.drain(..) {
            match job.poll() {
                JobPoll::Running => still_running.push((kind, job)),
                JobPoll::Finished(result) => finished.push((kind, result)),
            }
        }
        self.running = still_running;
        finished
    }

    /// The title and progress of every running job, in the order they were started.
    pub fn progress(&self) -> Vec<(String, JobProgress)> {
        self.running
            .iter()
            .map(|(_, job)| (job.title.clone(), job.progress()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::JobQueue;

    #[test]
    fn the_queue_reports_each_job_with_its_kind_once_it_has_finished() {
        let ctx = egui::Context::default();
        let mut queue: JobQueue<char, u32> = JobQueue::default();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        queue.start('a', "first", &ctx, |_| Ok(1));
        queue.start('b', "second", &ctx, move |sink| {
            sink.report(Some(0.5), "half way");
            wait.recv()?;
            Ok(2)
        });
        queue.start('c', "third", &ctx, |_| anyhow::bail!("no such file"));
        let mut finished = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while finished.len() < 2 && std::time::Instant::now() < deadline {
            finished.extend(queue.take_finished());
        }
        // Jobs finish in whatever order their threads run; each is reported once.
        finished.sort_by_key(|(kind, _)| *kind);
        assert_eq!(
            finished,
            [('a', Ok(1)), ('c', Err("no such file".to_string()))]
        );
        assert!(queue.is_running('b') && !queue.is_running('a'));
        assert!(queue.is_busy());
        while queue.progress()[0].1.message.is_empty() {
            std::thread::yield_now();
        }
        let progress = queue.progress();
        assert_eq!(progress.len(), 1);
        assert_eq!(progress[0].0, "second");
        assert_eq!(progress[0].1.fraction, Some(0.5));
        release.send(()).expect("the job waits");
        let mut last = Vec::new();
        while last.is_empty() && std::time::Instant::now() < deadline {
            last = queue.take_finished();
        }
        assert_eq!(last, [('b', Ok(2))]);
        assert!(!queue.is_busy());
    }
}
