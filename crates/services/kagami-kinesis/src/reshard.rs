//! Resharding: SplitShard, MergeShards and UpdateShardCount. A parent shard is closed
//! (its range and records stay readable until retention ages them out) and children
//! take over its hash keys, at once: the stream never shows UPDATING.

use crate::errors::{invalid, store_failed};
use crate::generated::*;
use crate::keys::{even_ranges, parse_hash_key};
use crate::state::{Kinesis, Shard, Stream, resolve_name, stream_mut};
use crate::streams::{SHARD_LIMIT, shard_limit_error};
use kagami_core::store::StoreOp;
use kagami_core::{RequestContext, ServiceError, clock};

fn close(stream: &mut Stream, index: u32, now: i64, ops: &mut Vec<StoreOp>) {
    if let Some(shard) = stream.shards.get_mut(&index) {
        shard.rec.closed_ms = Some(now);
    }
    if let Some(shard) = stream.shards.get(&index) {
        ops.push(stream.shard_op(shard));
    }
}

fn add(stream: &mut Stream, range: (u128, u128), parents: (Option<u32>, Option<u32>), now: i64, ops: &mut Vec<StoreOp>) {
    let index = stream.rec.next_shard_index;
    stream.rec.next_shard_index += 1;
    let shard = Shard::new(index, range, parents, now);
    ops.push(stream.shard_op(&shard));
    stream.shards.insert(index, shard);
}

fn open_shard(stream: &Stream, id: &str) -> Result<u32, KinesisError> {
    let shard = stream.shard(id)?;
    if !shard.is_open() {
        return Err(KinesisError::ResourceInUseException(format!(
            "Shard {id} in stream {} under account {} has already been merged or split, and thus is not eligible for merging or splitting.",
            stream.rec.name, stream.rec.account
        )));
    }
    Ok(shard.rec.index)
}

impl Kinesis {
    async fn reshard(
        &self,
        ctx: &RequestContext,
        name: &str,
        f: impl FnOnce(&mut Stream, i64, &mut Vec<StoreOp>) -> Result<(), KinesisError>,
    ) -> Result<(), ServiceError> {
        let now = clock::now_millis();
        let commit = self.with_partition(ctx, |p| {
            let open_elsewhere: usize = p.values().filter(|s| s.rec.name != name).map(Stream::open_shard_count).sum();
            let stream = stream_mut(p, ctx, name)?;
            let mut ops = Vec::new();
            stream.expire(now, &mut ops);
            f(stream, now, &mut ops)?;
            let open = stream.open_shard_count();
            if open_elsewhere + open > usize::try_from(SHARD_LIMIT).unwrap_or(0) {
                return Err(shard_limit_error(ctx, open_elsewhere, open));
            }
            ops.push(stream.record_op());
            Ok(self.store.submit(ops))
        })?;
        commit.wait().await.map_err(store_failed)
    }

    pub async fn split_shard(&self, ctx: &RequestContext, input: SplitShardInput) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let key = input.new_starting_hash_key;
        let shard_id = input.shard_to_split;
        self.reshard(ctx, &name, |stream, now, ops| {
            let index = open_shard(stream, &shard_id)?;
            let (start, end) = stream.shards.get(&index).map(|s| (s.start, s.end)).unwrap_or_default();
            let split = parse_hash_key(&key)
                .filter(|k| *k > start && *k <= end)
                .ok_or_else(|| invalid(format!("NewStartingHashKey {key} used in SplitShard() on shard {shard_id} in stream {name} under account {} is not both greater than one plus the shard's StartingHashKey {start} and less than the shard's EndingHashKey {end}.", ctx.account_id)))?;
            close(stream, index, now, ops);
            add(stream, (start, split - 1), (Some(index), None), now, ops);
            add(stream, (split, end), (Some(index), None), now, ops);
            Ok(())
        })
        .await
    }

    pub async fn merge_shards(&self, ctx: &RequestContext, input: MergeShardsInput) -> Result<(), ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        let (a_id, b_id) = (input.shard_to_merge, input.adjacent_shard_to_merge);
        self.reshard(ctx, &name, |stream, now, ops| {
            let a = open_shard(stream, &a_id)?;
            let b = open_shard(stream, &b_id)?;
            let range = |i: u32| stream.shards.get(&i).map(|s| (s.start, s.end)).unwrap_or_default();
            let ((a_start, a_end), (b_start, b_end)) = (range(a), range(b));
            let adjacent = a != b && (a_end.checked_add(1) == Some(b_start) || b_end.checked_add(1) == Some(a_start));
            if !adjacent {
                return Err(invalid(format!("Shards {a_id} and {b_id} in stream {name} under account {} are not an adjacent pair of shards eligible for merging", ctx.account_id)));
            }
            close(stream, a, now, ops);
            close(stream, b, now, ops);
            add(stream, (a_start.min(b_start), a_end.max(b_end)), (Some(a), Some(b)), now, ops);
            Ok(())
        })
        .await
    }

    pub async fn update_shard_count(&self, ctx: &RequestContext, input: UpdateShardCountInput) -> Result<UpdateShardCountOutput, ServiceError> {
        let name = resolve_name(ctx, input.stream_name.as_deref(), input.stream_arn.as_deref())?;
        if input.scaling_type != "UNIFORM_SCALING" {
            return Err(crate::errors::constraint(&input.scaling_type, "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]").into());
        }
        let target = input.target_shard_count;
        if target < 1 {
            return Err(crate::errors::constraint(target, "targetShardCount", "Member must have value greater than or equal to 1").into());
        }
        let mut current = 0;
        let mut arn = String::new();
        self.reshard(ctx, &name, |stream, now, ops| {
            if stream.rec.mode == "ON_DEMAND" {
                return Err(invalid(format!("UpdateShardCount is not supported for stream {name} under account {} in ON_DEMAND mode.", ctx.account_id)));
            }
            arn = stream.arn();
            let open: Vec<(u32, u128, u128)> = stream.shards.values().filter(|s| s.is_open()).map(|s| (s.rec.index, s.start, s.end)).collect();
            current = i32::try_from(open.len()).unwrap_or(i32::MAX);
            // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html
            if target > current.saturating_mul(2) {
                return Err(KinesisError::LimitExceededException(format!(
                    "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            if target.saturating_mul(2) < current {
                return Err(KinesisError::LimitExceededException(format!(
                    "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: {current} Target shard count: {target}"
                )));
            }
            if target == current {
                return Ok(());
            }
            for (index, _, _) in &open {
                close(stream, *index, now, ops);
            }
            for (start, end) in even_ranges(u32::try_from(target).unwrap_or(1)) {
                // Lineage: the old shards this range overlaps, first two (as AWS records at most two parents).
                let mut parents = open.iter().filter(|(_, s, e)| *s <= end && start <= *e).map(|(i, _, _)| *i);
                let parent = parents.next();
                let adjacent = parents.next();
                add(stream, (start, end), (parent, adjacent), now, ops);
            }
            Ok(())
        })
        .await?;
        Ok(UpdateShardCountOutput { stream_name: Some(name), current_shard_count: Some(current), target_shard_count: Some(target), stream_arn: Some(arn) })
    }
}
