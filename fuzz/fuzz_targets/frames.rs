//! Every decoder entry point of the wire codec on arbitrary bytes: cutting
//! frames and startup packets, and every typed message view. None may
//! panic, and a decoded frame must account for exactly the bytes it took.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use vigil_pgwire::backend::{parse_backend_key, parse_ready_status, Authentication, ErrorFields};
use vigil_pgwire::frontend::{parse_password, Bind, Execute, Parse, Query, Target};
use vigil_pgwire::{decode_frame, decode_startup};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    let mut taken = 0;
    while let Ok(Some(f)) = decode_frame(&mut buf, 1 << 20) {
        taken += f.raw().len();
        let body = f.body();
        let _ = Query::parse(body);
        let _ = Parse::parse(body);
        let _ = Bind::parse(body);
        let _ = Execute::parse(body);
        let _ = Target::parse(body);
        let _ = parse_password(body);
        let _ = ErrorFields::parse(body);
        let _ = Authentication::parse(body);
        let _ = parse_backend_key(body);
        let _ = parse_ready_status(body);
    }
    assert!(taken + buf.len() <= data.len());
    let mut startup = BytesMut::from(data);
    let _ = decode_startup(&mut startup);
});
