//! Backups: etcd's `snapshot save` served, and `raftbook snapshot restore` to start a new
//! cluster from what it saved.
//!
//! **Save.** `etcdctl snapshot save FILE` calls Maintenance.Snapshot on one member and writes
//! the stream it gets to FILE. etcd streams its database file and ends the stream with the
//! file's SHA-256; etcdctl refuses a stream whose length is not a multiple of 512 plus those
//! 32 bytes ("sha256 checksum not found"). raftbook's database is its store (every revision
//! not compacted, the leases, what members told about themselves), so a raftbook snapshot
//! file is:
//!
//! ```text
//! "RBSNAP01"  u64 length (little-endian)  the store (as the Raft snapshots hold it)
//! zeros up to a multiple of 512 bytes     SHA-256 of everything before it
//! ```
//!
//! It is raftbook's, not etcd's bolt file: `etcdctl snapshot status` and `etcdctl snapshot
//! restore` cannot read it, and `raftbook snapshot restore` is their counterpart.
//!
//! **Restore**, as etcd's: the saved keys, history and leases become the start of a *new*
//! cluster, whose members are the ones named by `--initial-cluster` (the old cluster's
//! membership is not restored, so a backup can seed a cluster of other machines). Each member
//! of the new cluster is restored from the same file into an empty data directory, then
//! started with the same flags. In Raft terms, each data directory gets a snapshot at index 1
//! of term 1, with the new members as voters: all members start from the same committed
//! state, and the log grows from there.

use std::path::{Path, PathBuf};

use raft::eraftpb::{ConfState, HardState, Snapshot};
use raftbook_core::etcd::store::EtcdStore;
use raftbook_core::state_machine::StateMachine;
use raftbook_core::storage::{PersistWrite, RaftStorage};
use sha2::{Digest, Sha256};

use crate::config::MemberArgs;
use crate::wal::Wal;

const MAGIC: &[u8; 8] = b"RBSNAP01";
/// The file is padded to a multiple of this (etcdctl checks it: "a minimum disk sector").
const SECTOR: usize = 512;
const SHA256_SIZE: usize = 32;
/// How much of the file one Maintenance.Snapshot response carries (etcd's send buffer).
pub const CHUNK: usize = 32 * 1024;

/// A snapshot file's bytes for a store (`EtcdStore`'s own encoding, as in Raft snapshots).
pub fn file_bytes(store: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(store.len() + 16 + SECTOR + SHA256_SIZE);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&(store.len() as u64).to_le_bytes());
    file.extend_from_slice(store);
    file.resize(file.len().div_ceil(SECTOR) * SECTOR, 0);
    let sha = Sha256::digest(&file);
    file.extend_from_slice(&sha);
    file
}

/// The store a snapshot file holds, or why the file is not one.
pub fn read_file(path: &Path) -> Result<EtcdStore, String> {
    let shown = path.display();
    let file = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    if file.len() < MAGIC.len() + 8 + SHA256_SIZE || (file.len() % SECTOR) != SHA256_SIZE {
        return Err(format!(
            "{shown}: not a raftbook snapshot ({} bytes: a snapshot is a multiple of {SECTOR} \
             bytes plus a {SHA256_SIZE}-byte SHA-256)",
            file.len()
        ));
    }
    let (body, sha) = file.split_at(file.len() - SHA256_SIZE);
    if Sha256::digest(body).as_slice() != sha {
        return Err(format!(
            "{shown}: the SHA-256 at its end does not match its contents: the file is damaged"
        ));
    }
    if &body[..MAGIC.len()] != MAGIC {
        return Err(format!(
            "{shown}: not a raftbook snapshot (an etcd snapshot is restored with `etcdctl \
             snapshot restore`, and needs etcd)"
        ));
    }
    let length = u64::from_le_bytes(body[8..16].try_into().expect("8 bytes"));
    let store = usize::try_from(length)
        .ok()
        .and_then(|length| body.get(16..16usize.checked_add(length)?))
        .ok_or_else(|| format!("{shown}: its store length ({length} bytes) runs past its end"))?;
    postcard::from_bytes(store).map_err(|e| format!("{shown}: its store cannot be read: {e}"))
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// A file `etcdctl snapshot save` wrote from a raftbook member.
    pub file: PathBuf,
    /// The flags the restored member will be started with: its name, data directory,
    /// `--initial-cluster` and `--initial-cluster-token` say which new cluster it is in.
    #[command(flatten)]
    pub member: MemberArgs,
}

/// Writes a new member's data directory holding the file's store.
pub fn restore(args: RestoreArgs) -> Result<(), String> {
    let config = args.member.resolve()?;
    let mut store = read_file(&args.file)?;
    store.forget_member_info();

    let data_dir = &config.data_dir;
    if data_dir.join("member").exists() {
        return Err(format!(
            "data-dir {:?} exists: restore into a new directory",
            data_dir.display().to_string()
        ));
    }
    let mut snapshot = Snapshot {
        data: store.snapshot().into(),
        ..Default::default()
    };
    let meta = snapshot.mut_metadata();
    (meta.index, meta.term) = (1, 1);
    meta.set_conf_state(ConfState {
        voters: config.peers.keys().copied().collect(),
        ..Default::default()
    });
    let install = PersistWrite::InstallSnapshot(snapshot);
    let mut storage = RaftStorage::empty();
    storage.write(&install);
    storage.write(&PersistWrite::HardState(HardState {
        term: 1,
        commit: 1,
        ..Default::default()
    }));
    let mut wal = Wal::open(data_dir).map_err(|e| e.to_string())?.wal;
    wal.write(&install, &storage).map_err(|e| e.to_string())?;
    println!(
        "restored snapshot {} into {} as member {} ({:x}) of a cluster of {}, revision {}",
        args.file.display(),
        data_dir.display(),
        config.name,
        config.id,
        config.peers.len(),
        store.mvcc.current_revision()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(store: &EtcdStore) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup.db");
        std::fs::write(&path, file_bytes(&store.snapshot())).unwrap();
        (dir, path)
    }

    #[test]
    fn a_file_is_sectors_plus_a_sha256_and_reads_back() {
        let store = EtcdStore::default();
        let (_dir, path) = file_with(&store);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() % SECTOR, SHA256_SIZE);
        assert_eq!(read_file(&path).unwrap(), store);
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_with_the_reason() {
        let (_dir, path) = file_with(&EtcdStore::default());
        let good = std::fs::read(&path).unwrap();

        let mut flipped = good.clone();
        flipped[20] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let error = read_file(&path).unwrap_err();
        assert!(error.contains("does not match its contents"), "{error}");

        std::fs::write(&path, &good[..good.len() - 1]).unwrap();
        let error = read_file(&path).unwrap_err();
        assert!(error.contains("not a raftbook snapshot"), "{error}");

        // The right shape and checksum, but another program's bytes (as an etcd file is).
        let mut foreign = vec![7u8; SECTOR];
        let sha = Sha256::digest(&foreign);
        foreign.extend_from_slice(&sha);
        std::fs::write(&path, &foreign).unwrap();
        let error = read_file(&path).unwrap_err();
        assert!(error.contains("etcdctl snapshot restore"), "{error}");
    }
}
