//! A minimal HTTP/1.1 client for deliveries to `http://` subscriptions: one POST per
//! connection. kagami carries no TLS client, so `https://` endpoints cannot be reached.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long an endpoint may take to answer before the delivery counts as failed
/// (AWS waits up to 15 seconds).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// (host:port, path) of an `http://` URL.
fn split_url(url: &str) -> Result<(String, String), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!("kagami cannot deliver to {url}: only http:// endpoints are supported"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.is_empty() {
        return Err(format!("no host in {url}"));
    }
    let host = if authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit())) {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((host, path))
}

/// POSTs `body`; Ok when the endpoint answers 2xx.
pub async fn post(url: &str, headers: &[(&str, String)], raw: bool, body: String) -> Result<(), String> {
    let (host, path) = split_url(url)?;
    let attempt = async {
        let mut stream = TcpStream::connect(&host).await.map_err(|e| format!("connecting to {host}: {e}"))?;
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain; charset=UTF-8\r\nUser-Agent: Amazon Simple Notification Service Agent\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if raw {
            request.push_str("x-amz-sns-rawdelivery: true\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        stream.write_all(body.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut head = Vec::with_capacity(64);
        let mut buf = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if (200..300).contains(&status) { Ok(()) } else { Err(format!("{url} answered {status}")) }
    };
    tokio::time::timeout(DELIVERY_TIMEOUT, attempt).await.map_err(|_| format!("{url} did not answer in time"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_authority_and_path() {
        assert_eq!(split_url("http://localhost:8080/hook?a=1").unwrap(), ("localhost:8080".into(), "/hook?a=1".into()));
        assert_eq!(split_url("http://example.com").unwrap(), ("example.com:80".into(), "/".into()));
        assert!(split_url("https://example.com/").is_err());
    }
}
