//! A minimal raw-protocol client, for tests that need exact bytes, exact
//! SQLSTATEs and cancel keys. Built on Vigil's own codec.

#![allow(dead_code)]

use bytes::BytesMut;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use vigil_pgwire::backend::ErrorFields;
use vigil_pgwire::startup::encode_startup;
use vigil_pgwire::{decode_frame, Frame};

pub struct Raw {
    pub stream: TcpStream,
    buf: BytesMut,
    pub pid: i32,
    pub secret: i32,
}

/// The outcome of a login attempt.
pub enum Login {
    Ok(Raw),
    Refused(ErrorFields),
}

impl Raw {
    pub fn connect_tcp(port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s
    }

    /// Startup + cleartext token; returns the session or the FATAL.
    pub fn login(port: u16, params: &[(&str, &str)], token: &str) -> Login {
        let mut stream = Self::connect_tcp(port);
        let mut out = BytesMut::new();
        encode_startup(params.iter().copied(), &mut out).unwrap();
        stream.write_all(&out).unwrap();
        let mut raw = Raw {
            stream,
            buf: BytesMut::new(),
            pid: 0,
            secret: 0,
        };
        loop {
            let f = raw.read_frame().expect("frame during login");
            match f.tag() {
                b'R' if f.body() == 3i32.to_be_bytes() => {
                    let mut body = token.as_bytes().to_vec();
                    body.push(0);
                    raw.send(&Frame::new(b'p', &body).unwrap());
                }
                b'R' | b'S' | b'N' => {}
                b'K' => {
                    let b = f.body();
                    raw.pid = i32::from_be_bytes(b[0..4].try_into().unwrap());
                    raw.secret = i32::from_be_bytes(b[4..8].try_into().unwrap());
                }
                b'E' => return Login::Refused(ErrorFields::parse(f.body()).unwrap()),
                b'Z' => return Login::Ok(raw),
                t => panic!("unexpected {:?} during login", t as char),
            }
        }
    }

    pub fn send(&mut self, f: &Frame) {
        self.stream.write_all(f.raw()).expect("send");
    }

    pub fn send_bytes(&mut self, b: &[u8]) {
        self.stream.write_all(b).expect("send");
    }

    /// Next frame, or None when the server closed the connection.
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

    /// Frames up to and including ReadyForQuery.
    pub fn until_ready(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = self.read_frame() {
            let done = f.tag() == b'Z';
            out.push(f);
            if done {
                return out;
            }
        }
        panic!(
            "connection closed before ReadyForQuery; got {:?}",
            tags(&out)
        );
    }

    pub fn query(&mut self, sql: &str) -> Vec<Frame> {
        self.send(&vigil_pgwire::frontend::encode_query(sql).unwrap());
        self.until_ready()
    }
}

pub fn tags(frames: &[Frame]) -> String {
    frames.iter().map(|f| f.tag() as char).collect()
}

/// The ErrorResponses among `frames`.
pub fn errors(frames: &[Frame]) -> Vec<ErrorFields> {
    frames
        .iter()
        .filter(|f| f.tag() == b'E')
        .map(|f| ErrorFields::parse(f.body()).unwrap())
        .collect()
}

/// The ReadyForQuery status letter of the last frame.
pub fn status(frames: &[Frame]) -> char {
    let last = frames.last().expect("frames");
    assert_eq!(last.tag(), b'Z');
    last.body()[0] as char
}

/// Text of the first column of every DataRow.
pub fn first_column(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f.tag() == b'D')
        .map(|f| {
            let b = f.body();
            let len = i32::from_be_bytes(b[2..6].try_into().unwrap());
            if len < 0 {
                "NULL".into()
            } else {
                String::from_utf8_lossy(&b[6..6 + len as usize]).into_owned()
            }
        })
        .collect()
}
