//! `GET /_kagami/lambda/runtimes`: which local program runs each runtime identifier.

use crate::state::Lambda;
use kagami_core::{InternalRequest, InternalResponse};

impl Lambda {
    pub fn internal(&self, req: &InternalRequest) -> Option<InternalResponse> {
        match (req.method.as_str(), req.path.trim_end_matches('/')) {
            ("GET", "/runtimes") => Some(InternalResponse { status: 200, body: self.runtimes() }),
            _ => None,
        }
    }
}
