//! The EventBridge domain model: event buses of one (account, region), their rules and
//! each rule's targets, and how each is kept in the store.
//!
//! Records: a bus (with its policy and tags) in `events_buses`, a rule (with its
//! targets and tags) in `events_rules`, both keyed `account:region:bus[:rule]` (neither
//! bus nor rule names may contain ':'). The `default` bus of a partition exists without
//! a record until something about it changes.

use crate::generated::{EventsError, Target};
use crate::json::{from_json, to_json};
use crate::pattern::Pattern;
use crate::schedule::Schedule;
use kagami_core::store::StoreOp;
use kagami_core::{Peers, ServiceEnv, Store, StoreError, clock};
use kagami_protocol::shapes::{FromValue, IntoValue};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Notify;

pub(crate) const BUSES: &str = "events_buses";
pub(crate) const RULES: &str = "events_rules";
pub(crate) const DEFAULT_BUS: &str = "default";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BusRecord {
    pub account: String,
    pub region: String,
    pub name: String,
    pub description: Option<String>,
    pub kms_key_identifier: Option<String>,
    pub dead_letter_arn: Option<String>,
    pub log_config: Option<Json>,
    /// The resource policy, as JSON text.
    pub policy: Option<String>,
    pub creation_time: i64,
    pub last_modified_time: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RuleRecord {
    pub account: String,
    pub region: String,
    pub bus: String,
    pub name: String,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// When a rate schedule started counting.
    pub created: i64,
    /// The targets as PutTargets received them (the `Target` shape as JSON).
    #[serde(default)]
    pub targets: Vec<Json>,
}

pub(crate) struct Rule {
    pub rec: RuleRecord,
    pub pattern: Option<Arc<Pattern>>,
    pub schedule: Option<Schedule>,
    pub targets: Vec<Target>,
    /// The next time a scheduled rule fires (emulated epoch milliseconds).
    pub next_fire: Option<i64>,
}

impl Rule {
    pub fn from_record(rec: RuleRecord) -> Rule {
        let pattern = rec.event_pattern.as_deref().and_then(|p| Pattern::parse(p).ok()).map(Arc::new);
        let schedule = rec.schedule_expression.as_deref().and_then(crate::schedule::parse);
        let targets = rec.targets.iter().filter_map(|t| Target::from_value(from_json(t)).ok()).collect();
        let mut rule = Rule { rec, pattern, schedule, targets, next_fire: None };
        rule.reschedule(clock::now_millis());
        rule
    }

    pub fn enabled(&self) -> bool {
        self.rec.state != "DISABLED"
    }

    pub fn arn(&self) -> String {
        rule_arn(&self.rec.account, &self.rec.region, &self.rec.bus, &self.rec.name)
    }

    /// Sets when the rule next fires from `now` (none unless enabled and scheduled).
    pub fn reschedule(&mut self, now: i64) {
        self.next_fire = match (&self.schedule, self.enabled()) {
            (Some(s), true) => s.next_after(self.rec.created, now),
            _ => None,
        };
    }

    pub fn key(&self) -> String {
        rule_key(&self.rec.account, &self.rec.region, &self.rec.bus, &self.rec.name)
    }

    /// The record to store, with the targets as they are now.
    pub fn record_op(&mut self) -> StoreOp {
        self.rec.targets = self.targets.iter().map(|t| to_json(&t.clone().into_value())).collect();
        StoreOp::put_json(RULES, self.key(), &self.rec)
    }
}

pub(crate) struct Bus {
    pub rec: BusRecord,
    pub rules: BTreeMap<String, Rule>,
}

impl Bus {
    pub fn new(account: &str, region: &str, name: &str) -> Bus {
        let now = clock::now_millis();
        Bus {
            rec: BusRecord {
                account: account.to_string(),
                region: region.to_string(),
                name: name.to_string(),
                description: None,
                kms_key_identifier: None,
                dead_letter_arn: None,
                log_config: None,
                policy: None,
                creation_time: now,
                last_modified_time: now,
                tags: BTreeMap::new(),
            },
            rules: BTreeMap::new(),
        }
    }

    pub fn arn(&self) -> String {
        bus_arn(&self.rec.account, &self.rec.region, &self.rec.name)
    }

    pub fn record_op(&self) -> StoreOp {
        StoreOp::put_json(BUSES, bus_key(&self.rec.account, &self.rec.region, &self.rec.name), &self.rec)
    }
}

pub(crate) fn bus_key(account: &str, region: &str, bus: &str) -> String {
    format!("{account}:{region}:{bus}")
}

pub(crate) fn rule_key(account: &str, region: &str, bus: &str, rule: &str) -> String {
    format!("{account}:{region}:{bus}:{rule}")
}

pub(crate) fn bus_arn(account: &str, region: &str, bus: &str) -> String {
    let partition = kagami_core::arn::partition_of_region(region);
    format!("arn:{partition}:events:{region}:{account}:event-bus/{bus}")
}

pub(crate) fn rule_arn(account: &str, region: &str, bus: &str, rule: &str) -> String {
    let partition = kagami_core::arn::partition_of_region(region);
    if bus == DEFAULT_BUS {
        format!("arn:{partition}:events:{region}:{account}:rule/{rule}")
    } else {
        format!("arn:{partition}:events:{region}:{account}:rule/{bus}/{rule}")
    }
}

/// Where a bus lives: an `EventBusName` that is an ARN may name another account or region.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BusRef {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl BusRef {
    /// `name_or_arn` as given (a name, an event-bus ARN, or nothing for `default`),
    /// relative to the caller's account and region.
    pub fn resolve(account: &str, region: &str, name_or_arn: Option<&str>) -> BusRef {
        let given = name_or_arn.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_BUS);
        if let Some(rest) = given.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            if let [_, "events", r, a, resource] = parts.as_slice()
                && let Some(name) = resource.strip_prefix("event-bus/")
            {
                return BusRef { account: a.to_string(), region: r.to_string(), name: name.to_string() };
            }
        }
        BusRef { account: account.to_string(), region: region.to_string(), name: given.to_string() }
    }
}

/// Buses of one (account, region), by name.
pub(crate) struct Partition {
    pub buses: BTreeMap<String, Bus>,
}

/// All EventBridge state.
pub struct Events {
    pub(crate) store: Store,
    pub(crate) peers: Peers,
    pub(crate) partitions: Mutex<HashMap<(String, String), Partition>>,
    /// Woken when a scheduled rule is created, changed or removed.
    pub(crate) schedule_changed: Notify,
}

impl Events {
    pub fn new(env: &ServiceEnv) -> Result<Events, StoreError> {
        let events = Events {
            store: env.store.clone(),
            peers: env.peers.clone(),
            partitions: Mutex::new(HashMap::new()),
            schedule_changed: Notify::new(),
        };
        events.load()?;
        Ok(events)
    }

    fn load(&self) -> Result<(), StoreError> {
        let mut partitions = self.partitions.lock();
        for (_, rec) in self.store.scan_json::<BusRecord>(BUSES)? {
            let partition = partition_entry(&mut partitions, &rec.account, &rec.region);
            let name = rec.name.clone();
            let rules = partition.buses.remove(&name).map(|b| b.rules).unwrap_or_default();
            partition.buses.insert(name, Bus { rec, rules });
        }
        for (_, rec) in self.store.scan_json::<RuleRecord>(RULES)? {
            let partition = partition_entry(&mut partitions, &rec.account, &rec.region);
            let Some(bus) = partition.buses.get_mut(&rec.bus) else { continue };
            bus.rules.insert(rec.name.clone(), Rule::from_record(rec));
        }
        Ok(())
    }

    pub fn reset(&self) {
        self.partitions.lock().clear();
        self.schedule_changed.notify_waiters();
        let store = self.store.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = store.drop_tables("events_").await {
                    tracing::warn!(error = %e, "resetting the events store failed");
                }
            });
        }
    }

    /// Runs `f` on the buses of (account, region); the default bus always exists.
    pub(crate) fn with_partition<R>(&self, account: &str, region: &str, f: impl FnOnce(&mut Partition) -> R) -> R {
        let mut partitions = self.partitions.lock();
        f(partition_entry(&mut partitions, account, region))
    }
}

fn partition_entry<'a>(partitions: &'a mut HashMap<(String, String), Partition>, account: &str, region: &str) -> &'a mut Partition {
    partitions.entry((account.to_string(), region.to_string())).or_insert_with(|| {
        let mut buses = BTreeMap::new();
        buses.insert(DEFAULT_BUS.to_string(), Bus::new(account, region, DEFAULT_BUS));
        Partition { buses }
    })
}

impl Partition {
    pub fn bus_mut(&mut self, name: &str) -> Result<&mut Bus, EventsError> {
        self.buses.get_mut(name).ok_or_else(|| crate::errors::bus_not_found(name))
    }

    pub fn rule_mut(&mut self, bus: &str, rule: &str) -> Result<&mut Rule, EventsError> {
        self.bus_mut(bus)?.rules.get_mut(rule).ok_or_else(|| crate::errors::rule_not_found(rule, bus))
    }
}
