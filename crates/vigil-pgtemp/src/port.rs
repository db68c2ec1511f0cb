//! Picking a TCP port for a cluster. We bind 127.0.0.1:0, read the port the
//! kernel chose and release it; the window before postgres binds it is tiny,
//! and the cluster start retries with a new port if it is lost.

use std::net::{Ipv4Addr, TcpListener};

use crate::PgTempError;

/// Returns a port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16, PgTempError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(PgTempError::Port)?;
    let port = listener.local_addr().map_err(PgTempError::Port)?.port();
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_a_bindable_nonzero_port() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    }
}
