//! Golden text: the timeline of the default lab, and what the Linux tools print for a host's
//! state (`ip`, `route -n`, `arp`, `ifconfig`, `sysctl`), kept as insta snapshots.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use lvsim::output::timeline;
use lvsim::scenario::library::find;
use lvsim::scenario::load::load;
use lvsim::scenario::run::{self, RunOptions};
use lvsim::trace::{Record, Sink};

/// Collects the timeline lines of a run.
struct Lines(Rc<RefCell<Vec<String>>>);

impl Sink for Lines {
    fn record(&mut self, record: &Record, hosts: &[String]) -> io::Result<()> {
        self.0.borrow_mut().extend(timeline::render(record, hosts));
        Ok(())
    }
}

fn timeline_of(text: &str) -> Vec<String> {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let scenario = load("lab.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions {
        sinks: vec![Box::new(Lines(lines.clone()))],
        ..RunOptions::default()
    };
    run::run(&scenario, options).unwrap_or_else(|e| panic!("{e}"));
    lines.take()
}

#[test]
fn default_lab_timeline() {
    let lab = find("dr-lab-network").unwrap();
    insta::assert_snapshot!(timeline_of(lab.text).join("\n"));
}

/// What `commands`, run on `host` at 3 s in the default lab, print (`$ cmd` then its lines).
fn tool_output(host: &str, commands: &[&str]) -> String {
    let lab = find("dr-lab-network").unwrap();
    let script = commands.join("\n");
    let text = format!(
        "{}\n[[at]]\ntime = \"3s\"\nhost = \"{host}\"\nrun = '''\n{script}\n'''\n",
        lab.text
    );
    let (command_mark, output_mark) = (format!(" {host}$ "), format!(" {host}| "));
    let mut out = Vec::new();
    let mut inside = false;
    for line in timeline_of(&text) {
        if let Some((_, cmd)) = line.split_once(&command_mark) {
            inside = commands.contains(&cmd);
            if inside {
                out.push(format!("$ {cmd}"));
            }
        } else if let Some((_, printed)) = line.split_once(&output_mark).filter(|_| inside) {
            out.push(printed.to_owned());
        }
    }
    out.join("\n")
}

#[test]
fn real_server_state_as_the_tools_print_it() {
    let commands = [
        "ip addr",
        "ip route",
        "ip route get 192.168.188.111",
        "route -n",
        "ip neigh",
        "arp -n",
        "arp -a",
        "ifconfig",
        "sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.lo.arp_ignore net.ipv4.conf.eno16777736.arp_ignore",
        "cat /proc/sys/net/ipv4/neigh/eno16777736/locktime",
    ];
    insta::assert_snapshot!(tool_output("rs1", &commands));
}

#[test]
fn director_state_as_the_tools_print_it() {
    let commands = [
        "ifconfig -a",
        "ip link",
        "route -n",
        "arp -e",
        "systemctl status nginx",
    ];
    insta::assert_snapshot!(tool_output("dir", &commands));
}

/// The command and output lines (`host$ ...`, `host| ...`) of a run, without the packets.
fn console_of(text: &str) -> String {
    timeline_of(text)
        .into_iter()
        .filter(|line| line.contains("$ ") || line.contains("| "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Options that change what a tool prints: `sysctl -n/-e`, `ping -q`, `curl -s` vs `-sS`,
/// `arping -q`, and `noprefixroute`/`proto static` in `ip`'s listings.
#[test]
fn options_that_change_what_the_tools_print() {
    let lab = find("dr-lab-network").unwrap();
    let runs = [
        (
            "client",
            "sysctl -n net.ipv4.ip_forward net.ipv4.conf.eth0.arp_ignore\n\
             sysctl -e net.ipv4.no_such_key net.ipv4.conf.all.arp_announce\n\
             sysctl -w -n net.ipv4.conf.eth0.arp_ignore=1\n\
             sysctl -q -w net.ipv4.conf.eth0.arp_announce=2\n\
             ip addr add 10.9.9.9/24 dev eth0 noprefixroute\n\
             ip route add 10.8.0.0/16 via 192.168.188.1 proto static\n\
             ip addr show dev eth0\n\
             ip route",
        ),
        ("client", "ping -q -c 2 192.168.188.108"),
        ("client", "curl -s http://192.168.188.107:81/"),
        ("client", "curl -sS http://192.168.188.107:81/"),
        ("client", "arping -q -c 1 -I eth0 192.168.188.108"),
    ];
    let mut text = lab.text.replace("until = \"4s\"", "until = \"10s\"");
    for (i, (host, run)) in runs.iter().enumerate() {
        text.push_str(&format!(
            "[[at]]\ntime = \"{}s\"\nhost = \"{host}\"\nrun = '''\n{run}\n'''\n",
            5 + i
        ));
    }
    let console = console_of(&text);
    let from_5s = &console[console.find("client$ sysctl -n").expect("the script ran")..];
    insta::assert_snapshot!(from_5s);
}
