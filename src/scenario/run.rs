//! Running a scenario: build the world, run the setup scripts at t = 0, schedule the
//! timeline, and check the expectations at their times.

use std::time::{Duration, Instant};

use super::commands::{self, ScriptCommand};
use super::expect::{self, Outcome};
use super::source::Diagnostic;
use super::{AtAction, Scenario};
use crate::sim::SimTime;
use crate::sim::world::{Event, Stop, World};
use crate::stack::addr::IfAddr;
use crate::stack::host::Host;
use crate::stack::iface::Attachment;
use crate::stack::lan::Lan;
use crate::trace::{HostId, Sink};

/// The default bound on processed events: far above any shipped lab, low enough to stop a
/// scenario that would never end.
pub const DEFAULT_MAX_EVENTS: u64 = 200_000_000;

pub struct RunOptions {
    pub seed: Option<u64>,
    pub until: Option<SimTime>,
    pub max_events: u64,
    pub sinks: Vec<Box<dyn Sink>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            until: None,
            max_events: DEFAULT_MAX_EVENTS,
            sinks: Vec::new(),
        }
    }
}

pub struct RunResult {
    pub world: World,
    pub seed: u64,
    pub stop: Stop,
    pub end: SimTime,
    pub outcomes: Vec<Outcome>,
    pub wall: Duration,
}

impl RunResult {
    pub fn all_passed(&self) -> bool {
        self.outcomes.iter().all(|o| o.passed)
    }

    /// The message for a run cut short by `--max-events`.
    pub fn runaway_message(&self, max_events: u64) -> Option<String> {
        (self.stop == Stop::MaxEvents).then(|| {
            format!(
                "stopped after {max_events} events at t={}s: the scenario may never end (a program without -c, or no `until`); set `until` in the file or raise --max-events",
                self.end
            )
        })
    }
}

/// Builds hosts and LANs as the scenario declares them; NICs with `addr` come up with it.
pub fn build(scenario: &Scenario, seed: u64) -> World {
    let mut lans: Vec<Lan> = scenario
        .lans
        .iter()
        .map(|l| Lan::new(&l.name, l.kind, l.latency, l.bandwidth))
        .collect();
    let mut hosts = Vec::new();
    for (id, spec) in scenario.hosts.iter().enumerate() {
        let mut host = Host::new(id, &spec.name, seed);
        if let Some(ports) = &spec.web_ports {
            host.web.ports = ports.clone();
        }
        host.keepalived.conf = spec.keepalived.clone();
        for nic in &spec.nics {
            let port = lans[nic.lan].add_port(id, host.ifaces.len(), nic.latency);
            let dev = host.add_nic(&nic.name, nic.mac, Attachment { lan: nic.lan, port });
            host.ifaces[dev].boot_addrs = nic.addrs.clone();
            if !nic.addrs.is_empty() {
                host.ifaces[dev].admin_up = true;
                for &(local, prefix_len) in &nic.addrs {
                    let _ =
                        host.add_address(dev, IfAddr::with_broadcast(local, prefix_len, &nic.name));
                }
            }
        }
        hosts.push(host);
    }
    World::new(hosts, lans)
}

/// Runs `commands` on `host` now. In setup a failure is an error at the command's position;
/// in the timeline it is printed and the run goes on (as on a real shell).
fn run_commands(
    world: &mut World,
    host: HostId,
    list: &[ScriptCommand],
) -> Result<(), (usize, String)> {
    let mut previous_ok = true;
    for (i, command) in list.iter().enumerate() {
        if command.line.after_success && !previous_ok {
            continue;
        }
        let result = world.with_host(host, |h, ctx| commands::run(h, ctx, command));
        previous_ok = result.is_ok();
        if let Err(message) = result {
            return Err((i, message));
        }
    }
    Ok(())
}

/// Runs every host's `setup` script at t = 0, in file order. A failing command stops the
/// run with the tool's message at the command's position.
pub fn setup(world: &mut World, scenario: &Scenario) -> Result<(), Diagnostic> {
    for (id, host) in scenario.hosts.iter().enumerate() {
        if let Err((i, message)) = run_commands(world, id, &host.setup) {
            let command = &host.setup[i];
            let message = if message.is_empty() {
                format!("{} failed", command.line.program())
            } else {
                message
            };
            return Err(scenario.source.error(command.line.words[0].span, message));
        }
    }
    Ok(())
}

fn schedule_timeline(world: &mut World, scenario: &Scenario) {
    for at in &scenario.timeline {
        let action: Box<dyn FnOnce(&mut World)> = match at.action.clone() {
            AtAction::Run { host, commands } => {
                Box::new(move |w: &mut World| run_timeline_commands(w, host, &commands))
            }
            AtAction::Partition { lan, groups } => Box::new(move |w: &mut World| {
                let group_of = |h: HostId| {
                    groups
                        .iter()
                        .position(|g| g.contains(&h))
                        .map_or(0, |g| g + 1)
                };
                w.lans[lan].partition(group_of);
                let names: Vec<String> = groups
                    .iter()
                    .map(|g| {
                        format!(
                            "[{}]",
                            g.iter()
                                .map(|&h| w.hosts[h].name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                let text = format!("{} is partitioned: {}", w.lans[lan].name, names.join(" | "));
                let now = w.now();
                w.trace.note(
                    now,
                    groups.first().and_then(|g| g.first()).copied().unwrap_or(0),
                    text,
                );
                w.trace.flush();
            }),
            AtAction::Heal { lan } => Box::new(move |w: &mut World| {
                w.lans[lan].heal();
                let text = format!("{} is whole again", w.lans[lan].name);
                let now = w.now();
                w.trace.note(now, 0, text);
                w.trace.flush();
            }),
        };
        world.queue.schedule(at.time, Event::Action(action));
    }
}

/// Timeline commands: an error is printed where the command ran, and the rest of its
/// script goes on (except commands chained with `&&`).
fn run_timeline_commands(world: &mut World, host: HostId, list: &[ScriptCommand]) {
    let mut start = 0;
    while start < list.len() {
        match run_commands(world, host, &list[start..]) {
            Ok(()) => return,
            Err((i, message)) => {
                if !message.is_empty() {
                    world.with_host(host, |_, ctx| ctx.output(message));
                }
                start += i + 1;
                while start < list.len() && list[start].line.after_success {
                    start += 1;
                }
            }
        }
    }
}

/// A world ready to run: built, its sinks attached, the setup scripts run and the timeline
/// scheduled (the TUI then steps it event by event).
pub fn prepare(
    scenario: &Scenario,
    seed: u64,
    sinks: Vec<Box<dyn Sink>>,
) -> Result<World, Diagnostic> {
    let mut world = build(scenario, seed);
    for sink in sinks {
        world.trace.add_sink(sink);
    }
    setup(&mut world, scenario)?;
    schedule_timeline(&mut world, scenario);
    Ok(world)
}

/// Runs the scenario to its end (or `until`), checking expectations on the way.
pub fn run(scenario: &Scenario, options: RunOptions) -> Result<RunResult, Diagnostic> {
    let started = Instant::now();
    let seed = options.seed.unwrap_or(scenario.seed);
    let until = options.until.or(scenario.until);
    let mut world = prepare(scenario, seed, options.sinks)?;
    let mut checkpoints: Vec<SimTime> = scenario.expects.iter().filter_map(|e| e.time).collect();
    checkpoints.sort_unstable();
    checkpoints.dedup();
    let mut outcomes = Vec::new();
    let mut stop = Stop::Idle;
    for &t in &checkpoints {
        if until.is_some_and(|u| t > u) {
            break;
        }
        stop = world.run(Some(t), options.max_events);
        if stop == Stop::MaxEvents {
            break;
        }
        for e in scenario.expects.iter().filter(|e| e.time == Some(t)) {
            outcomes.push(expect::evaluate(e, &world, t));
        }
    }
    if stop != Stop::MaxEvents {
        stop = world.run(until, options.max_events);
    }
    let end = world.now();
    for e in &scenario.expects {
        if outcomes.iter().any(|o| o.index == e.index) {
            continue;
        }
        let mut outcome = expect::evaluate(e, &world, end);
        if let Some(t) = e.time {
            outcome.passed = false;
            outcome.time_ns = t.ns();
            outcome.detail = format!("the run ended at {end}s, before this check's time");
        }
        outcomes.push(outcome);
    }
    outcomes.sort_by_key(|o| o.index);
    world.trace.finish().map_err(|e| {
        Diagnostic::file(
            &scenario.source.name,
            format!("writing the outputs failed: {e}"),
        )
    })?;
    Ok(RunResult {
        world,
        seed,
        stop,
        end,
        outcomes,
        wall: started.elapsed(),
    })
}
