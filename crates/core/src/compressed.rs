//! Input files that may be gzip-compressed: a name ending in `.gz` is read through
//! a decoder (of every member, as `gzip` concatenates them), anything else as is.
//! One rule for extracts, lookups and boundary files alike.

use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

/// True when `path`'s name ends in `.gz`.
pub fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// A buffered reader of `inner` (the contents of `path`), decompressed when `path`
/// is gzip.
pub fn reader<R: Read + 'static>(path: &Path, inner: R) -> Box<dyn Read> {
    if is_gzip(path) {
        Box::new(BufReader::new(MultiGzDecoder::new(BufReader::new(inner))))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, inner))
    }
}
