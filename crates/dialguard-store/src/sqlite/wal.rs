//! A damaged write-ahead log, found before SQLite opens the file.
//!
//! SQLite reads a WAL's frames in order and stops at the first one whose
//! salts or checksum do not match: the transactions after a damaged frame
//! are dropped without a word, and every command would go on as if they had
//! never been committed. Frames of an earlier generation (the WAL is reused
//! from its start after a checkpoint, with new salts) never carry the
//! current salts, so a frame that does, after one that fails, is a frame
//! of this generation that SQLite is about to ignore: the log is damaged.
//! A torn last frame (a crash mid-write) has nothing after it and is not.
//!
//! Format: <https://www.sqlite.org/fileformat2.html#walformat>.

use std::path::Path;

/// What [`check`] found wrong: the first frame that fails, how many frames
/// the file holds, and how many of this generation lie after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalDamage {
    /// 1-based.
    pub frame: u64,
    pub frames: u64,
    pub later: u64,
}

const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

fn be(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// SQLite's running checksum over `data` (a multiple of 8 bytes), words
/// read big-endian when `big` and little-endian otherwise.
fn checksum(data: &[u8], big: bool, mut s: (u32, u32)) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |at: usize| {
            let b = [pair[at], pair[at + 1], pair[at + 2], pair[at + 3]];
            if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s.0 = s.0.wrapping_add(word(0)).wrapping_add(s.1);
        s.1 = s.1.wrapping_add(word(4)).wrapping_add(s.0);
    }
    s
}

/// Checks the WAL beside the database at `db` (`<db>-wal`), if there is
/// one. `Ok(None)`: absent, empty, or every frame of its generation intact.
pub fn check(db: &Path) -> std::io::Result<Option<WalDamage>> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = match std::fs::read(&wal) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(damage(&bytes))
}

/// [`check`] on the WAL's bytes.
pub fn damage(bytes: &[u8]) -> Option<WalDamage> {
    if bytes.len() < HEADER {
        return None;
    }
    let magic = be(bytes, 0);
    if magic & !1 != 0x377f_0682 {
        return None;
    }
    let big = magic & 1 == 1;
    let page = be(bytes, 8) as usize;
    if !(512..=65_536).contains(&page) || !page.is_power_of_two() {
        return None;
    }
    let salts = (be(bytes, 16), be(bytes, 20));
    let mut sum = checksum(&bytes[..24], big, (0, 0));
    if sum != (be(bytes, 24), be(bytes, 28)) {
        // A header that does not check out makes SQLite ignore the whole
        // file; whether it held anything is not knowable from here.
        return None;
    }
    let size = FRAME_HEADER + page;
    let frames = ((bytes.len() - HEADER) / size) as u64;
    let ours = |i: u64| {
        let at = HEADER + i as usize * size;
        (be(bytes, at + 8), be(bytes, at + 12)) == salts
    };
    for i in 0..frames {
        let at = HEADER + i as usize * size;
        let frame = &bytes[at..at + size];
        let intact = ours(i) && {
            sum = checksum(&frame[..8], big, sum);
            sum = checksum(&frame[FRAME_HEADER..], big, sum);
            sum == (be(frame, 16), be(frame, 20))
        };
        if !intact {
            let later = (i + 1..frames).filter(|&j| ours(j)).count() as u64;
            return (later > 0).then_some(WalDamage {
                frame: i + 1,
                frames,
                later,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database whose WAL holds `transactions` commits, left as a crash
    /// leaves it (no checkpoint on close).
    fn wal_of(dir: &Path, transactions: usize) -> (std::path::PathBuf, Vec<u8>) {
        let db = dir.join("log.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute("CREATE TABLE t (x TEXT)", []).unwrap();
        for i in 0..transactions {
            conn.execute("INSERT INTO t VALUES (?1)", [format!("{i}").repeat(3_000)])
                .unwrap();
        }
        // As if the process died: no checkpoint, the WAL stays.
        std::mem::forget(conn);
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let bytes = std::fs::read(&wal).unwrap();
        (db, bytes)
    }

    fn frame_at(bytes: &[u8], frame: usize) -> usize {
        let page = be(bytes, 8) as usize;
        HEADER + (frame - 1) * (FRAME_HEADER + page)
    }

    #[test]
    fn an_intact_wal_passes_and_a_damaged_frame_with_commits_after_it_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let (db, bytes) = wal_of(dir.path(), 6);
        assert_eq!(damage(&bytes), None);
        assert_eq!(check(&db).unwrap(), None);
        let page = be(&bytes, 8) as usize;
        let frames = ((bytes.len() - HEADER) / (FRAME_HEADER + page)) as u64;
        assert!(frames >= 6, "{frames} frames");
        // One flipped bit in the page data of the third frame.
        let mut flipped = bytes.clone();
        flipped[frame_at(&bytes, 3) + FRAME_HEADER + 100] ^= 0x10;
        assert_eq!(
            damage(&flipped),
            Some(WalDamage {
                frame: 3,
                frames,
                later: frames - 3
            })
        );
        // A torn last frame (a crash mid-write) loses nothing committed.
        let mut torn = bytes.clone();
        torn[frame_at(&bytes, frames as usize) + FRAME_HEADER + 5] ^= 0xff;
        assert_eq!(damage(&torn), None);
        // Not a WAL, or too short to be one: nothing to say.
        assert_eq!(damage(b"not a wal at all, just some bytes here"), None);
        assert_eq!(damage(&bytes[..20]), None);
    }

    #[test]
    fn the_log_refuses_to_open_over_a_damaged_wal_and_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let (db, bytes) = wal_of(dir.path(), 6);
        let mut flipped = bytes.clone();
        flipped[frame_at(&bytes, 2) + FRAME_HEADER + 7] ^= 0x01;
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::write(&wal, &flipped).unwrap();
        let err = super::super::SqliteLog::open(&db).err().expect("refused");
        let text = err.to_string();
        assert!(matches!(err, crate::StoreError::WalDamaged { frame: 2, .. }), "{text}");
        assert!(
            text.contains("damaged at frame 2") && text.contains("DIALGUARD_ACCEPT_WAL_DAMAGE"),
            "{text}"
        );
    }
}
