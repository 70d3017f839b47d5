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
