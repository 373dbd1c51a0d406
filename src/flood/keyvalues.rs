//! A peer's key-values file (`<id>: <name>` per line) and the chunks it names, loaded into memory.
//!
//! Tolerant of what files in the wild contain: trailing spaces, CRLF line ends, a missing final
//! newline, blank lines, `#` comments, a UTF-8 byte-order mark, and names given bare
//! (`BigBuckBunny_5.m4s`) or with a path (`5: path/to/BigBuckBunny_5.m4s`). A relative name is
//! looked up beside the key-values file first, then in the current directory. Strict about what
//! would make the peer lie: a malformed line, a repeated id, a chunk file that is missing or
//! larger than 1024 bytes stops the peer at start-up with the file and line named.
//!
//! No sockets here; this module only reads files.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use log::warn;

use super::message::MAX_CHUNK_SIZE;

/// One line of a key-values file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: u16,
    pub name: String,
    /// 1-based line number, for error messages.
    pub line: usize,
}

/// The chunks a peer serves, by id, each at most [`MAX_CHUNK_SIZE`] bytes.
#[derive(Debug, Default, Clone)]
pub struct ChunkStore {
    chunks: BTreeMap<u16, Vec<u8>>,
}

impl ChunkStore {
    /// A store built from bytes in memory (tests, sample data).
    pub fn from_chunks(chunks: BTreeMap<u16, Vec<u8>>) -> Self {
        Self { chunks }
    }

    pub fn get(&self, id: u16) -> Option<&[u8]> {
        self.chunks.get(&id).map(Vec::as_slice)
    }

    /// The ids of `wanted` held here, in the order asked, each once.
    pub fn held_of(&self, wanted: &[u16]) -> Vec<u16> {
        let mut held = Vec::new();
        for id in wanted {
            if self.chunks.contains_key(id) && !held.contains(id) {
                held.push(*id);
            }
        }
        held
    }

    pub fn ids(&self) -> Vec<u16> {
        self.chunks.keys().copied().collect()
    }
}

/// Why a key-values file cannot be served.
#[derive(Debug)]
pub enum KeyValuesError {
    /// The key-values file or a chunk file it names does not exist.
    Missing { path: PathBuf, source: io::Error },
    /// Any other failure to read a file.
    Io { path: PathBuf, source: io::Error },
    /// A line that is not `<id>: <name>`, a repeated id, a file that is not UTF-8.
    Syntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A chunk file larger than one RESPONSE can carry.
    ChunkTooLarge { path: PathBuf, id: u16, size: u64 },
}

impl fmt::Display for KeyValuesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { path, source } => {
                write!(f, "{}: file not found ({source})", path.display())
            }
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Syntax { path, line, reason } => {
                write!(f, "{}:{line}: {reason}", path.display())
            }
            Self::ChunkTooLarge { path, id, size } => write!(
                f,
                "{}: chunk {id} is {size} bytes, a chunk holds at most {MAX_CHUNK_SIZE}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for KeyValuesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Missing { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Parses the text of a key-values file. `path` only names the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, KeyValuesError> {
    let syntax = |line: usize, reason: String| KeyValuesError::Syntax {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries: Vec<Entry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let Some((key, name)) = content.split_once(':') else {
            return Err(syntax(
                line,
                format!("expected `<id>: <name>`, found `{content}`"),
            ));
        };
        let id: u16 = key.trim().parse().map_err(|_| {
            syntax(
                line,
                format!("`{}` is not a chunk id (0 to 65535)", key.trim()),
            )
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(syntax(line, format!("chunk {id} has no file name")));
        }
        if let Some(first) = entries.iter().find(|e| e.id == id) {
            return Err(syntax(
                line,
                format!("chunk {id} is listed twice (first on line {})", first.line),
            ));
        }
        entries.push(Entry {
            id,
            name: name.to_string(),
            line,
        });
    }
    Ok(entries)
}

/// Reads the key-values file at `path` and every chunk it names.
pub fn load(path: &Path) -> Result<ChunkStore, KeyValuesError> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    let text = String::from_utf8(bytes).map_err(|_| KeyValuesError::Syntax {
        path: path.to_path_buf(),
        line: 0,
        reason: "not UTF-8 text".to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut chunks = BTreeMap::new();
    for entry in parse(&text, path)? {
        let expected = format!("BigBuckBunny_{}.m4s", entry.id);
        if Path::new(&entry.name).file_name() != Some(expected.as_ref()) {
            warn!(
                "{}:{}: chunk {} is named `{}`, the convention is `{expected}`",
                path.display(),
                entry.line,
                entry.id,
                entry.name
            );
        }
        let chunk_path = resolve(base, &entry.name);
        chunks.insert(entry.id, read_chunk(&chunk_path, entry.id)?);
    }
    Ok(ChunkStore { chunks })
}

/// A relative name is taken beside the key-values file when it exists there, else as given
/// (relative to the current directory).
fn resolve(base: &Path, name: &str) -> PathBuf {
    let name = Path::new(name);
    if name.is_absolute() {
        return name.to_path_buf();
    }
    let beside = base.join(name);
    if beside.exists() {
        beside
    } else {
        name.to_path_buf()
    }
}

/// Reads at most one byte more than a chunk may hold, so a huge file is refused without being
/// read whole.
fn read_chunk(path: &Path, id: u16) -> Result<Vec<u8>, KeyValuesError> {
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let mut data = Vec::with_capacity(MAX_CHUNK_SIZE + 1);
    file.take(MAX_CHUNK_SIZE as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|source| io_error(path, source))?;
    if data.len() > MAX_CHUNK_SIZE {
        let size = std::fs::metadata(path).map_or(data.len() as u64, |m| m.len());
        return Err(KeyValuesError::ChunkTooLarge {
            path: path.to_path_buf(),
            id,
            size,
        });
    }
    Ok(data)
}

fn io_error(path: &Path, source: io::Error) -> KeyValuesError {
    let path = path.to_path_buf();
    if source.kind() == io::ErrorKind::NotFound {
        KeyValuesError::Missing { path, source }
    } else {
        KeyValuesError::Io { path, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(u16, String)> {
        parse(text, Path::new("kv"))
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect()
    }

    #[test]
    fn tolerates_trailing_spaces_crlf_and_no_final_newline() {
        let text = "\u{feff}5: BigBuckBunny_5.m4s   \r\n\r\n# held by peer1\n6:BigBuckBunny_6.m4s\t\n 7 :  dir/BigBuckBunny_7.m4s";
        assert_eq!(
            ids(text),
            vec![
                (5, "BigBuckBunny_5.m4s".to_string()),
                (6, "BigBuckBunny_6.m4s".to_string()),
                (7, "dir/BigBuckBunny_7.m4s".to_string()),
            ]
        );
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        for (text, line) in [
            ("5: a\nnonsense\n", 2),
            ("x: a\n", 1),
            ("70000: a\n", 1),
            ("5:   \n", 1),
            ("5: a\n6: b\n5: c\n", 3),
        ] {
            match parse(text, Path::new("kv")) {
                Err(KeyValuesError::Syntax { line: got, .. }) => assert_eq!(got, line, "{text:?}"),
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn held_of_keeps_the_order_asked_and_drops_repeats() {
        let store = ChunkStore::from_chunks([(1, vec![1]), (3, vec![3])].into_iter().collect());
        assert_eq!(store.held_of(&[3, 2, 1, 3]), vec![3, 1]);
        assert!(store.held_of(&[4]).is_empty());
    }
}
