//! kagami: a local AWS cloud in one binary.
//!
//! Startup is: resolve the configuration, bind, open the store, load identities, build
//! the services, print the listening line, serve until SIGINT/SIGTERM. Nothing here
//! scales with the number of AWS services: their models inflate on first use.

mod config;
mod lazy;

use clap::Parser;
use config::{Cli, Config};
use kagami_core::identity::Identities;
use kagami_core::{Service, ServiceEnv, Store, StoreError};
use kagami_gateway::{Gateway, GatewayConfig};
use lazy::{Group, LazyService};
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;

/// Worker threads: the machine kagami targets has two cores, and idle memory matters.
const WORKER_THREADS: usize = 2;

/// How long blocking work may delay the exit once serving has stopped.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_millis(200);

/// Exit code for bad configuration (as clap uses for bad flags).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::resolve(&cli, |name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kagami: bad configuration: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(config.log_level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("kagami-worker")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kagami: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(config));
    // Tasks still running (a long poll cut short by shutdown) are dropped, not awaited.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kagami: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the data directory: {0}")]
    Store(StoreError),
    #[error("cannot load {what}: {source}")]
    Load {
        what: &'static str,
        source: StoreError,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

async fn run(config: Config) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;

    let store = match &config.data_dir {
        Some(dir) => Store::open(dir).map_err(StartError::Store)?,
        None => Store::ephemeral(),
    };
    let identities =
        Identities::load(&store, &config.default_account).map_err(|source| StartError::Load {
            what: "issued credentials",
            source,
        })?;
    let external_host = config.external_host.as_ref().map(|h| {
        // LocalStack appends the gateway port to a LOCALSTACK_HOST without one.
        if config::has_port(h) {
            h.clone()
        } else {
            format!("{h}:{}", local.port())
        }
    });
    // In-process callers (pollers, retries, functions' SDKs) reach the gateway here.
    let address = external_host.clone().unwrap_or_else(|| match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("127.0.0.1:{}", local.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("[::1]:{}", local.port()),
        _ => local.to_string(),
    });
    let env = ServiceEnv {
        store,
        identities,
        external_host,
        peers: kagami_core::Peers::new(&address),
    };
    let services = build_services(&env).map_err(|source| StartError::Load {
        what: "service state",
        source,
    })?;
    env.peers.install(&services);
    let gateway = Arc::new(Gateway::new(
        GatewayConfig {
            verify_sigv4: config.verify_sigv4,
            enabled_services: config.services.clone(),
            ..GatewayConfig::default()
        },
        env,
        services,
    ));

    // Tests and tools wait for this exact line (and testcontainers for "Ready.").
    println!("kagami listening on http://{local}");
    println!("Ready.");
    let _ = std::io::stdout().flush();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        durable = config.data_dir.is_some(),
        data_dir = ?config.data_dir,
        verify_sigv4 = config.verify_sigv4,
        "kagami started"
    );

    kagami_gateway::serve(listener, Arc::clone(&gateway), shutdown_signal())
        .await
        .map_err(StartError::Serve)?;
    tracing::info!("kagami stopped");
    Ok(())
}

/// Every service kagami provides. A service missing here is still recognised by the
/// gateway and answers NotImplemented. An ephemeral server builds each one on its first
/// request ([`lazy`]); a durable one builds them all now, so stored work resumes.
fn build_services(env: &ServiceEnv) -> Result<Vec<Arc<dyn Service>>, StoreError> {
    if env.store.is_durable() {
        return build_all(env);
    }
    let single = |name, implemented, build: fn(&ServiceEnv) -> Result<Arc<dyn Service>, StoreError>| {
        LazyService::shared(name, implemented, &Group::shared(env, move |env| Ok(vec![build(env)?])), 0)
    };
    // DynamoDB Streams reads DynamoDB's state: one constructor builds both.
    let dynamodb = Group::shared(env, |env| {
        let built = kagami_dynamodb::new_services(env)?;
        Ok(vec![built.dynamodb, built.streams])
    });
    Ok(vec![
        LazyService::shared("dynamodb", kagami_dynamodb::IMPLEMENTED, &dynamodb, 0),
        LazyService::shared("dynamodbstreams", kagami_dynamodb::STREAMS_IMPLEMENTED, &dynamodb, 1),
        single("events", kagami_events::IMPLEMENTED, kagami_events::new_service),
        single("kinesis", kagami_kinesis::IMPLEMENTED, kagami_kinesis::new_service),
        single("lambda", kagami_lambda::IMPLEMENTED, kagami_lambda::new_service),
        single("logs", kagami_logs::IMPLEMENTED, kagami_logs::new_service),
        single("s3", kagami_s3::IMPLEMENTED.as_slice(), kagami_s3::new_service),
        single("sns", kagami_sns::IMPLEMENTED, kagami_sns::new_service),
        single("sqs", kagami_sqs::IMPLEMENTED, kagami_sqs::new_service),
        single("sts", kagami_sts::IMPLEMENTED, kagami_sts::new_service),
    ])
}

fn build_all(env: &ServiceEnv) -> Result<Vec<Arc<dyn Service>>, StoreError> {
    let dynamodb = kagami_dynamodb::new_services(env)?;
    Ok(vec![
        dynamodb.dynamodb,
        dynamodb.streams,
        kagami_events::new_service(env)?,
        kagami_kinesis::new_service(env)?,
        kagami_lambda::new_service(env)?,
        kagami_logs::new_service(env)?,
        kagami_s3::new_service(env)?,
        kagami_sns::new_service(env)?,
        kagami_sqs::new_service(env)?,
        kagami_sts::new_service(env)?,
    ])
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
