//! The director benchmark of issue 3: one LVS-DR director with 16 real servers under wlc,
//! 1,000,000 HTTP connections from 10,000 client addresses (100 client hosts × 100 addresses,
//! one `ab -n 100 -c 2 -B ADDR` each), clients and servers on two LANs joined by a router.
//! The lab is generated from real commands and run like `lvsim run --quiet`; the figures are
//! printed (speed and memory targets live here, not in timed tests).
//!
//! `cargo bench --bench director` runs the full size; `-- --scale N` divides the number of
//! requests per address by N (e.g. `--scale 10` for 100,000 connections), `-- --write FILE`
//! saves the generated lab.

use std::fmt::Write as _;
use std::time::Instant;

use lvsim::cli::peak_memory_kib;
use lvsim::scenario::load::load;
use lvsim::scenario::run::{self, RunOptions};

const CLIENT_HOSTS: usize = 100;
const ADDRESSES_PER_HOST: usize = 100;
const REAL_SERVERS: usize = 16;

/// The lab's TOML: director, real servers, router and client hosts, all set up with the
/// commands one would type.
fn lab(requests_per_address: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "title = \"bench: LVS-DR, wlc, 16 real servers, 10,000 clients\"\nseed = 1\nuntil = \"30s\"\n"
    );
    let _ = writeln!(
        t,
        "[lan.servers]\nlatency = \"20us\"\nbandwidth = \"10Gbit\"\n"
    );
    let _ = writeln!(
        t,
        "[lan.clients]\nlatency = \"20us\"\nbandwidth = \"10Gbit\"\n"
    );
    let _ = writeln!(
        t,
        "[host.router]\nnic.eth0 = {{ lan = \"servers\", addr = \"10.0.0.254/24\" }}\nnic.eth1 = {{ lan = \"clients\", addr = \"10.1.255.254/16\" }}\nsetup = \"echo 1 > /proc/sys/net/ipv4/ip_forward\"\n"
    );
    let mut director = String::from(
        "ifconfig eth0:0 10.0.0.100 netmask 255.255.255.255 broadcast 10.0.0.100 up\nroute add default gw 10.0.0.254\nipvsadm -A -t 10.0.0.100:80 -s wlc\n",
    );
    for rs in 0..REAL_SERVERS {
        let _ = writeln!(
            director,
            "ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.{} -g -w 1",
            11 + rs
        );
    }
    let _ = writeln!(
        t,
        "[host.lvs]\nnic.eth0 = {{ lan = \"servers\", addr = \"10.0.0.2/24\" }}\nsetup = \"\"\"\n{director}\"\"\"\n"
    );
    for rs in 0..REAL_SERVERS {
        let _ = writeln!(
            t,
            "[host.rs{rs}]\nnic.eth0 = {{ lan = \"servers\", addr = \"10.0.0.{}/24\" }}\nsetup = \"\"\"\nifconfig lo:0 10.0.0.100 netmask 255.255.255.255 up\nsysctl -w net.ipv4.conf.all.arp_ignore=1\nsysctl -w net.ipv4.conf.all.arp_announce=2\nroute add default gw 10.0.0.254\nsystemctl start nginx\n\"\"\"\n",
            11 + rs
        );
    }
    for h in 0..CLIENT_HOSTS {
        let mut setup = String::from("route add default gw 10.1.255.254\n");
        for a in 2..=ADDRESSES_PER_HOST {
            let _ = writeln!(setup, "ip addr add 10.1.{h}.{a}/16 dev eth0");
        }
        let _ = writeln!(
            t,
            "[host.c{h}]\nnic.eth0 = {{ lan = \"clients\", addr = \"10.1.{h}.1/16\" }}\nsetup = \"\"\"\n{setup}\"\"\"\n"
        );
        let mut run = String::new();
        for a in 1..=ADDRESSES_PER_HOST {
            let _ = writeln!(
                run,
                "ab -n {requests_per_address} -c {} -B 10.1.{h}.{a} http://10.0.0.100/",
                requests_per_address.min(2)
            );
        }
        let _ = writeln!(
            t,
            "[[at]]\ntime = \"1s\"\nhost = \"c{h}\"\nrun = \"\"\"\n{run}\"\"\"\n"
        );
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let scale: usize = value("--scale").and_then(|s| s.parse().ok()).unwrap_or(1);
    let requests = (100 / scale.max(1)).max(1);
    let text = lab(requests);
    if let Some(path) = value("--write") {
        std::fs::write(&path, &text).expect("write the lab");
    }
    let scenario = load("bench/director.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let result = run::run(&scenario, RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let wall = start.elapsed().as_secs_f64();
    let world = &result.world;
    let director = world.hosts.iter().find(|h| h.name == "lvs").unwrap();
    let entries = director.ipvs.conns.len();
    let table = director.ipvs.conns.memory_bytes();
    let done: u64 = world.trace.apps.iter().map(|a| a.ok).sum();
    let failed: u64 = world.trace.apps.iter().map(|a| a.failed).sum();
    let frames = world.stats.frames;
    println!("connections:        {done} completed, {failed} failed");
    println!("frames on the wire: {frames}");
    println!("events processed:   {}", world.stats.events);
    println!("simulated time:     {}s", result.end);
    println!("wall seconds:       {wall:.3}");
    println!("frames per second:  {:.0}", frames as f64 / wall.max(1e-9));
    println!("IPVS entries:       {entries} (at the end)");
    println!(
        "IPVS table:         {:.1} MiB, {} bytes per entry",
        table as f64 / 1048576.0,
        table / entries.max(1)
    );
    if let Some(kib) = peak_memory_kib() {
        println!(
            "peak memory:        {:.1} MiB (VmHWM), {} bytes per connection",
            kib as f64 / 1024.0,
            kib * 1024 / (done.max(1))
        );
    }
}
