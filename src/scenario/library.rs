//! The labs shipped in `scenarios/`, embedded in the binary, and how a command-line argument
//! names a scenario (a path, or a shipped lab's name).

use std::path::Path;

use super::source::Diagnostic;

/// A shipped lab.
pub struct Shipped {
    /// `arp-basics`, or `bench/lan-echo-k10` for labs in subdirectories.
    pub name: &'static str,
    pub path: &'static str,
    pub text: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// What `lvsim run` and `lvsim tui` use without an argument.
pub const DEFAULT_LAB: &str = "dr-basic";

pub fn find(name: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|s| s.name == name)
}

/// The file name errors should show, and the text: a path that exists, else a shipped lab.
pub fn resolve(arg: &str) -> Result<(String, String), Diagnostic> {
    let path = Path::new(arg);
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::file(arg, format!("cannot read the scenario: {e}")))?;
        return Ok((arg.to_owned(), text));
    }
    let name = arg
        .strip_prefix("scenarios/")
        .unwrap_or(arg)
        .trim_end_matches(".toml");
    match find(name) {
        Some(lab) => Ok((lab.path.to_owned(), lab.text.to_owned())),
        None => Err(
            Diagnostic::file(arg, "no such file, and no shipped lab of that name")
                .with_help("`lvsim list` shows the shipped labs"),
        ),
    }
}
