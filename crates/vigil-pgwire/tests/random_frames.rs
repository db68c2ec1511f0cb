//! Thousands of random and mutated frames through every decoder: none may
//! panic, and every success must be consistent with its input.
use bytes::BytesMut;
use vigil_pgwire::backend::{Authentication, ErrorFields};
use vigil_pgwire::frontend::{Bind, Execute, Parse, Query, Target};
use vigil_pgwire::{decode_frame, decode_startup, Frame};

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn byte(&mut self) -> u8 {
        (self.next() & 0xff) as u8
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut v = vec![
        b"select 1\0".to_vec(),
        b"s1\0select $1\0\x00\x01\x00\x00\x00\x17".to_vec(),
        b"p\0s\0\x00\x01\x00\x01\x00\x01\x00\x00\x00\x02hi\x00\x00".to_vec(),
        b"\0\0\0\0\0".to_vec(),
        b"SERROR\0C42501\0Mno\0\0".to_vec(),
        b"\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00".to_vec(),
    ];
    v.push(Frame::new(b'Q', b"x\0").unwrap().raw().to_vec());
    v
}

fn exercise(body: &[u8]) {
    let _ = Query::parse(body);
    let _ = Parse::parse(body);
    if let Ok(b) = Bind::parse(body) {
        for i in 0..b.params.len() + 2 {
            let f = b.param_format(i);
            assert!(f == 0 || b.param_formats.contains(&f));
        }
    }
    let _ = Execute::parse(body);
    let _ = Target::parse(body);
    let _ = ErrorFields::parse(body);
    let _ = Authentication::parse(body);
}

#[test]
fn random_frames_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let seeds = seeds();
    for round in 0..5000 {
        let mut data = seeds[round % seeds.len()].clone();
        for _ in 0..(rng.next() % 8) {
            match rng.next() % 3 {
                0 if !data.is_empty() => {
                    let i = (rng.next() as usize) % data.len();
                    data[i] = rng.byte();
                }
                1 => data.push(rng.byte()),
                _ => {
                    let n = (rng.next() as usize) % (data.len() + 1);
                    data.truncate(n);
                }
            }
        }
        exercise(&data);
        let mut framed = BytesMut::new();
        framed.extend_from_slice(&[rng.byte()]);
        framed.extend_from_slice(&data);
        let before = framed.len();
        match decode_frame(&mut framed, 1 << 16) {
            Ok(Some(f)) => assert_eq!(f.raw().len() + framed.len(), before),
            Ok(None) => assert_eq!(framed.len(), before),
            Err(_) => {}
        }
        let mut startup = BytesMut::from(&data[..]);
        let _ = decode_startup(&mut startup);
    }
}

#[test]
fn random_streams_split_consistently() {
    let mut rng = XorShift(42);
    for _ in 0..2000 {
        let len = (rng.next() % 64) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        let mut buf = BytesMut::from(&bytes[..]);
        let mut consumed = 0;
        while let Ok(Some(f)) = decode_frame(&mut buf, 1 << 10) {
            assert!(f.raw().len() >= 5);
            consumed += f.raw().len();
        }
        assert_eq!(consumed + buf.len(), bytes.len());
    }
}
