//! Output files for the generator: plain buffered files, or gzip files compressed
//! on a worker thread each, so compression runs on the other core while families
//! are generated. The gzip header is fixed (no name, mtime 0), so the same rows
//! give the same bytes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::{Compression, GzBuilder};

/// gzip level: 1 compresses several times faster than the default 6, for files a
/// little larger; generating half a million families quickly matters more.
const GZIP_LEVEL: u32 = 1;

/// Bytes handed to a compression worker at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks that may wait for a worker before the generator blocks (bounds memory).
const QUEUE: usize = 8;

/// A file being written, plainly or through a gzip worker.
pub enum Sink {
    /// Uncompressed, through a large buffer.
    Plain(BufWriter<File>),
    /// Compressed on a worker thread; `pending` collects the next chunk.
    Gzip {
        pending: Vec<u8>,
        sender: Option<SyncSender<Vec<u8>>>,
        worker: Option<JoinHandle<io::Result<()>>>,
    },
}

impl Sink {
    /// Creates `path`, gzip-compressed when `gzip` is set.
    pub fn create(path: &Path, gzip: bool) -> io::Result<Sink> {
        let file = File::create(path)?;
        if !gzip {
            return Ok(Sink::Plain(BufWriter::with_capacity(1 << 20, file)));
        }
        let (sender, receiver) = sync_channel::<Vec<u8>>(QUEUE);
        let worker = std::thread::Builder::new()
            .name("synth-gzip".to_string())
            .spawn(move || {
                let mut encoder = GzBuilder::new().mtime(0).write(
                    BufWriter::with_capacity(1 << 20, file),
                    Compression::new(GZIP_LEVEL),
                );
                for chunk in receiver {
                    encoder.write_all(&chunk)?;
                }
                encoder.finish()?.flush()
            })?;
        Ok(Sink::Gzip {
            pending: Vec::with_capacity(CHUNK),
            sender: Some(sender),
            worker: Some(worker),
        })
    }

    fn send_pending(&mut self) -> io::Result<()> {
        let Sink::Gzip {
            pending, sender, ..
        } = self
        else {
            return Ok(());
        };
        if pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(pending, Vec::with_capacity(CHUNK));
        match sender {
            Some(sender) if sender.send(chunk).is_ok() => Ok(()),
            // The worker stopped: its own error is reported by `finish`.
            _ => Err(io::Error::other("the compression worker stopped")),
        }
    }

    /// Writes what is left, waits for compression to end, and reports any error.
    pub fn finish(mut self) -> io::Result<()> {
        let sent = self.send_pending();
        match &mut self {
            Sink::Plain(writer) => writer.flush(),
            Sink::Gzip { sender, worker, .. } => {
                // Closing the channel ends the worker's loop.
                drop(sender.take());
                let result = match worker.take().map(JoinHandle::join) {
                    Some(Ok(result)) => result,
                    Some(Err(_)) => Err(io::Error::other("the compression worker panicked")),
                    None => Ok(()),
                };
                result.and(sent)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(writer) => writer.write(data),
            Sink::Gzip { pending, .. } => {
                pending.extend_from_slice(data);
                if pending.len() >= CHUNK {
                    self.send_pending()?;
                }
                Ok(data.len())
            }
        }
    }

    /// Hands over complete chunks only; the tail goes at `finish`, so that flushes by
    /// the CSV writer do not change where chunks (and so compressed blocks) end.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(writer) => writer.flush(),
            Sink::Gzip { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_round_trips_and_is_repeatable() {
        let dir = tempfile::tempdir().expect("temp");
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i},row\n").into_bytes())
            .collect();
        let mut bytes = Vec::new();
        for name in ["a.gz", "b.gz"] {
            let path = dir.path().join(name);
            let mut sink = Sink::create(&path, true).expect("create");
            for piece in text.chunks(1000) {
                sink.write_all(piece).expect("write");
                sink.flush().expect("flush");
            }
            sink.finish().expect("finish");
            bytes.push(std::fs::read(&path).expect("read"));
        }
        assert_eq!(bytes[0], bytes[1], "same input, same bytes");
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(bytes[0].as_slice())
            .read_to_end(&mut unpacked)
            .expect("gunzip");
        assert_eq!(unpacked, text);
    }
}
