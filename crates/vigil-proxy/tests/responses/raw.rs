//! A minimal blocking raw-protocol client built on Vigil's own codec.

#![allow(dead_code)]

use bytes::BytesMut;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use vigil_pgwire::backend::ErrorFields;
use vigil_pgwire::frontend::{encode_parse, encode_query};
use vigil_pgwire::startup::encode_startup;
use vigil_pgwire::{decode_frame, Frame};

pub struct Raw {
    stream: TcpStream,
    buf: BytesMut,
}

impl Raw {
    /// Startup + cleartext token, up to the first ReadyForQuery.
    pub fn login(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut raw = Raw {
            stream,
            buf: BytesMut::new(),
        };
        let mut out = BytesMut::new();
        let params = [("user", crate::harness::USER), ("database", "app")];
        encode_startup(params.iter().copied(), &mut out).unwrap();
        raw.send_bytes(&out);
        loop {
            let f = raw.read_frame().expect("frame during login");
            match f.tag() {
                b'R' if f.body() == 3i32.to_be_bytes() => {
                    let mut body = crate::harness::TOKEN.as_bytes().to_vec();
                    body.push(0);
                    raw.send(&Frame::new(b'p', &body).unwrap());
                }
                b'Z' => return raw,
                b'E' => panic!("login refused: {:?}", ErrorFields::parse(f.body())),
                _ => {}
            }
        }
    }

    pub fn send(&mut self, f: &Frame) {
        self.stream.write_all(f.raw()).expect("send");
    }

    pub fn send_bytes(&mut self, b: &[u8]) {
        self.stream.write_all(b).expect("send");
    }

    /// Next frame, or None when the connection closed.
    pub fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(f) = decode_frame(&mut self.buf, 1 << 26).expect("valid frame") {
                return Some(f);
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Frames up to and including the next ReadyForQuery.
    pub fn until_ready(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = self.read_frame() {
            let done = f.tag() == b'Z';
            out.push(f);
            if done {
                return out;
            }
        }
        panic!("closed before ReadyForQuery; got {}", tags(&out));
    }

    pub fn query(&mut self, sql: &str) -> Vec<Frame> {
        self.send(&encode_query(sql).unwrap());
        self.until_ready()
    }
}

pub fn tags(frames: &[Frame]) -> String {
    frames.iter().map(|f| f.tag() as char).collect()
}

pub fn errors(frames: &[Frame]) -> Vec<ErrorFields> {
    frames
        .iter()
        .filter(|f| f.tag() == b'E')
        .map(|f| ErrorFields::parse(f.body()).unwrap())
        .collect()
}

/// The transaction status of the last ReadyForQuery.
pub fn status(frames: &[Frame]) -> char {
    let z = frames
        .iter()
        .rev()
        .find(|f| f.tag() == b'Z')
        .expect("ReadyForQuery");
    z.body()[0] as char
}

/// Text values of every DataRow (NULL as "NULL").
pub fn rows(frames: &[Frame]) -> Vec<Vec<String>> {
    frames
        .iter()
        .filter(|f| f.tag() == b'D')
        .map(|f| {
            let b = f.body();
            let n = i16::from_be_bytes([b[0], b[1]]) as usize;
            let mut at = 2;
            let mut row = Vec::new();
            for _ in 0..n {
                let len = i32::from_be_bytes(b[at..at + 4].try_into().unwrap());
                at += 4;
                if len < 0 {
                    row.push("NULL".to_string());
                } else {
                    let v = &b[at..at + len as usize];
                    row.push(String::from_utf8_lossy(v).into_owned());
                    at += len as usize;
                }
            }
            row
        })
        .collect()
}

/// Every byte the client received, for "this never leaked" checks.
pub fn all_bytes(frames: &[Frame]) -> Vec<u8> {
    frames.iter().flat_map(|f| f.raw().to_vec()).collect()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// Extended-protocol message builders.

pub fn parse(name: &str, sql: &str) -> Frame {
    encode_parse(name.as_bytes(), sql).unwrap()
}

/// Bind with text parameters and the given result formats.
pub fn bind(portal: &str, statement: &str, params: &[&str], result_formats: &[i16]) -> Frame {
    let mut b = Vec::new();
    b.extend_from_slice(portal.as_bytes());
    b.push(0);
    b.extend_from_slice(statement.as_bytes());
    b.push(0);
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(params.len() as i16).to_be_bytes());
    for p in params {
        b.extend_from_slice(&(p.len() as i32).to_be_bytes());
        b.extend_from_slice(p.as_bytes());
    }
    b.extend_from_slice(&(result_formats.len() as i16).to_be_bytes());
    for f in result_formats {
        b.extend_from_slice(&f.to_be_bytes());
    }
    Frame::new(b'B', &b).unwrap()
}

pub fn describe(kind: u8, name: &str) -> Frame {
    let mut b = vec![kind];
    b.extend_from_slice(name.as_bytes());
    b.push(0);
    Frame::new(b'D', &b).unwrap()
}

pub fn execute(portal: &str, max_rows: i32) -> Frame {
    let mut b = portal.as_bytes().to_vec();
    b.push(0);
    b.extend_from_slice(&max_rows.to_be_bytes());
    Frame::new(b'E', &b).unwrap()
}

pub fn sync() -> Frame {
    Frame::new(b'S', &[]).unwrap()
}

pub fn flush() -> Frame {
    Frame::new(b'H', &[]).unwrap()
}
