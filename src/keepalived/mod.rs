//! keepalived: its configuration file, the VRRP daemon that moves VIPs between directors,
//! and the health checkers that edit the IPVS table (`reference/keepalived.md`).

mod adverts;
pub mod checkers;
pub mod config;
pub mod daemon;
pub mod external;
mod groups;
pub mod scripts;
mod table;
mod vips;
pub mod vrrp;

use crate::scenario::commands::system::ServiceAction;
use crate::stack::ctx::Ctx;
use crate::stack::host::Host;

/// `systemctl ACTION keepalived`: what the unit does, and what systemctl prints.
pub fn service(
    host: &mut Host,
    ctx: &mut Ctx,
    action: ServiceAction,
) -> Result<Vec<String>, String> {
    match action {
        ServiceAction::Start => start(host, ctx),
        ServiceAction::Stop => {
            host.keepalived_stop(ctx);
            Ok(Vec::new())
        }
        ServiceAction::Restart => {
            host.keepalived_stop(ctx);
            start(host, ctx)
        }
        ServiceAction::Reload if !host.keepalived.is_running() => {
            Err("keepalived.service is not active, cannot reload.".into())
        }
        ServiceAction::Reload => {
            let config = read_config(host, ctx)?;
            host.keepalived_reload(ctx, config);
            Ok(Vec::new())
        }
        ServiceAction::Status => Ok(vec![
            "● keepalived.service - LVS and VRRP High Availability Monitor".to_owned(),
            format!(
                "     Active: {}",
                if host.keepalived.is_running() {
                    "active (running)"
                } else {
                    "inactive (dead)"
                }
            ),
        ]),
        ServiceAction::Enable | ServiceAction::Disable => Ok(Vec::new()),
    }
}

/// A fresh daemon reads /etc/keepalived/keepalived.conf (a running one is left alone, as
/// `systemctl start` does).
fn start(host: &mut Host, ctx: &mut Ctx) -> Result<Vec<String>, String> {
    if host.keepalived.is_running() {
        return Ok(Vec::new());
    }
    let config = read_config(host, ctx)?;
    host.keepalived_start(ctx, config);
    Ok(Vec::new())
}

/// Parses the host's keepalived.conf; keepalived logs each diagnostic and runs with what
/// it understood.
fn read_config(host: &Host, ctx: &mut Ctx) -> Result<config::Config, String> {
    let text = host.keepalived.conf.clone().ok_or(
        "Job for keepalived.service failed: /etc/keepalived/keepalived.conf does not exist (give the host a `keepalived = \"\"\"...\"\"\"` text)",
    )?;
    let parsed = config::parse(&text.text);
    for d in &parsed.diagnostics {
        ctx.output(format!("Keepalived: {}", d.render(&text.file)));
    }
    Ok(parsed.config)
}
