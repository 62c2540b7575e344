//! The first look at a file: is it text at all, is there anything in it,
//! and does it open like JSON?
//!
//! Only the first kilobyte is examined, so a large file is never held in
//! memory: the bytes read for the look are put back in front of the rest of
//! the stream. A UTF-8 byte-order mark is dropped here, once, for every
//! format, and a file whose lines end in a bare carriage return (as classic
//! Mac OS and some spreadsheet exports write them) is read with line feeds,
//! so every format's line reader sees its rows.

use std::io::{Chain, Cursor, Read};

use crate::FileError;

/// How much of a file decides whether it is text.
const SNIFF_BYTES: u64 = 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file that passed the first look, ready to be parsed from its start
/// (after any byte-order mark).
pub(crate) struct Opened<R> {
    pub reader: Chain<Cursor<Vec<u8>>, LineEnds<R>>,
    /// The first byte that is not white space, if the first kilobyte has one.
    pub first_byte: Option<u8>,
}

impl<R> Opened<R> {
    /// JSON opens with an object or an array; anything else is read as CSV.
    pub fn looks_like_json(&self) -> bool {
        matches!(self.first_byte, Some(b'{' | b'['))
    }
}

/// Reads the first kilobyte and rejects empty, UTF-16 and binary input.
pub(crate) fn open<R: Read>(mut input: R) -> Result<Opened<R>, FileError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES as usize);
    (&mut input).take(SNIFF_BYTES).read_to_end(&mut head)?;
    let whole_file = (head.len() as u64) < SNIFF_BYTES;

    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(FileError::Utf16);
    }
    let bom = if head.starts_with(UTF8_BOM) {
        head.drain(..UTF8_BOM.len());
        UTF8_BOM.len() as u64
    } else {
        0
    };
    let nul = head.iter().position(|&b| b == 0);
    let bad_utf8 = match std::str::from_utf8(&head) {
        // A multi-byte character cut by the end of the sniffed bytes is fine.
        Err(e) if e.error_len().is_some() || whole_file => Some(e.valid_up_to()),
        _ => None,
    };
    if let Some(offset) = nul.into_iter().chain(bad_utf8).min() {
        return Err(FileError::Binary {
            offset: bom + offset as u64,
        });
    }
    let first_byte = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first_byte.is_none() && whole_file {
        return Err(FileError::Empty);
    }
    // Carriage returns and no line feed in the first kilobyte: the lines
    // end in bare carriage returns.
    let cr_only = head.contains(&b'\r') && !head.contains(&b'\n');
    if cr_only {
        to_line_feeds(&mut head);
    }
    Ok(Opened {
        reader: Cursor::new(head).chain(LineEnds { inner: input, cr_only }),
        first_byte,
    })
}

/// The rest of a file after its first look, with bare carriage returns read
/// as line feeds when the file's lines end in them.
pub(crate) struct LineEnds<R> {
    inner: R,
    cr_only: bool,
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.cr_only {
            to_line_feeds(&mut buf[..n]);
        }
        Ok(n)
    }
}

fn to_line_feeds(bytes: &mut [u8]) {
    for b in bytes.iter_mut().filter(|b| **b == b'\r') {
        *b = b'\n';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_look(bytes: &[u8]) -> Result<(Option<u8>, Vec<u8>), String> {
        match open(bytes) {
            Ok(mut opened) => {
                let mut rest = Vec::new();
                opened.reader.read_to_end(&mut rest).unwrap();
                Ok((opened.first_byte, rest))
            }
            Err(e) => Err(format!("{e:?}")),
        }
    }

    #[test]
    fn text_passes_through_whole_without_its_bom() {
        let long = "x,".repeat(2000);
        assert_eq!(first_look(long.as_bytes()).unwrap().1, long.as_bytes().to_vec());
        assert_eq!(
            first_look(b"\xEF\xBB\xBF  [1]").unwrap(),
            (Some(b'['), b"  [1]".to_vec())
        );
    }

    #[test]
    fn bare_carriage_returns_are_read_as_line_feeds() {
        let (_, rest) = first_look(b"a,b\r1,2\r3,4\r").unwrap();
        assert_eq!(rest, b"a,b\n1,2\n3,4\n");
        // Past the first kilobyte too.
        let mut long = b"h\r".to_vec();
        long.extend(std::iter::repeat_n(b"x,y\r".as_slice(), 600).flatten());
        let (_, rest) = first_look(&long).unwrap();
        assert!(!rest.contains(&b'\r') && rest.iter().filter(|b| **b == b'\n').count() == 601);
        // CRLF files are left alone.
        let (_, rest) = first_look(b"a,b\r\n1,2\r\n").unwrap();
        assert_eq!(rest, b"a,b\r\n1,2\r\n");
    }

    #[test]
    fn rejects_what_is_not_text() {
        assert_eq!(first_look(b"").unwrap_err(), "Empty");
        assert_eq!(first_look(b"\xEF\xBB\xBF \r\n").unwrap_err(), "Empty");
        assert_eq!(first_look(b"ab\0cd").unwrap_err(), "Binary { offset: 2 }");
        assert_eq!(
            first_look(b"\xEF\xBB\xBFok\xC3\x28").unwrap_err(),
            "Binary { offset: 5 }"
        );
        assert_eq!(first_look(b"\xFF\xFEa\0").unwrap_err(), "Utf16");
    }

    #[test]
    fn a_character_cut_by_the_sniff_window_is_not_binary() {
        let mut text = vec![b'a'; SNIFF_BYTES as usize - 1];
        text.extend_from_slice("é and more".as_bytes());
        assert!(first_look(&text).is_ok());
    }
}
