//! kagami's HTTP front: one server for every AWS service.
//!
//! A request goes through a short, fixed sequence ([`Gateway::handle`]): CORS
//! preflight (S3 buckets with CORS rules answer their own), internal endpoints
//! (`/_kagami/*`, `/_localstack/health`, `/moto-api/reset`), S3 host names
//! ([`s3_host`]: website endpoints, virtual-hosted buckets routed as path style),
//! service detection ([`detect`]), SigV4 ([`sigv4`], [`auth`]; S3's version 2 in
//! [`sigv2`]), the model-driven protocol parser, the service's provider, and the
//! serializer. S3's browser form uploads and the CORS headers of its answers go
//! through `Service::http_surface`. Lambda function URL hosts ([`lambda_url`]) go to
//! Lambda whole, through `Service::endpoint`.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use kagami_gateway::{Gateway, GatewayConfig};
//! let env = kagami_core::ServiceEnv::ephemeral();
//! let services = vec![/* kagami_sqs::new_service(&env)?, ... */];
//! let gateway = std::sync::Arc::new(Gateway::new(GatewayConfig::default(), env, services));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4566").await?;
//! kagami_gateway::serve(listener, gateway, std::future::pending()).await
//! # }
//! ```

pub mod auth;
mod body;
mod cors;
pub mod detect;
mod dispatch;
mod form;
mod handler;
mod internal;
mod lambda_url;
mod panic;
mod queue_path;
pub mod s3_host;
mod s3_surface;
mod server;
pub mod sigv2;
pub mod sigv4;

pub use body::ResponseBody;
pub use server::serve;

use kagami_core::{Service, ServiceEnv};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// Largest request body collected whole. Streaming payloads (S3 object bodies) are not
/// collected and have no gateway limit; everything else AWS accepts is far smaller:
/// Lambda's inline zip is the largest, about 70 MB in base64.
pub const DEFAULT_MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Check SigV4 signatures against known secrets (`--verify-sigv4`).
    pub verify_sigv4: bool,
    /// botocore names of the services that may answer (`SERVICES`); `None` is all.
    /// Every other service answers `NotImplemented`.
    pub enabled_services: Option<HashSet<String>>,
    pub max_body_bytes: usize,
    /// `KAGAMI_S3_CORS=aws`: S3 buckets without a CORS configuration answer as AWS
    /// does (preflights refused, no CORS headers). By default (`permissive`, as
    /// LocalStack) they get the gateway's allow-all CORS; buckets with a configuration
    /// always answer from their rules.
    pub s3_cors_strict: bool,
}

/// The variable that selects S3's CORS mode: `aws` (strict) or `permissive`.
pub const S3_CORS_ENV: &str = "KAGAMI_S3_CORS";

/// Whether `KAGAMI_S3_CORS` asks for AWS's strict CORS on S3 buckets without a
/// configuration.
pub fn s3_cors_strict_from_env(var: impl Fn(&str) -> Option<String>) -> bool {
    var(S3_CORS_ENV).is_some_and(|v| v.trim().eq_ignore_ascii_case("aws"))
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            verify_sigv4: false,
            enabled_services: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            // Read here so that the binary needs no wiring for it.
            s3_cors_strict: s3_cors_strict_from_env(|name| std::env::var(name).ok()),
        }
    }
}

/// A service with a provider, and the operations it answers.
struct Provider {
    service: Arc<dyn Service>,
    implemented: HashSet<&'static str>,
    enabled: bool,
}

/// Routes requests to services. Cheap to share: wrap it in an `Arc`.
pub struct Gateway {
    config: GatewayConfig,
    env: ServiceEnv,
    providers: HashMap<&'static str, Provider>,
    started: Instant,
}

impl Gateway {
    /// `services` are the providers kagami has; every other model service is still
    /// recognised and answers `NotImplemented`.
    pub fn new(config: GatewayConfig, env: ServiceEnv, services: Vec<Arc<dyn Service>>) -> Gateway {
        let providers = services
            .into_iter()
            .map(|service| {
                let name = service.name();
                let enabled = config
                    .enabled_services
                    .as_ref()
                    .is_none_or(|set| set.contains(name));
                let implemented = service.implemented_operations().iter().copied().collect();
                (
                    name,
                    Provider {
                        service,
                        implemented,
                        enabled,
                    },
                )
            })
            .collect();
        Gateway {
            config,
            env,
            providers,
            started: Instant::now(),
        }
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    pub fn env(&self) -> &ServiceEnv {
        &self.env
    }

    /// The provider that answers `operation` of `service`, if one does.
    fn provider_for(&self, service: &str, operation: &str) -> Result<&Provider, Unavailable> {
        match self.providers.get(service) {
            None => Err(Unavailable::NoProvider),
            Some(p) if !p.enabled => Err(Unavailable::Disabled),
            Some(p) if !p.implemented.contains(operation) => Err(Unavailable::NoProvider),
            Some(p) => Ok(p),
        }
    }

    /// Forgets the state of one service, or of all (and the credentials STS issued).
    pub async fn reset(&self, service: Option<&str>) -> Vec<&'static str> {
        let mut done = Vec::new();
        for (name, p) in &self.providers {
            if service.is_none_or(|s| s == *name) {
                p.service.reset();
                done.push(*name);
            }
        }
        if service.is_none_or(|s| s == "sts")
            && let Err(e) = self.env.identities.reset().await
        {
            tracing::warn!("resetting issued credentials: {e}");
        }
        done.sort_unstable();
        done
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unavailable {
    NoProvider,
    Disabled,
}
