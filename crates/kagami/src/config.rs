//! Configuration: command-line flags, kagami's `KAGAMI_*` environment variables, and
//! LocalStack's names (`GATEWAY_LISTEN`, `DATA_DIR`, `PERSISTENCE`, `SERVICES`,
//! `LOCALSTACK_HOST`, `DEBUG`) so that switching from LocalStack changes nothing but the
//! binary. A flag wins over kagami's variable, which wins over LocalStack's.

use clap::Parser;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

pub const DEFAULT_PORT: u16 = 4566;
const DEFAULT_DATA_DIR: &str = ".kagami-data";

/// kagami: a local AWS cloud. Point the AWS CLI and SDKs at it with
/// AWS_ENDPOINT_URL=http://localhost:4566.
#[derive(Debug, Default, Parser)]
#[command(name = "kagami", version)]
pub struct Cli {
    /// Address to listen on: `HOST:PORT`, `:PORT` or `PORT` (a comma list uses the first).
    /// Port 0 picks a free port; the startup line names the one bound.
    /// Env: KAGAMI_LISTEN, or LocalStack's GATEWAY_LISTEN. [default: 127.0.0.1:4566]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Port to listen on, overriding the port of --listen.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Keep state durably in DIR: every acknowledged write survives kill -9 and restart.
    /// Env: KAGAMI_DATA_DIR. LocalStack's PERSISTENCE=1 also makes state durable, in
    /// DATA_DIR or ./.kagami-data. Without either, state lives in memory.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Account of access keys that are not 12-digit account ids (12 digits).
    /// Env: KAGAMI_DEFAULT_ACCOUNT. [default: 000000000000]
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub default_account: Option<String>,

    /// Check SigV4 signatures against the secrets of known keys (test/test, and keys
    /// issued by STS); wrong ones answer SignatureDoesNotMatch / InvalidClientTokenId.
    /// Env: KAGAMI_VERIFY_SIGV4=1.
    #[arg(long)]
    pub verify_sigv4: bool,

    /// Comma-separated services to enable (botocore names: sqs,sts); the others answer
    /// NotImplemented. Env: SERVICES (or KAGAMI_SERVICES). [default: all]
    #[arg(long, value_name = "LIST")]
    pub services: Option<String>,

    /// Host (and port) to put in URLs handed out, such as queue URLs, instead of the host
    /// the client called; without a port, the listening port is used.
    /// Env: KAGAMI_HOST, or LocalStack's LOCALSTACK_HOST.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub external_host: Option<String>,

    /// Log level: error, warn, info, debug (one access-log line per request) or trace.
    /// Env: KAGAMI_LOG_LEVEL; LocalStack's DEBUG=1 means debug. [default: info]
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// `Some` means durable state in that directory.
    pub data_dir: Option<PathBuf>,
    pub default_account: String,
    pub verify_sigv4: bool,
    pub services: Option<HashSet<String>>,
    pub external_host: Option<String>,
    pub log_level: tracing::Level,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("{source_name}: cannot listen on '{value}': {reason}")]
    Listen {
        source_name: &'static str,
        value: String,
        reason: String,
    },
    #[error("{source_name}: '{value}' is not an account id: it must be 12 digits")]
    Account {
        source_name: &'static str,
        value: String,
    },
    #[error(
        "{source_name}: unknown service(s) {unknown}; use botocore names such as sqs, sts, s3, dynamodb"
    )]
    Services {
        source_name: &'static str,
        unknown: String,
    },
    #[error("{name}: '{value}' is not a boolean (use 1/0, true/false, yes/no, on/off)")]
    Bool { name: &'static str, value: String },
    #[error("{source_name}: '{value}' is not a host[:port] (no scheme, path or spaces)")]
    Host {
        source_name: &'static str,
        value: String,
    },
    #[error("{source_name}: '{value}' is not a log level (error, warn, info, debug, trace)")]
    LogLevel {
        source_name: &'static str,
        value: String,
    },
    #[error("{source_name}: the data directory must not be empty")]
    DataDir { source_name: &'static str },
}

impl Config {
    /// Resolves flags and environment; `env` looks a variable up (the process
    /// environment in `main`, a map in tests). Empty variables count as unset.
    pub fn resolve(cli: &Cli, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &'static str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (name, v))
        };

        let listen = match (
            &cli.listen,
            var("KAGAMI_LISTEN").or_else(|| var("GATEWAY_LISTEN")),
        ) {
            (Some(v), _) => parse_listen("--listen", v)?,
            (None, Some((name, v))) => parse_listen(name, &v)?,
            (None, None) => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
        };
        let listen = match cli.port {
            Some(p) => SocketAddr::new(listen.ip(), p),
            None => listen,
        };

        let data_dir = match (&cli.data_dir, var("KAGAMI_DATA_DIR")) {
            (Some(d), _) => Some(non_empty_dir("--data-dir", d.clone())?),
            (None, Some((name, d))) => Some(non_empty_dir(name, PathBuf::from(d))?),
            (None, None) => {
                let persistence = match var("PERSISTENCE") {
                    Some((name, v)) => parse_bool(name, &v)?,
                    None => false,
                };
                persistence.then(|| {
                    var("DATA_DIR")
                        .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), |(_, d)| d.into())
                })
            }
        };

        let default_account = match (&cli.default_account, var("KAGAMI_DEFAULT_ACCOUNT")) {
            (Some(a), _) => parse_account("--default-account", a)?,
            (None, Some((name, a))) => parse_account(name, &a)?,
            (None, None) => kagami_core::DEFAULT_ACCOUNT_ID.to_string(),
        };

        let verify_sigv4 = cli.verify_sigv4
            || match var("KAGAMI_VERIFY_SIGV4") {
                Some((name, v)) => parse_bool(name, &v)?,
                None => false,
            };

        let services = match (
            &cli.services,
            var("KAGAMI_SERVICES").or_else(|| var("SERVICES")),
        ) {
            (Some(s), _) => parse_services("--services", s)?,
            (None, Some((name, s))) => parse_services(name, &s)?,
            (None, None) => None,
        };

        let external_host = match (
            &cli.external_host,
            var("KAGAMI_HOST").or_else(|| var("LOCALSTACK_HOST")),
        ) {
            (Some(h), _) => Some(parse_host("--external-host", h)?),
            (None, Some((name, h))) => Some(parse_host(name, &h)?),
            (None, None) => None,
        };

        let log_level = match (&cli.log_level, var("KAGAMI_LOG_LEVEL")) {
            (Some(l), _) => parse_level("--log-level", l)?,
            (None, Some((name, l))) => parse_level(name, &l)?,
            (None, None) => {
                let debug = var("DEBUG")
                    .is_some_and(|(_, v)| !matches!(v.trim(), "0" | "false" | "no" | "off"));
                if debug {
                    tracing::Level::DEBUG
                } else {
                    tracing::Level::INFO
                }
            }
        };

        Ok(Config {
            listen,
            data_dir,
            default_account,
            verify_sigv4,
            services,
            external_host,
            log_level,
        })
    }
}

/// `HOST:PORT`, `:PORT`, `PORT`, `HOST` (port 4566), or a comma list of these (first wins).
fn parse_listen(source_name: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    let err = |reason: &str| ConfigError::Listen {
        source_name,
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let first = value
        .split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
        .ok_or_else(|| err("it is empty"))?;
    if first.contains("://") {
        return Err(err("give HOST:PORT without a scheme"));
    }
    if let Ok(addr) = first.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = match first.rsplit_once(':') {
        // A bare IPv6 address has colons but no port.
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, Some(p)),
        _ => (first, None),
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| err(&format!("'{p}' is not a port (0-65535)")))?,
        None if host.bytes().all(|b| b.is_ascii_digit()) => {
            return host
                .parse::<u16>()
                .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
                .map_err(|_| err(&format!("'{host}' is not a port (0-65535)")));
        }
        None => DEFAULT_PORT,
    };
    let ip = match host.trim_start_matches('[').trim_end_matches(']') {
        "" | "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        h => h.parse::<IpAddr>().map_err(|_| {
            err(&format!(
                "'{h}' is not an IP address (use 127.0.0.1, 0.0.0.0 or localhost)"
            ))
        })?,
    };
    Ok(SocketAddr::new(ip, port))
}

fn non_empty_dir(source_name: &'static str, dir: PathBuf) -> Result<PathBuf, ConfigError> {
    if dir.as_os_str().is_empty() {
        Err(ConfigError::DataDir { source_name })
    } else {
        Ok(dir)
    }
}

fn parse_account(source_name: &'static str, value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(v.to_string())
    } else {
        Err(ConfigError::Account {
            source_name,
            value: value.to_string(),
        })
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError::Bool {
            name,
            value: value.to_string(),
        }),
    }
}

/// A comma list of botocore service names; empty means all.
fn parse_services(
    source_name: &'static str,
    value: &str,
) -> Result<Option<HashSet<String>>, ConfigError> {
    let names: Vec<String> = value
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| kagami_model::service(n).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ConfigError::Services {
            source_name,
            unknown: unknown.join(", "),
        });
    }
    Ok(Some(names.into_iter().collect()))
}

fn parse_host(source_name: &'static str, value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    if v.is_empty() || v.contains("://") || v.contains('/') || v.chars().any(char::is_whitespace) {
        return Err(ConfigError::Host {
            source_name,
            value: value.to_string(),
        });
    }
    Ok(v.to_string())
}

/// Whether a `host[:port]` names its port.
pub fn has_port(host: &str) -> bool {
    match host.rsplit_once(':') {
        Some((h, p)) => {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']'))
        }
        None => false,
    }
}

fn parse_level(source_name: &'static str, value: &str) -> Result<tracing::Level, ConfigError> {
    value
        .trim()
        .parse::<tracing::Level>()
        .map_err(|_| ConfigError::LogLevel {
            source_name,
            value: value.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(args: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let cli =
            Cli::try_parse_from(std::iter::once("kagami").chain(args.iter().copied())).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(&cli, |k| env.get(k).cloned())
    }

    #[test]
    fn defaults_are_localhost_4566_in_memory() {
        let c = resolve(&[], &[]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:4566".parse().unwrap());
        assert_eq!(c.data_dir, None);
        assert_eq!(c.default_account, "000000000000");
        assert!(!c.verify_sigv4);
        assert_eq!(c.services, None);
        assert_eq!(c.external_host, None);
        assert_eq!(c.log_level, tracing::Level::INFO);
    }

    #[test]
    fn listen_accepts_localstack_forms() {
        let listen = |v: &str| resolve(&["--listen", v], &[]).map(|c| c.listen.to_string());
        assert_eq!(listen(":4566").unwrap(), "127.0.0.1:4566");
        assert_eq!(listen("0.0.0.0:4566").unwrap(), "0.0.0.0:4566");
        assert_eq!(listen("0.0.0.0:4566,0.0.0.0:443").unwrap(), "0.0.0.0:4566");
        assert_eq!(listen("localhost:1234").unwrap(), "127.0.0.1:1234");
        assert_eq!(listen("127.0.0.1:0").unwrap(), "127.0.0.1:0");
        assert_eq!(listen("5000").unwrap(), "127.0.0.1:5000");
        assert_eq!(listen("0.0.0.0").unwrap(), "0.0.0.0:4566");
        assert_eq!(listen("[::1]:4566").unwrap(), "[::1]:4566");
        assert!(matches!(
            listen("example.com:80"),
            Err(ConfigError::Listen { .. })
        ));
        assert!(matches!(
            listen("127.0.0.1:99999"),
            Err(ConfigError::Listen { .. })
        ));
        assert!(matches!(
            listen("http://localhost:4566"),
            Err(ConfigError::Listen { .. })
        ));
    }

    #[test]
    fn listen_comes_from_flag_then_kagami_then_gateway_listen() {
        let c = resolve(&[], &[("GATEWAY_LISTEN", ":5001")]).unwrap();
        assert_eq!(c.listen.port(), 5001);
        let c = resolve(
            &[],
            &[("GATEWAY_LISTEN", ":5001"), ("KAGAMI_LISTEN", ":5002")],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 5002);
        let c = resolve(&["--listen", ":5003"], &[("KAGAMI_LISTEN", ":5002")]).unwrap();
        assert_eq!(c.listen.port(), 5003);
        let c = resolve(&["--listen", ":5003", "--port", "0"], &[]).unwrap();
        assert_eq!(c.listen.port(), 0);
    }

    #[test]
    fn data_dir_alone_means_durable() {
        let c = resolve(&["--data-dir", "/tmp/k"], &[]).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from("/tmp/k")));
        let c = resolve(&[], &[("KAGAMI_DATA_DIR", "/tmp/j")]).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from("/tmp/j")));
    }

    #[test]
    fn persistence_uses_data_dir_or_the_default_directory() {
        let c = resolve(&[], &[("PERSISTENCE", "1"), ("DATA_DIR", "/var/lib/ls")]).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from("/var/lib/ls")));
        let c = resolve(&[], &[("PERSISTENCE", "true")]).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from(".kagami-data")));
        let c = resolve(&[], &[("DATA_DIR", "/var/lib/ls")]).unwrap();
        assert_eq!(c.data_dir, None);
        assert!(matches!(
            resolve(&[], &[("PERSISTENCE", "maybe")]),
            Err(ConfigError::Bool {
                name: "PERSISTENCE",
                ..
            })
        ));
    }

    #[test]
    fn default_account_must_be_twelve_digits() {
        assert_eq!(
            resolve(&["--default-account", "111122223333"], &[])
                .unwrap()
                .default_account,
            "111122223333"
        );
        assert!(matches!(
            resolve(&["--default-account", "1234"], &[]),
            Err(ConfigError::Account { .. })
        ));
        assert!(matches!(
            resolve(&[], &[("KAGAMI_DEFAULT_ACCOUNT", "abcdefghijkl")]),
            Err(ConfigError::Account {
                source_name: "KAGAMI_DEFAULT_ACCOUNT",
                ..
            })
        ));
    }

    #[test]
    fn verify_sigv4_from_flag_or_env() {
        assert!(resolve(&["--verify-sigv4"], &[]).unwrap().verify_sigv4);
        assert!(
            resolve(&[], &[("KAGAMI_VERIFY_SIGV4", "1")])
                .unwrap()
                .verify_sigv4
        );
        assert!(
            !resolve(&[], &[("KAGAMI_VERIFY_SIGV4", "0")])
                .unwrap()
                .verify_sigv4
        );
        assert!(resolve(&[], &[("KAGAMI_VERIFY_SIGV4", "perhaps")]).is_err());
    }

    #[test]
    fn services_are_botocore_names() {
        let c = resolve(&[], &[("SERVICES", "sqs, STS")]).unwrap();
        assert_eq!(
            c.services,
            Some(["sqs".to_string(), "sts".to_string()].into_iter().collect())
        );
        let err = resolve(&["--services", "sqs,nosuch"], &[]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Services {
                source_name: "--services",
                unknown: "nosuch".into()
            }
        );
        assert_eq!(resolve(&[], &[("SERVICES", " , ")]).unwrap().services, None);
    }

    #[test]
    fn external_host_from_kagami_host_or_localstack_host() {
        let c = resolve(
            &[],
            &[("LOCALSTACK_HOST", "localhost.localstack.cloud:4566")],
        )
        .unwrap();
        assert_eq!(
            c.external_host.as_deref(),
            Some("localhost.localstack.cloud:4566")
        );
        let c = resolve(&[], &[("LOCALSTACK_HOST", "a:1"), ("KAGAMI_HOST", "b:2")]).unwrap();
        assert_eq!(c.external_host.as_deref(), Some("b:2"));
        assert!(matches!(
            resolve(&["--external-host", "http://x"], &[]),
            Err(ConfigError::Host { .. })
        ));
        assert!(has_port("host:4566"));
        assert!(!has_port("host"));
        assert!(has_port("[::1]:80"));
    }

    #[test]
    fn debug_means_debug_logging() {
        assert_eq!(
            resolve(&[], &[("DEBUG", "1")]).unwrap().log_level,
            tracing::Level::DEBUG
        );
        assert_eq!(
            resolve(&[], &[("DEBUG", "0")]).unwrap().log_level,
            tracing::Level::INFO
        );
        assert_eq!(
            resolve(&["--log-level", "warn"], &[("DEBUG", "1")])
                .unwrap()
                .log_level,
            tracing::Level::WARN
        );
        assert!(matches!(
            resolve(&["--log-level", "loud"], &[]),
            Err(ConfigError::LogLevel { .. })
        ));
    }
}
