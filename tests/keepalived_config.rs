//! keepalived.conf parsing against the real daemon (`reference/keepalived.md` §9 "Config
//! test"): every config in `tests/keepalived/valid/` and every keepalived text of the shipped
//! scenarios is clean for lvsim and for `keepalived --config-test` (exit 0); every config in
//! `tests/keepalived/errors/` gives lvsim exactly the messages recorded from keepalived 2.2.7
//! in its `.expected` file, and the real daemon still prints them and exits 5 (6 for script security).
//!
//! The tests that run the daemon fail (not skip) when it is missing; `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use lvsim::keepalived::config::{ConfigDiagnostic, parse};

/// `keepalived --config-test` exits 5 on a config error, 6 when scripts would run without
/// `enable_script_security` (which wins when both are present).
const KEEPALIVED_CONFIG_ERROR: i32 = 5;
const KEEPALIVED_SCRIPT_SECURITY: i32 = 6;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keepalived")
}

/// The `.conf` files of one fixture directory, as paths relative to `tests/keepalived`.
fn configs(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no configs in {dir}");
    names
}

/// A diagnostic as `keepalived -t -f FILE` prints it: whole-file checks without a prefix.
fn as_keepalived_prints(d: &ConfigDiagnostic, file: &str) -> String {
    match d.line {
        Some(_) => d.render(file),
        None => d.message.clone(),
    }
}

fn lvsim_messages(relative: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(relative)).unwrap();
    parse(&text)
        .diagnostics
        .iter()
        .map(|d| as_keepalived_prints(d, relative))
        .collect()
}

fn expected_messages(relative: &str) -> Vec<String> {
    let path = fixtures().join(relative.replace(".conf", ".expected"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[test]
fn the_valid_configs_give_lvsim_no_diagnostics() {
    for config in configs("valid") {
        assert_eq!(lvsim_messages(&config), Vec::<String>::new(), "{config}");
    }
}

/// keepalived's order differs between its processes (the parent reports the brace count
/// first), so the messages are compared as sets of lines; each names its line.
#[test]
fn each_error_class_gives_lvsim_the_messages_keepalived_2_2_7_printed() {
    for config in configs("errors") {
        assert_eq!(
            sorted(lvsim_messages(&config)),
            sorted(expected_messages(&config)),
            "{config}"
        );
    }
}

// ----- the real daemon -----

/// `keepalived` on the PATH or in /usr/sbin (not on a normal user's PATH).
fn keepalived() -> PathBuf {
    let candidates = [
        PathBuf::from("keepalived"),
        PathBuf::from("/usr/sbin/keepalived"),
    ];
    candidates
        .into_iter()
        .find(|k| Command::new(k).arg("--version").output().is_ok())
        .expect(
            "keepalived is not installed: these tests compare lvsim with `keepalived --config-test`; \
             install it with `sudo apt-get install -y keepalived` (.ci/run does)",
        )
}

/// `keepalived --config-test -f FILE` run in `dir`: exit code and stderr lines, each message
/// once (every keepalived process prints it). The parent process, which alone reports on
/// global_defs, names lines `(Line N)`: those get the file name the others use.
fn config_test(dir: &Path, file: &str) -> (i32, Vec<String>) {
    let output = Command::new(keepalived())
        .current_dir(dir)
        .args(["--config-test", "-f", file])
        .output()
        .expect("keepalived runs");
    let mut lines: Vec<String> = Vec::new();
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        let line = match line.strip_prefix("(Line ") {
            Some(rest) => format!("({file}: Line {rest}"),
            None => line.to_string(),
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    (output.status.code().unwrap_or(-1), lines)
}

#[test]
fn keepalived_config_test_accepts_the_valid_configs() {
    for config in configs("valid") {
        let (exit, lines) = config_test(&fixtures(), &config);
        assert_eq!((exit, lines), (0, Vec::new()), "{config}");
    }
}

#[test]
fn keepalived_config_test_rejects_each_error_class_with_the_recorded_messages() {
    for config in configs("errors") {
        let (exit, lines) = config_test(&fixtures(), &config);
        let expected = expected_messages(&config);
        let security = expected.iter().any(|l| l.starts_with("SECURITY VIOLATION"));
        let expected_exit = if security {
            KEEPALIVED_SCRIPT_SECURITY
        } else {
            KEEPALIVED_CONFIG_ERROR
        };
        assert_eq!(exit, expected_exit, "{config}: {lines:?}");
        assert_eq!(sorted(lines), sorted(expected), "{config}");
    }
}

/// Every `keepalived = """..."""` of `scenarios/**/*.toml`, with its `file` label.
fn scenario_keepalived_texts() -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let name = path.display().to_string();
                let scenario = lvsim::scenario::load::load(&name, &text)
                    .unwrap_or_else(|e| panic!("{name} loads: {}", e.headline()));
                let hosts = scenario.hosts.into_iter();
                texts.extend(hosts.filter_map(|h| h.keepalived).map(|k| (k.file, k.text)));
            }
        }
    }
    texts
}

#[test]
fn every_shipped_keepalived_config_is_clean_for_lvsim_and_for_keepalived() {
    let dir = tempfile::tempdir().unwrap();
    for (index, (file, text)) in scenario_keepalived_texts().into_iter().enumerate() {
        let diagnostics: Vec<String> = parse(&text)
            .diagnostics
            .iter()
            .map(|d| d.render(&file))
            .collect();
        assert_eq!(diagnostics, Vec::<String>::new(), "{file}");
        let conf = format!("{index}.conf");
        std::fs::write(dir.path().join(&conf), &text).unwrap();
        let (exit, lines) = config_test(dir.path(), &conf);
        assert_eq!((exit, lines), (0, Vec::new()), "{file}");
    }
    // The daemon must be there even while no scenario ships a keepalived config yet.
    keepalived();
}

// ----- lvsim lint -----

fn lint(dir: &Path, lab: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_lvsim"))
        .current_dir(dir)
        .args(["lint", lab])
        .output()
        .expect("lvsim runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap_or(-1), stdout)
}

/// Two directors on a LAN; `d1` gets `d1_conf`, `d2` the §8 example.
fn two_directors(d1_conf: &str) -> String {
    let s8 = std::fs::read_to_string(fixtures().join("valid/reference-s8.conf")).unwrap();
    format!(
        "title = \"keepalived lint\"\n[lan.lan0]\n\
         [host.d1]\nnic.eth0 = {{ lan = \"lan0\", addr = \"192.168.188.108/24\" }}\nkeepalived = \"\"\"\n{d1_conf}\"\"\"\n\
         [host.d2]\nnic.eth0 = {{ lan = \"lan0\", addr = \"192.168.188.109/24\" }}\nkeepalived = \"\"\"\n{s8}\"\"\"\n"
    )
}

#[test]
fn lint_prints_keepalived_diagnostics_in_its_form_with_lines_counted_inside_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let bad = std::fs::read_to_string(fixtures().join("errors/lb_algo_wrrr.conf")).unwrap();
    std::fs::write(dir.path().join("lab.toml"), two_directors(&bad)).unwrap();
    let (exit, stdout) = lint(dir.path(), "lab.toml");
    assert_eq!(exit, 1, "{stdout}");
    assert_eq!(
        stdout,
        "(lab.toml:host.d1.keepalived: Line 20) Invalid lvs_scheduler 'wrrr' - ignoring\n\
         (lab.toml:host.d1.keepalived) Virtual server [192.168.188.120]:tcp:80: no scheduler set, setting default 'wlc'\n"
    );
}

#[test]
fn lint_exits_0_for_clean_keepalived_configs_and_2_for_an_unreadable_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let s8 = std::fs::read_to_string(fixtures().join("valid/reference-s8.conf")).unwrap();
    std::fs::write(dir.path().join("clean.toml"), two_directors(&s8)).unwrap();
    assert_eq!(lint(dir.path(), "clean.toml"), (0, String::new()));
    std::fs::write(dir.path().join("broken.toml"), "[host.d1\n").unwrap();
    assert_eq!(lint(dir.path(), "broken.toml").0, 2);
}
