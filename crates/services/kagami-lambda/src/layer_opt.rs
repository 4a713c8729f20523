//! The directory that plays `/opt` for a function: its layers unpacked in the order the
//! function lists them, a later layer overwriting what an earlier one put at the same
//! path, one tree per distinct list (made on first use, shared by functions that list
//! the same layers). And the search paths a runtime gets into it, in Lambda's order.
//! https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths
//! https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime

use crate::code::{CodeStore, digests};
use crate::layers::FunctionLayer;
use crate::runtimes::{self, Family};
use std::fs;
use std::path::{Path, PathBuf};

/// Unpacks `layers` (none: no `/opt`) and returns the tree's root.
pub fn unpack(files: &CodeStore, layers: &[FunctionLayer]) -> Result<Option<PathBuf>, String> {
    if layers.is_empty() {
        return Ok(None);
    }
    let list: Vec<&str> = layers.iter().map(|l| l.code_hex.as_str()).collect();
    let id = digests(list.join(",").as_bytes()).hex;
    let base = files.work_dir().join("opt");
    let root = base.join(&id);
    if root.join(".complete").exists() {
        return Ok(Some(root));
    }
    let partial = base.join(format!("{id}.{}", kagami_core::ids::upper_alnum(8)));
    for layer in layers {
        let zip = files.get(&layer.code_hex).map_err(|e| format!("reading layer {}: {e}", layer.arn))?;
        crate::zip::extract(&zip, &partial).map_err(|e| format!("unpacking layer {}: {e}", layer.arn))?;
    }
    fs::write(partial.join(".complete"), b"").map_err(|e| format!("unpacking layers: {e}"))?;
    // Another invoke may have unpacked the same list meanwhile: either tree is the same.
    if fs::rename(&partial, &root).is_err() {
        let _ = fs::remove_dir_all(&partial);
    }
    Ok(Some(root))
}

fn joined(parts: impl IntoIterator<Item = PathBuf>) -> String {
    parts.into_iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

/// PATH, LD_LIBRARY_PATH and the language's module path, with `opt` where Lambda has
/// `/opt` and the task root where it has `/var/task`. The user's own variables, set
/// after these, still replace them, as in Lambda.
pub fn search_paths(runtime: &str, task_root: &Path, opt: Option<&Path>) -> Vec<(&'static str, String)> {
    let host_path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let Some(opt) = opt else {
        return vec![("PATH", host_path)];
    };
    let mut vars = vec![("PATH", format!("{host_path}:{}", opt.join("bin").display()))];
    let mut libs: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH").iter().flat_map(std::env::split_paths).collect();
    libs.extend([task_root.to_path_buf(), task_root.join("lib"), opt.join("lib")]);
    vars.push(("LD_LIBRARY_PATH", joined(libs)));
    match runtimes::family(runtime) {
        Some(Family::Python) => {
            // sys.path in Lambda: /var/task, then the layer's site-packages, then /opt/python.
            let site = opt.join("python/lib").join(runtime).join("site-packages");
            vars.push(("PYTHONPATH", joined([site, opt.join("python")])));
        }
        Some(Family::Node) => {
            let major = runtime.trim_start_matches("nodejs").trim_end_matches(".x");
            vars.push((
                "NODE_PATH",
                joined([opt.join(format!("nodejs/node{major}/node_modules")), opt.join("nodejs/node_modules"), task_root.to_path_buf()]),
            ));
        }
        Some(Family::Provided) | None => {}
    }
    vars
}

/// A custom runtime's `bootstrap`: the package's, else one a layer brings to `/opt`.
pub fn bootstrap(task_root: &Path, opt: Option<&Path>) -> PathBuf {
    let own = task_root.join("bootstrap");
    match opt.map(|o| o.join("bootstrap")) {
        Some(layered) if !own.exists() && layered.exists() => layered,
        _ => own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_node_paths_follow_lambda_order() {
        let opt = Path::new("/o");
        let task = Path::new("/t");
        let py = search_paths("python3.12", task, Some(opt));
        assert!(py.contains(&("PYTHONPATH", "/o/python/lib/python3.12/site-packages:/o/python".to_string())));
        assert!(py.iter().any(|(k, v)| *k == "PATH" && v.ends_with(":/o/bin")));
        assert!(py.iter().any(|(k, v)| *k == "LD_LIBRARY_PATH" && v.ends_with("/t:/t/lib:/o/lib")));
        let node = search_paths("nodejs20.x", task, Some(opt));
        assert!(node.contains(&("NODE_PATH", "/o/nodejs/node20/node_modules:/o/nodejs/node_modules:/t".to_string())));
        assert_eq!(search_paths("python3.12", task, None).len(), 1);
    }
}
