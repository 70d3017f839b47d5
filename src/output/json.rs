//! The JSON report (`--json`): the state at the end of the run and what happened, with the
//! keys design.md fixes. Maps are ordered so the same run gives the same bytes.

use serde_json::{Map, Value, json};

use crate::lvs::ipvsadm::{dests_in_order, services_in_order};
use crate::lvs::listing::{DestListing, ServiceListing};
use crate::lvs::service::ServiceKey;
use crate::scenario::run::RunResult;
use crate::stack::host::Host;
use crate::stack::route::RouteKind;

fn host_report(host: &Host) -> Value {
    let addrs: Vec<Value> = host
        .ifaces
        .iter()
        .flat_map(|i| {
            i.addrs
                .iter()
                .map(move |a| json!({ "dev": i.name, "label": a.label, "cidr": a.cidr() }))
        })
        .collect();
    let routes: Vec<Value> = crate::scenario::commands::route::sorted_routes(host)
        .into_iter()
        .map(|r| {
            json!({
                "dst": format!("{}/{}", r.dst, r.prefix_len),
                "gateway": r.gateway.map(|g| g.to_string()),
                "dev": r.dev.map(|d| host.ifaces[d].name.clone()),
                "src": r.src.map(|s| s.to_string()),
                "scope": r.scope.to_string(),
                "metric": r.metric,
                "type": match r.kind {
                    RouteKind::Unicast => "unicast",
                    RouteKind::Blackhole => "blackhole",
                    RouteKind::Unreachable => "unreachable",
                    RouteKind::Prohibit => "prohibit",
                },
            })
        })
        .collect();
    let mut neigh: Vec<_> = host.neigh.iter().collect();
    neigh.sort_by_key(|((d, ip), _)| (*d, u32::from(*ip)));
    let neigh: Vec<Value> = neigh
        .into_iter()
        .map(|((d, ip), e)| {
            json!({
                "ip": ip.to_string(),
                "mac": e.mac.filter(|_| e.state.is_valid()).map(|m| m.to_string()),
                "state": e.state.name(),
                "dev": host.ifaces[*d].name,
            })
        })
        .collect();
    let sysctl: Map<String, Value> = host
        .sysctl_snapshot()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({ "addrs": addrs, "routes": routes, "neigh": neigh, "sysctl": sysctl })
}

/// A director's virtual services as `ipvsadm -L -n --stats` would order them.
fn ipvs_report(host: &Host, now_ns: u64) -> Value {
    let snapshot = host.ipvs.snapshot(now_ns);
    let services: Vec<Value> = services_in_order(&snapshot.services, false)
        .into_iter()
        .map(service_report)
        .collect();
    Value::Array(services)
}

fn service_report(svc: &ServiceListing) -> Value {
    let c = &svc.config;
    let (proto, vip, port, fwmark) = match c.key {
        ServiceKey::Addr { proto, addr, port } => {
            (proto.name(), Some(addr.to_string()), Some(port), None)
        }
        ServiceKey::Fwmark { mark, .. } => ("FWM", None, None, Some(mark)),
    };
    let dests: Vec<Value> = dests_in_order(svc, false)
        .into_iter()
        .map(dest_report)
        .collect();
    json!({
        "proto": proto,
        "vip": vip,
        "port": port,
        "fwmark": fwmark,
        "sched": c.sched,
        "persistent": c.is_persistent().then_some(c.timeout),
        "netmask": c.netmask.to_string(),
        "dests": dests,
    })
}

fn dest_report(d: &DestListing) -> Value {
    json!({
        "addr": d.config.addr.to_string(),
        "port": d.config.port,
        "fwd": d.config.fwd.name(),
        "weight": d.config.weight,
        "active": d.activeconns,
        "inactive": d.inactconns,
        "conns": d.stats.conns,
        "inpkts": d.stats.inpkts,
        "outpkts": d.stats.outpkts,
        "inbytes": d.stats.inbytes,
        "outbytes": d.stats.outbytes,
    })
}

/// Builds the report of a finished run.
/// A host's VRRP instances: state, effective priority and every transition of the run.
fn vrrp_report(host: &Host) -> Value {
    let instances: Map<String, Value> = host
        .keepalived
        .records
        .iter()
        .map(|(name, r)| {
            let transitions: Vec<Value> = r
                .transitions
                .iter()
                .map(|t| json!({ "t_ns": t.t.ns(), "from": t.from.name(), "to": t.to.name(), "reason": t.reason }))
                .collect();
            let entry = json!({ "state": r.state.name(), "priority": r.priority, "transitions": transitions });
            (name.clone(), entry)
        })
        .collect();
    Value::Object(instances)
}

pub fn report(scenario_name: &str, title: &str, result: &RunResult) -> Value {
    let world = &result.world;
    let hosts: Map<String, Value> = world
        .hosts
        .iter()
        .map(|h| (h.name.clone(), host_report(h)))
        .collect();
    let ipvs: Map<String, Value> = world
        .hosts
        .iter()
        .filter(|h| h.ipvs.is_active())
        .map(|h| (h.name.clone(), ipvs_report(h, result.end.ns())))
        .collect();
    let apps: Vec<Value> = world
        .trace
        .apps
        .iter()
        .map(|a| json!({ "host": a.host, "cmd": a.cmd, "ok": a.ok, "failed": a.failed, "served_by": a.served_by }))
        .collect();
    let warnings: Vec<Value> = world
        .trace
        .warnings
        .iter()
        .map(|w| json!({ "t_ns": w.t.ns(), "kind": w.kind, "host": w.host, "detail": w.detail }))
        .collect();
    let drops: Vec<Value> = world
        .trace
        .drops
        .iter()
        .map(|d| json!({ "t_ns": d.t.ns(), "host": d.host, "dev": d.dev, "reason": d.reason }))
        .collect();
    let arp_decisions: Vec<Value> = world
        .trace
        .arp_decisions
        .iter()
        .map(|d| json!({ "t_ns": d.t.ns(), "host": d.host, "dev": d.dev, "ip": d.ip.to_string(), "kind": d.kind, "detail": d.detail }))
        .collect();
    let vrrp: Map<String, Value> = world
        .hosts
        .iter()
        .filter(|h| !h.keepalived.records.is_empty())
        .map(|h| (h.name.clone(), vrrp_report(h)))
        .collect();
    let mut records: Vec<_> = world
        .hosts
        .iter()
        .flat_map(|h| h.keepalived.check_records.iter().map(move |c| (h, c)))
        .collect();
    records.sort_by_key(|(_, c)| c.t);
    let checkers: Vec<Value> = records
        .into_iter()
        .map(|(h, c)| {
            json!({ "t_ns": c.t.ns(), "director": h.name, "rs": c.rs, "result": c.result, "action": c.action })
        })
        .collect();
    let expectations: Vec<Value> = result
        .outcomes
        .iter()
        .map(|o| json!({ "index": o.index, "time_ns": o.time_ns, "text": o.text, "passed": o.passed, "detail": o.detail, "got": o.got }))
        .collect();
    json!({
        "scenario": scenario_name,
        "title": title,
        "seed": result.seed,
        "end_ns": result.end.ns(),
        "frames": world.stats.frames,
        "hosts": hosts,
        "ipvs": ipvs,
        "apps": apps,
        "warnings": warnings,
        "drops": drops,
        "arp_decisions": arp_decisions,
        "vrrp": vrrp,
        "checkers": checkers,
        "expectations": expectations,
    })
}
