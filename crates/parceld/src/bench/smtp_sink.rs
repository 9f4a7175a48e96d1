//! The notification scenario's SMTP server: the real protocol over TCP (greeting, `EHLO`,
//! `MAIL`, `RCPT`, `DATA` with its dot-terminated body, `RSET`, `NOOP`, `QUIT`), as much of it
//! as a client needs to deliver mail, so that parceld's SMTP client (lettre, with its pooled
//! connections) talks to it exactly as to a mail server. It stores nothing: each accepted
//! message is noted as its `Message-ID` and the instant its body ended, in the bench's own
//! process, so that a figure needs no Python and no disk. Not a mail server: every address is
//! accepted, nothing is relayed.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::harness::{unix_ms, Received};

/// Starts the server on a free port of the loopback address; returns the port and what it
/// received: (`Message-ID`, unix milliseconds at the end of the body).
pub(super) async fn start() -> anyhow::Result<(u16, Received)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sink = sink.clone();
            tokio::spawn(async move {
                // A client that goes away mid-conversation ends only its own connection.
                let _ = conversation(stream, &sink).await;
            });
        }
    });
    Ok((port, received))
}

/// The `Message-ID` header's value in a message's header lines, if it has one.
fn message_id(line: &str) -> Option<String> {
    let (name, value) = line.split_once(':')?;
    name.eq_ignore_ascii_case("message-id")
        .then(|| value.trim().to_string())
}

/// One client connection, until `QUIT` or the client leaves.
async fn conversation(stream: TcpStream, received: &Received) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 parceld-bench ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-parceld-bench\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut id = None;
                let mut in_headers = true;
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    if line.is_empty() {
                        in_headers = false;
                    } else if in_headers && id.is_none() {
                        id = message_id(&line);
                    }
                }
                let mut sink = received.lock().unwrap_or_else(|p| p.into_inner());
                sink.push((id.unwrap_or_default(), unix_ms()));
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_id_is_read_from_its_header_in_any_case() {
        assert_eq!(
            message_id("Message-ID: <ntf_1@shop.test>").as_deref(),
            Some("<ntf_1@shop.test>")
        );
        assert_eq!(
            message_id("message-id:<ntf_2@shop.test>").as_deref(),
            Some("<ntf_2@shop.test>")
        );
        assert_eq!(message_id("Subject: Message-ID: no"), None);
    }
}
