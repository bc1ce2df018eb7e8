//! What the studio's loopback-server tests share.
#![allow(dead_code)]

pub mod loopback;

use std::io::Read;
use std::time::Duration;

/// One HTTP request read off `stream`: its raw bytes, and where the body starts (after the headers,
/// `Content-Length` bytes of it). `None` when the client hung up before its headers.
pub fn read_request(stream: &mut std::net::TcpStream) -> Option<(Vec<u8>, usize)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    let body_start = loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        request.extend_from_slice(&buf[..n]);
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))).unwrap_or(0);
    while request.len() < body_start + length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    Some((request, body_start))
}
