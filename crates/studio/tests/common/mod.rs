//! What the studio's loopback-server tests share.
#![allow(dead_code)]

pub mod loopback;

/// A library and an empty models folder of a test's own, and a network client.
pub struct Setup {
    pub _tmp: tempfile::TempDir,
    /// The models folder: holds nothing but what a test or a download put there.
    pub dir: std::path::PathBuf,
    pub store: atelier_store::Store,
    pub client: atelier_fusion::client::OutboundClient,
}

pub async fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("models");
    std::fs::create_dir_all(&dir).unwrap();
    let store = atelier_store::Store::open(tmp.path().join("library.db")).await.unwrap();
    Setup { dir, store, client: atelier_fusion::client::OutboundClient::new(std::time::Duration::from_secs(5)), _tmp: tmp }
}

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
