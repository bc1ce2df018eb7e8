//! A loopback HTTP/1.1 server that answers with hand-written replies, so a test can cut bodies, lie
//! about lengths and ranges, redirect, stall and never stop.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub range: Option<String>,
}

/// What the server does after the head and body it was given.
pub enum Tail {
    Close,
    /// Keeps the connection open and sends nothing more.
    Hang,
    /// Sends chunked-encoding chunks until the client goes away.
    Endless,
}

pub struct Reply {
    pub head: String,
    pub body: Vec<u8>,
    pub tail: Tail,
}

impl Reply {
    pub fn new(status: &str, headers: &[(&str, String)], body: Vec<u8>, tail: Tail) -> Self {
        let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        Self { head, body, tail }
    }

    /// A full, honest 200.
    pub fn ok(body: &[u8]) -> Self {
        Self::new("200 OK", &[("Content-Length", body.len().to_string())], body.to_vec(), Tail::Close)
    }

    /// An honest 206 for `bytes=start-`.
    pub fn partial(file: &[u8], start: usize) -> Self {
        let n = file.len();
        Self::new(
            "206 Partial Content",
            &[("Content-Length", (n - start).to_string()), ("Content-Range", format!("bytes {start}-{}/{n}", n - 1))],
            file[start..].to_vec(),
            Tail::Close,
        )
    }
}

pub type Handler = Arc<dyn Fn(usize, &Request) -> Reply + Send + Sync>;

pub struct Server {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub async fn start(handler: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                tokio::spawn(async move { serve(stream, handler, log).await });
            }
        });
        Self { port, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

pub async fn serve(mut stream: TcpStream, handler: Handler, log: Arc<Mutex<Vec<Request>>>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_string();
    let range = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("range").then(|| v.trim().to_string())
    });
    let request = Request { path, range };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    let reply = handler(index, &request);
    if stream.write_all(reply.head.as_bytes()).await.is_err() || stream.write_all(&reply.body).await.is_err() {
        return;
    }
    let _ = stream.flush().await;
    match reply.tail {
        Tail::Close => {
            let _ = stream.shutdown().await;
        }
        Tail::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Tail::Endless => {
            let chunk = vec![b'x'; 16 * 1024];
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            while stream.write_all(&frame).await.is_ok() {}
        }
    }
}
