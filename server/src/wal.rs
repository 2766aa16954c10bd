//! Durability: the write-ahead log and snapshot files, laid out like etcd's data directory.
//!
//! ```text
//! <data-dir>/member/wal/0000000000000001.wal   log segments, replayed in order
//! <data-dir>/member/snap/<term>-<index>.snap   snapshots (the whole state machine)
//! ```
//!
//! Every change the Raft node makes to its storage is a [`PersistWrite`]; the WAL writes each
//! as a record `[length u32][crc32 u32][kind u8][payload]` and `fsync`s when raft-rs says the
//! write must be durable before anything else happens. Recovery replays every record onto an
//! empty storage. A record cut short or damaged at the *end* of the last segment is what a
//! crash in mid-write leaves: it is dropped (the file is truncated there) and the member
//! starts from the records before it, which were all that was ever acknowledged. Damage
//! anywhere else is corruption, and the member refuses to start rather than guess.
//!
//! When the node takes or installs a snapshot, the snapshot goes to its own file and the WAL
//! starts a new segment holding just the state after it (a reference to the snapshot, the
//! entries after it, the hard state); older segments and snapshots are then removed.
//!
//! A snapshot the node *takes* is written by a thread of its own, while the member goes on:
//! encoding and fsyncing a whole store takes long enough to hold up every request (a put's
//! p99 at 500 clients went from about 120 to 500 ms when a snapshot fell in the measurement).
//! Nothing waits for it, because the old segments still hold everything the snapshot does;
//! the new segment starts once the file is durable ([`Wal::settle`]). A crash before then
//! leaves a snapshot file that no segment names, which recovery ignores.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use protobuf::Message as _;
use raft::eraftpb::{Entry, HardState, Snapshot, SnapshotMetadata};
use raftbook_core::storage::{PersistWrite, RaftStorage};

const HARD_STATE: u8 = 1;
const ENTRIES: u8 = 2;
const SNAPSHOT_REF: u8 = 3;
/// A record larger than this is damage, not data.
const MAX_RECORD: u32 = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: corrupt WAL record at byte {offset} (not at the end of the last segment: refusing to guess)")]
    Corrupt { path: PathBuf, offset: u64 },
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub struct Wal {
    wal_dir: PathBuf,
    snap_dir: PathBuf,
    segment: u64,
    file: File,
    /// Bytes written since the last fsync.
    unsynced: bool,
    /// A snapshot the node took, being written to its file (see the module docs).
    writing: Option<SnapshotWriting>,
}

struct SnapshotWriting {
    metadata: SnapshotMetadata,
    written: std::thread::JoinHandle<Result<(), WalError>>,
}

/// What recovery found.
pub struct Recovered {
    pub wal: Wal,
    /// `None` for a new data directory.
    pub storage: Option<RaftStorage>,
    /// Whether a torn record at the end was dropped.
    pub dropped_torn_record: bool,
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:016x}.wal"))
}

fn snapshot_path(dir: &Path, term: u64, index: u64) -> PathBuf {
    dir.join(format!("{term:016x}-{index:016x}.snap"))
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes `snapshot` to its own file in `snap_dir` and makes it durable.
fn write_snapshot_file(snap_dir: &Path, snapshot: &Snapshot) -> Result<(), WalError> {
    let meta = snapshot.get_metadata();
    let path = snapshot_path(snap_dir, meta.term, meta.index);
    let record = encode_record(SNAPSHOT_REF, &snapshot.write_to_bytes().expect("encodes"));
    let mut file = File::create(&path).map_err(io(&path))?;
    file.write_all(&record)
        .and_then(|()| file.sync_all())
        .map_err(io(&path))?;
    sync_dir(snap_dir)
}

fn encode_record(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(payload.len() + 1);
    body.push(kind);
    body.extend_from_slice(payload);
    let mut record = Vec::with_capacity(body.len() + 8);
    record.extend_from_slice(&(body.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    record.extend_from_slice(&body);
    record
}

fn encode_entries(entries: &[Entry]) -> Vec<u8> {
    let mut payload = Vec::new();
    for entry in entries {
        let bytes = entry.write_to_bytes().expect("entries encode");
        payload.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        payload.extend_from_slice(&bytes);
    }
    payload
}

fn decode_entries(mut payload: &[u8]) -> Option<Vec<Entry>> {
    let mut entries = Vec::new();
    while !payload.is_empty() {
        let length = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
        entries.push(Entry::parse_from_bytes(payload.get(4..4 + length)?).ok()?);
        payload = &payload[4 + length..];
    }
    Some(entries)
}

impl Wal {
    /// Opens (or creates) the WAL under `data_dir`, replaying what it holds.
    pub fn open(data_dir: &Path) -> Result<Recovered, WalError> {
        let wal_dir = data_dir.join("member/wal");
        let snap_dir = data_dir.join("member/snap");
        for dir in [&wal_dir, &snap_dir] {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut segments: Vec<u64> = std::fs::read_dir(&wal_dir)
            .map_err(io(&wal_dir))?
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".wal")
                    .and_then(|s| u64::from_str_radix(s, 16).ok())
            })
            .collect();
        segments.sort_unstable();
        let mut storage: Option<RaftStorage> = None;
        let mut dropped_torn_record = false;
        for (position, &segment) in segments.iter().enumerate() {
            let last = position + 1 == segments.len();
            let path = segment_path(&wal_dir, segment);
            let mut bytes = Vec::new();
            File::open(&path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(io(&path))?;
            let mut offset = 0usize;
            while offset < bytes.len() {
                match Self::read_record(&bytes[offset..]) {
                    Some((kind, payload, length)) => {
                        let write = Self::decode(kind, payload, &snap_dir)
                            .map_err(|e| WalError::Invalid(format!("{}: {e}", path.display())))?;
                        let target = storage.get_or_insert_with(RaftStorage::empty);
                        for write in write {
                            target.write(&write);
                        }
                        offset += length;
                    }
                    None if last && Self::is_tail(&bytes[offset..]) => {
                        // A torn write from a crash: drop it, keep what came before.
                        let file = OpenOptions::new()
                            .write(true)
                            .open(&path)
                            .map_err(io(&path))?;
                        file.set_len(offset as u64)
                            .and_then(|()| file.sync_all())
                            .map_err(io(&path))?;
                        dropped_torn_record = true;
                        break;
                    }
                    None => {
                        return Err(WalError::Corrupt {
                            path,
                            offset: offset as u64,
                        })
                    }
                }
            }
        }
        let segment = segments.last().copied().unwrap_or(1);
        let path = segment_path(&wal_dir, segment);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        if segments.is_empty() {
            sync_dir(&wal_dir)?;
        }
        let wal = Wal {
            wal_dir,
            snap_dir,
            segment,
            file,
            unsynced: false,
            writing: None,
        };
        Ok(Recovered {
            wal,
            storage: storage.map(|s| s.recovered()),
            dropped_torn_record,
        })
    }

    /// Whether a bad record is the last thing in the file, as a write cut short by a crash
    /// leaves it (rather than damage with good records after it).
    fn is_tail(bytes: &[u8]) -> bool {
        let Some(length) = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize)
        else {
            return true;
        };
        length == 0 && bytes.iter().all(|&b| b == 0) || 8 + length >= bytes.len()
    }

    /// One whole record at the start of `bytes`: (kind, payload, its length in bytes).
    fn read_record(bytes: &[u8]) -> Option<(u8, &[u8], usize)> {
        let length = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
        if length == 0 || length > MAX_RECORD {
            return None;
        }
        let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
        let body = bytes.get(8..8 + length as usize)?;
        (crc32fast::hash(body) == crc).then(|| (body[0], &body[1..], 8 + length as usize))
    }

    fn decode(kind: u8, payload: &[u8], snap_dir: &Path) -> Result<Vec<PersistWrite>, String> {
        Ok(match kind {
            HARD_STATE => vec![PersistWrite::HardState(
                HardState::parse_from_bytes(payload).map_err(|e| e.to_string())?,
            )],
            ENTRIES => vec![PersistWrite::Append(
                decode_entries(payload).ok_or("bad entries record")?,
            )],
            SNAPSHOT_REF => {
                let term = u64::from_le_bytes(
                    payload
                        .get(..8)
                        .ok_or("bad snapshot record")?
                        .try_into()
                        .expect("8"),
                );
                let index = u64::from_le_bytes(
                    payload
                        .get(8..16)
                        .ok_or("bad snapshot record")?
                        .try_into()
                        .expect("8"),
                );
                vec![PersistWrite::InstallSnapshot(Self::read_snapshot(
                    snap_dir, term, index,
                )?)]
            }
            other => return Err(format!("unknown record kind {other}")),
        })
    }

    fn read_snapshot(snap_dir: &Path, term: u64, index: u64) -> Result<Snapshot, String> {
        let path = snapshot_path(snap_dir, term, index);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (kind, payload, _) = Self::read_record(&bytes)
            .ok_or_else(|| format!("{}: damaged snapshot", path.display()))?;
        if kind != SNAPSHOT_REF {
            return Err(format!("{}: not a snapshot", path.display()));
        }
        Snapshot::parse_from_bytes(payload).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn append(&mut self, kind: u8, payload: &[u8]) -> Result<(), WalError> {
        let path = segment_path(&self.wal_dir, self.segment);
        self.file
            .write_all(&encode_record(kind, payload))
            .map_err(io(&path))?;
        self.unsynced = true;
        Ok(())
    }

    /// Writes one change. `storage` is the node's storage *after* the change (it is what a
    /// new segment starts from when the change is a snapshot).
    pub fn write(&mut self, write: &PersistWrite, storage: &RaftStorage) -> Result<(), WalError> {
        match write {
            PersistWrite::HardState(hard_state) => {
                self.append(HARD_STATE, &hard_state.write_to_bytes().expect("encodes"))
            }
            PersistWrite::Append(entries) => self.append(ENTRIES, &encode_entries(entries)),
            PersistWrite::InstallSnapshot(snapshot) => {
                // The leader's snapshot replaces everything, and one being written too.
                self.wait_for_snapshot()?;
                write_snapshot_file(&self.snap_dir, snapshot)?;
                self.start_segment_after(snapshot.get_metadata(), storage)
            }
            PersistWrite::TakeSnapshot {
                metadata, state, ..
            } => {
                // One at a time. A snapshot still being written is passed by this one: its
                // segment is not started (this change may have dropped entries after it),
                // and its file goes when this one's segment starts.
                self.wait_for_snapshot()?;
                let mut snapshot = Snapshot::default();
                snapshot.set_metadata(metadata.clone());
                let (state, snap_dir) = (state.clone(), self.snap_dir.clone());
                let written = std::thread::spawn(move || {
                    // Encoded here, not on the member's loop (the bytes are kept for a
                    // follower that needs them).
                    snapshot.data = state.bytes();
                    write_snapshot_file(&snap_dir, &snapshot)
                });
                self.writing = Some(SnapshotWriting {
                    metadata: metadata.clone(),
                    written,
                });
                Ok(())
            }
        }
    }

    /// Starts the new segment of a snapshot whose file is written, if one is. `storage` is
    /// the node's storage as written to the WAL so far.
    pub fn settle(&mut self, storage: &RaftStorage) -> Result<(), WalError> {
        if self
            .writing
            .as_ref()
            .is_some_and(|w| w.written.is_finished())
        {
            if let Some(metadata) = self.wait_for_snapshot()? {
                self.start_segment_after(&metadata, storage)?;
            }
        }
        Ok(())
    }

    /// Waits for the snapshot being written, if any: its metadata once its file is durable.
    fn wait_for_snapshot(&mut self) -> Result<Option<SnapshotMetadata>, WalError> {
        let Some(writing) = self.writing.take() else {
            return Ok(None);
        };
        writing
            .written
            .join()
            .map_err(|_| WalError::Invalid("the snapshot writer panicked".into()))??;
        Ok(Some(writing.metadata))
    }

    /// Starts a new segment with the state after the snapshot `meta` describes (its file is
    /// durable): a reference to it, the entries after it, the hard state. Then removes what
    /// the new segment makes unnecessary.
    fn start_segment_after(
        &mut self,
        meta: &SnapshotMetadata,
        storage: &RaftStorage,
    ) -> Result<(), WalError> {
        let snap = snapshot_path(&self.snap_dir, meta.term, meta.index);
        self.sync()?;
        let previous = self.segment;
        self.segment += 1;
        let path = segment_path(&self.wal_dir, self.segment);
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut reference = meta.term.to_le_bytes().to_vec();
        reference.extend_from_slice(&meta.index.to_le_bytes());
        self.append(SNAPSHOT_REF, &reference)?;
        let after: Vec<Entry> = storage
            .log()
            .filter(|e| e.index > meta.index)
            .cloned()
            .collect();
        if !after.is_empty() {
            self.append(ENTRIES, &encode_entries(&after))?;
        }
        self.append(
            HARD_STATE,
            &storage.hard_state().write_to_bytes().expect("encodes"),
        )?;
        self.sync()?;
        sync_dir(&self.wal_dir)?;
        // The new segment stands on its own: older segments and snapshots can go.
        for segment in 1..=previous {
            let _ = std::fs::remove_file(segment_path(&self.wal_dir, segment));
        }
        if let Ok(entries) = std::fs::read_dir(&self.snap_dir) {
            for entry in entries.flatten() {
                if entry.path() != snap {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Makes everything written so far durable. Returns how long the fsync took.
    pub fn sync(&mut self) -> Result<Duration, WalError> {
        if !self.unsynced {
            return Ok(Duration::ZERO);
        }
        let started = Instant::now();
        let path = segment_path(&self.wal_dir, self.segment);
        self.file.sync_data().map_err(io(&path))?;
        self.unsynced = false;
        Ok(started.elapsed())
    }

    /// The first records of a brand-new member: its bootstrap log and hard state.
    pub fn bootstrap(&mut self, storage: &RaftStorage) -> Result<(), WalError> {
        let entries: Vec<Entry> = storage.log().cloned().collect();
        if !entries.is_empty() {
            self.append(ENTRIES, &encode_entries(&entries))?;
        }
        self.append(
            HARD_STATE,
            &storage.hard_state().write_to_bytes().expect("encodes"),
        )?;
        self.sync().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hard_state(term: u64, commit: u64) -> HardState {
        HardState {
            term,
            commit,
            ..Default::default()
        }
    }

    #[test]
    fn a_wal_replays_what_was_written_and_drops_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let storage = RaftStorage::bootstrap(&[7, 8, 9]);
        {
            let mut wal = Wal::open(dir.path()).unwrap().wal;
            wal.bootstrap(&storage).unwrap();
            wal.write(&PersistWrite::HardState(hard_state(2, 3)), &storage)
                .unwrap();
            wal.sync().unwrap();
        }
        let segment = segment_path(&dir.path().join("member/wal"), 1);
        let good = std::fs::metadata(&segment).unwrap().len();
        // A crash in the middle of the next record.
        let record = encode_record(HARD_STATE, &hard_state(3, 3).write_to_bytes().unwrap());
        OpenOptions::new()
            .append(true)
            .open(&segment)
            .unwrap()
            .write_all(&record[..record.len() - 3])
            .unwrap();
        let recovered = Wal::open(dir.path()).unwrap();
        assert!(recovered.dropped_torn_record);
        let restored = recovered.storage.unwrap();
        assert_eq!(restored.hard_state(), &hard_state(2, 3));
        assert_eq!(restored.last_index(), 3);
        assert_eq!(
            std::fs::metadata(&segment).unwrap().len(),
            good,
            "the torn record is cut off"
        );
    }

    fn entries(indexes: std::ops::RangeInclusive<u64>) -> PersistWrite {
        PersistWrite::Append(
            indexes
                .map(|index| Entry {
                    index,
                    term: 1,
                    data: format!("put {index}").into_bytes().into(),
                    ..Default::default()
                })
                .collect(),
        )
    }

    /// The log as (index, data), for comparing two storages.
    fn log(storage: &RaftStorage) -> Vec<(u64, Vec<u8>)> {
        storage.log().map(|e| (e.index, e.data.to_vec())).collect()
    }

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn a_snapshot_written_in_the_background_loses_nothing_before_or_after_its_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = RaftStorage::bootstrap(&[1]);
        let mut wal = Wal::open(dir.path()).unwrap().wal;
        wal.bootstrap(&storage).unwrap();
        let write = |storage: &mut RaftStorage, wal: &mut Wal, change: PersistWrite| {
            storage.write(&change);
            wal.write(&change, storage).unwrap();
            wal.sync().unwrap();
        };
        write(&mut storage, &mut wal, entries(2..=5));
        let take = PersistWrite::TakeSnapshot {
            metadata: SnapshotMetadata {
                index: 4,
                term: 1,
                conf_state: Some(storage.conf_state().clone()).into(),
                ..Default::default()
            },
            state: raftbook_core::state_machine::SnapshotState::encoded(bytes::Bytes::from_static(
                b"the state at 4",
            )),
            compact_to: 4,
        };
        write(&mut storage, &mut wal, take);
        write(&mut storage, &mut wal, entries(6..=7));

        // Before its segment starts (a crash now): the first segment has it all.
        let replayed = Wal::open(dir.path()).unwrap().storage.unwrap();
        assert_eq!(replayed.snapshot_metadata().index, 0);
        assert_eq!((replayed.first_index(), replayed.last_index()), (1, 7));
        assert_eq!(log(&replayed)[4..], log(&storage)[..], "5 to 7, as written");

        // Once the file is written, the member's next settle starts the segment.
        while wal.writing.is_some() {
            std::thread::sleep(Duration::from_millis(1));
            wal.settle(&storage).unwrap();
        }
        write(&mut storage, &mut wal, entries(8..=8));
        let replayed = Wal::open(dir.path()).unwrap().storage.unwrap();
        assert_eq!(replayed.snapshot_metadata().index, 4);
        assert_eq!(&replayed.encoded_snapshot().data[..], b"the state at 4");
        assert_eq!(log(&replayed), log(&storage.recovered()));
        assert_eq!(log(&replayed).first().unwrap().0, 5);
        assert_eq!(
            files(&dir.path().join("member/wal")),
            1,
            "the old segment is gone"
        );
        assert_eq!(files(&dir.path().join("member/snap")), 1);
    }

    #[test]
    fn damage_before_the_end_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let storage = RaftStorage::bootstrap(&[1]);
        {
            let mut wal = Wal::open(dir.path()).unwrap().wal;
            wal.bootstrap(&storage).unwrap();
        }
        let segment = segment_path(&dir.path().join("member/wal"), 1);
        let mut bytes = std::fs::read(&segment).unwrap();
        bytes[10] ^= 0xff; // inside the first record, with a good one after it
        std::fs::write(&segment, &bytes).unwrap();
        assert!(matches!(
            Wal::open(dir.path()),
            Err(WalError::Corrupt { .. })
        ));
    }
}
