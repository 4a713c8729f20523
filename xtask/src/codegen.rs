//! Filled in below.
use anyhow::Result; use std::path::Path;
pub fn run(_root: &Path) -> Result<()> { Ok(()) }
