//! The initramfs `efimap boot --kernel` hands to the kernel: a cpio archive
//! in the "newc" format, the one the kernel's initramfs unpacker reads.
//!
//! Each member is a 110-byte ASCII header, its name and its data:
//!
//! - the magic `070701`, then 13 fields of eight hexadecimal digits: ino,
//!   mode (file type bits and permissions), uid, gid, nlink, mtime,
//!   filesize, devmajor, devminor, rdevmajor, rdevminor, namesize (the
//!   name's length with its terminating NUL) and check (0 in this format);
//! - the name and a NUL, then NULs until header and name together are a
//!   multiple of 4 bytes long;
//! - the data, then NULs to a multiple of 4.
//!
//! The archive ends with a member named `TRAILER!!!`. Every member here is
//! owned by root, dated 0 and has an inode number of its own, so the same
//! entries always make the same bytes.

use std::fmt;

/// The file type bits of a mode (`S_IFMT`) and the types used here.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFCHR: u32 = 0o020000;

/// The magic of a newc header.
pub const MAGIC: &str = "070701";
/// The length of a newc header: the magic and 13 eight-digit fields.
pub const HEADER_LEN: usize = 6 + 13 * 8;
/// The name of the archive's last member.
pub const TRAILER: &str = "TRAILER!!!";

/// One member of the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the archive, without a leading `/` (`dev/console`).
    pub name: String,
    /// File type bits and permissions (`S_IFREG | 0o755`).
    pub mode: u32,
    /// The device number of a device node (major, minor); (0, 0) otherwise.
    pub rdev: (u32, u32),
    /// The contents of a regular file; empty otherwise.
    pub data: Vec<u8>,
}

impl Entry {
    /// A directory with permissions `perm`.
    pub fn dir(name: &str, perm: u32) -> Entry {
        Entry {
            name: name.to_string(),
            mode: S_IFDIR | (perm & 0o7777),
            rdev: (0, 0),
            data: Vec::new(),
        }
    }

    /// A regular file with permissions `perm` holding `data`.
    pub fn file(name: &str, perm: u32, data: Vec<u8>) -> Entry {
        Entry {
            name: name.to_string(),
            mode: S_IFREG | (perm & 0o7777),
            rdev: (0, 0),
            data,
        }
    }

    /// A character device node `major:minor` with permissions `perm`.
    pub fn char_device(name: &str, perm: u32, major: u32, minor: u32) -> Entry {
        Entry {
            name: name.to_string(),
            mode: S_IFCHR | (perm & 0o7777),
            rdev: (major, minor),
            data: Vec::new(),
        }
    }
}

/// An entry the format cannot hold, and what was expected of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    pub name: String,
    pub expected: &'static str,
}

impl fmt::Display for BadEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "initramfs entry `{}`: expected {}",
            self.name.escape_debug(),
            self.expected
        )
    }
}

impl std::error::Error for BadEntry {}

/// Appends one member: header, name, padding, data, padding.
fn member(out: &mut Vec<u8>, ino: u32, e: &Entry, nlink: u32) {
    let namesize = e.name.len() as u32 + 1;
    let fields = [
        ino,
        e.mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        e.data.len() as u32,
        0, // devmajor
        0, // devminor
        e.rdev.0,
        e.rdev.1,
        namesize,
        0, // check
    ];
    out.extend_from_slice(MAGIC.as_bytes());
    for v in fields {
        out.extend_from_slice(format!("{v:08X}").as_bytes());
    }
    out.extend_from_slice(e.name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(&e.data);
    pad4(out);
}

/// NULs until `out`'s length is a multiple of 4. Every member starts at
/// such an offset, so the archive's length is the member's.
fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// The archive of `entries`, in their order, then the trailer. Members are
/// numbered from inode 1 (the trailer has 0); a directory has two links,
/// anything else one.
pub fn newc(entries: &[Entry]) -> Result<Vec<u8>, BadEntry> {
    let bad = |e: &Entry, expected| BadEntry {
        name: e.name.clone(),
        expected,
    };
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.name.is_empty() || e.name.contains('\0') || e.name.starts_with('/') {
            return Err(bad(
                e,
                "a relative path without NUL bytes (as `dev/console`)",
            ));
        }
        if e.name == TRAILER {
            return Err(bad(e, "a name other than the trailer's"));
        }
        if u32::try_from(e.data.len()).is_err() || u32::try_from(e.name.len() + 1).is_err() {
            return Err(bad(e, "a name and contents under 4 GiB"));
        }
        let kind = e.mode & S_IFMT;
        if kind != S_IFREG && !e.data.is_empty() {
            return Err(bad(e, "contents only in a regular file"));
        }
        let nlink = if kind == S_IFDIR { 2 } else { 1 };
        let ino = u32::try_from(i + 1).map_err(|_| bad(e, "fewer than 2^32 entries"))?;
        member(&mut out, ino, e, nlink);
    }
    let trailer = Entry {
        name: TRAILER.to_string(),
        mode: 0,
        rdev: (0, 0),
        data: Vec::new(),
    };
    member(&mut out, 0, &trailer, 1);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header from its 13 field values, as the format spells it.
    fn header(fields: [u32; 13]) -> String {
        let mut h = String::from("070701");
        for f in fields {
            h.push_str(&format!("{f:08X}"));
        }
        h
    }

    #[test]
    fn a_one_file_archive_byte_by_byte() {
        let got = newc(&[Entry::file("init", 0o755, b"hi\n".to_vec())]).unwrap();
        // The file: inode 1, mode 0o100755 = 0x81ED, one link, 3 bytes,
        // namesize 5 ("init" and NUL). 110 + 5 = 115, one NUL to 116; the
        // 3 data bytes, one NUL to 4.
        let mut want = Vec::new();
        // Fields: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
        // devminor, rdevmajor, rdevminor, namesize, check.
        want.extend_from_slice(
            concat!(
                "070701", "00000001", "000081ED", "00000000", "00000000", "00000001", "00000000",
                "00000003", "00000000", "00000000", "00000000", "00000000", "00000005", "00000000",
            )
            .as_bytes(),
        );
        want.extend_from_slice(b"init\0\0");
        want.extend_from_slice(b"hi\n\0");
        // The trailer: inode 0, mode 0, one link, namesize 11. 110 + 11 =
        // 121, three NULs to 124.
        want.extend_from_slice(
            concat!(
                "070701", "00000000", "00000000", "00000000", "00000000", "00000001", "00000000",
                "00000000", "00000000", "00000000", "00000000", "00000000", "0000000B", "00000000",
            )
            .as_bytes(),
        );
        want.extend_from_slice(b"TRAILER!!!\0\0\0\0");
        assert_eq!(want.len(), 116 + 4 + 124);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(got, want);
    }

    #[test]
    fn device_and_directory_fields() {
        let got = newc(&[
            Entry::dir("dev", 0o755),
            Entry::char_device("dev/console", 0o600, 5, 1),
        ])
        .unwrap();
        // dev: inode 1, 0o040755 = 0x41ED, two links, namesize 4; 114 -> 116.
        let dev = header([1, 0x41ED, 0, 0, 2, 0, 0, 0, 0, 0, 0, 4, 0]);
        assert_eq!(&got[..110], dev.as_bytes());
        assert_eq!(&got[110..116], b"dev\0\0\0");
        // dev/console: inode 2, 0o020600 = 0x2180, rdev 5:1, namesize 12;
        // 122 -> 124.
        let console = header([2, 0x2180, 0, 0, 1, 0, 0, 0, 0, 5, 1, 12, 0]);
        assert_eq!(&got[116..226], console.as_bytes());
        assert_eq!(&got[226..240], b"dev/console\0\0\0");
        let trailer = header([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0]);
        assert_eq!(&got[240..350], trailer.as_bytes());
        assert_eq!(&got[350..], b"TRAILER!!!\0\0\0\0");
    }

    #[test]
    fn every_member_starts_on_four_bytes_and_the_trailer_ends_it() {
        // Names and contents of every length modulo 4.
        let entries: Vec<Entry> = (0..8)
            .map(|i| Entry::file(&"n".repeat(i + 1), 0o644, vec![b'x'; i]))
            .collect();
        let got = newc(&entries).unwrap();
        assert_eq!(got.len() % 4, 0);
        let mut at = 0;
        let mut names = Vec::new();
        while at < got.len() {
            assert_eq!(at % 4, 0);
            assert_eq!(&got[at..at + 6], MAGIC.as_bytes());
            let field = |k: usize| {
                let s = std::str::from_utf8(&got[at + 6 + 8 * k..at + 14 + 8 * k]).unwrap();
                u32::from_str_radix(s, 16).unwrap() as usize
            };
            let (filesize, namesize) = (field(6), field(11));
            let name = &got[at + HEADER_LEN..at + HEADER_LEN + namesize];
            assert_eq!(name.last(), Some(&0));
            names.push(String::from_utf8(name[..namesize - 1].to_vec()).unwrap());
            let data = (at + HEADER_LEN + namesize).next_multiple_of(4);
            assert!(got[at + HEADER_LEN + namesize..data]
                .iter()
                .all(|&b| b == 0));
            at = (data + filesize).next_multiple_of(4);
        }
        assert_eq!(at, got.len());
        assert_eq!(names.len(), 9);
        assert_eq!(names[0], "n");
        assert_eq!(names[7], "nnnnnnnn");
        assert_eq!(names[8], TRAILER);
    }

    #[test]
    fn entries_the_format_cannot_hold_are_refused() {
        for name in ["", "/init", "a\0b", TRAILER] {
            let e = newc(&[Entry::dir(name, 0o755)]).unwrap_err();
            assert_eq!(e.name, name);
        }
        let mut d = Entry::dir("dev", 0o755);
        d.data = vec![1];
        assert_eq!(
            newc(&[d]).unwrap_err().to_string(),
            "initramfs entry `dev`: expected contents only in a regular file"
        );
    }
}
