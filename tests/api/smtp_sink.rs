//! A local SMTP sink started by a test: speaks enough SMTP for lettre (EHLO/HELO, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT) on 127.0.0.1, keeps every message it accepts as raw bytes (with its
//! envelope), and can be told to answer the end of DATA with a temporary refusal (451).
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Captured {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Captured>>>,
    refusing: Arc<AtomicBool>,
}

/// The address between `<` and `>` of a MAIL FROM / RCPT TO line.
fn angle(line: &str) -> String {
    line.split_once('<').and_then(|(_, r)| r.split_once('>')).map(|(a, _)| a.to_string()).unwrap_or_default()
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = SmtpSink { port, messages: Default::default(), refusing: Default::default() };
        let (messages, refusing) = (sink.messages.clone(), sink.refusing.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, messages.clone(), refusing.clone()));
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.messages.lock().unwrap().clone()
    }

    /// While on, every message is answered `451` at the end of DATA and not kept.
    pub fn refuse(&self, on: bool) {
        self.refusing.store(on, Ordering::SeqCst);
    }
}

async fn say(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    w.write_all(text.as_bytes()).await
}

async fn session(stream: tokio::net::TcpStream, messages: Arc<Mutex<Vec<Captured>>>, refusing: Arc<AtomicBool>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if say(&mut write, "220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    let mut envelope = Captured { mail_from: String::new(), rcpt_to: vec![], data: vec![] };
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n".to_string()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK\r\n".to_string()
        } else if upper.starts_with("RSET") {
            envelope = Captured { mail_from: String::new(), rcpt_to: vec![], data: vec![] };
            "250 OK\r\n".to_string()
        } else if upper.starts_with("MAIL FROM:") {
            envelope.mail_from = angle(&line);
            "250 OK\r\n".to_string()
        } else if upper.starts_with("RCPT TO:") {
            envelope.rcpt_to.push(angle(&line));
            "250 OK\r\n".to_string()
        } else if upper.starts_with("DATA") {
            if say(&mut write, "354 End data with <CR><LF>.<CR><LF>\r\n").await.is_err() {
                return;
            }
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if lines.read_until(b'\n', &mut raw).await.unwrap_or(0) == 0 {
                    return;
                }
                if raw == b".\r\n" || raw == b".\n" {
                    break;
                }
                // Dot-stuffing: a line that starts with a dot was sent with one more.
                data.extend_from_slice(if raw.starts_with(b"..") { &raw[1..] } else { &raw });
            }
            // The transaction ends with DATA, kept or refused: the next one starts with MAIL again.
            let mut done =
                std::mem::replace(&mut envelope, Captured { mail_from: String::new(), rcpt_to: vec![], data: vec![] });
            if refusing.load(Ordering::SeqCst) {
                "451 4.3.0 Sink busy, try again later\r\n".to_string()
            } else {
                done.data = data;
                messages.lock().unwrap().push(done);
                "250 2.0.0 Queued\r\n".to_string()
            }
        } else if upper.starts_with("QUIT") {
            let _ = say(&mut write, "221 Bye\r\n").await;
            return;
        } else {
            "502 5.5.2 Not implemented\r\n".to_string()
        };
        if say(&mut write, &reply).await.is_err() {
            return;
        }
    }
}
