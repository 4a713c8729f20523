//! Marker pagination for the control-plane List operations: the marker is the key of
//! the last item of the previous page.

use kagami_core::ServiceError;

/// MaxItems checked against the model's range (1..=`model_max`), capped at `ceiling`.
pub fn max_items(value: Option<i32>, model_max: i32, ceiling: usize) -> Result<usize, ServiceError> {
    match value {
        None => Ok(ceiling),
        Some(n) if (1..=model_max).contains(&n) => Ok(usize::try_from(n).unwrap_or(ceiling).min(ceiling)),
        Some(n) => Err(crate::errors::validation(&format!(
            "Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value {}",
            if n < 1 { "greater than or equal to 1".to_string() } else { format!("less than or equal to {model_max}") }
        ))),
    }
}

/// One page of `items` (sorted by key) after `marker`, and the marker of the next page.
pub fn page<T>(items: Vec<(String, T)>, marker: Option<&str>, max: usize) -> (Vec<T>, Option<String>) {
    let mut rest = items.into_iter().filter(|(k, _)| marker.is_none_or(|m| k.as_str() > m)).peekable();
    let mut out = Vec::new();
    let mut last = None;
    while out.len() < max {
        let Some((k, v)) = rest.next() else { break };
        out.push(v);
        last = Some(k);
    }
    let next = rest.peek().is_some().then_some(last).flatten();
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_marker() {
        let items = || (1..=5).map(|i| (format!("k{i}"), i)).collect::<Vec<_>>();
        assert_eq!(page(items(), None, 2), (vec![1, 2], Some("k2".to_string())));
        assert_eq!(page(items(), Some("k2"), 2), (vec![3, 4], Some("k4".to_string())));
        assert_eq!(page(items(), Some("k4"), 2), (vec![5], None));
        assert!(max_items(Some(0), 50, 50).is_err() && max_items(Some(51), 50, 50).is_err());
    }
}
