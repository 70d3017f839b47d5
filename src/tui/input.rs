//! Every input — a key, a clock tick, a resize — goes through one enum and one pure
//! `update`: the state and the log in, the new state out, no terminal involved, so every key
//! is testable.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filter::Filter;
use super::log::{Entry, Kind, Log};
use super::state::{App, Filtered, Mode, PromptKind, SPEEDS};
use crate::sim::SimTime;
use crate::sim::time::parse_duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Key(KeyEvent),
    /// Wall time passed (drives play mode).
    Tick(Duration),
    /// The terminal changed size (the next draw uses the new size).
    Resize,
}

/// Steps a page key moves.
const PAGE: usize = 20;

/// Applies one input.
pub fn update(app: &mut App, log: &Log, input: Input) {
    if let Some(filtered) = &mut app.filter {
        filtered.sync(log);
    }
    if let Input::Key(_) = input {
        // A message answers the previous key; the next one clears it.
        app.message = None;
    }
    match input {
        Input::Key(key) => match app.mode.clone() {
            Mode::Normal => normal_key(app, log, key),
            Mode::Help => help_key(app, key),
            Mode::Prompt { kind, text } => prompt_key(app, log, key, kind, text),
        },
        Input::Tick(elapsed) => play(app, log, elapsed),
        Input::Resize => {}
    }
}

fn normal_key(app: &mut App, log: &Log, key: KeyEvent) {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => app.quit = true,
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Right | KeyCode::Char('l') | KeyCode::Down | KeyCode::Char('j') => {
            step(app, log, 1, true)
        }
        KeyCode::Left | KeyCode::Char('h') | KeyCode::Up | KeyCode::Char('k') => {
            step(app, log, 1, false)
        }
        KeyCode::PageDown => step(app, log, PAGE, true),
        KeyCode::PageUp => step(app, log, PAGE, false),
        KeyCode::Home => jump_to_edge(app, log, false),
        KeyCode::End => jump_to_edge(app, log, true),
        KeyCode::Char('n') => seek(app, log, true, "frame", is_frame),
        KeyCode::Char('p') => seek(app, log, false, "frame", is_frame),
        KeyCode::Char('w') => seek(app, log, true, "warning or drop", is_problem),
        KeyCode::Char('W') => seek(app, log, false, "warning or drop", is_problem),
        KeyCode::Char('e') => seek_host(app, log, true),
        KeyCode::Char('E') => seek_host(app, log, false),
        KeyCode::Char(' ') => toggle_play(app),
        KeyCode::Char('+') | KeyCode::Char('=') => change_speed(app, true),
        KeyCode::Char('-') => change_speed(app, false),
        KeyCode::Char('g') => open_prompt(app, PromptKind::Goto),
        KeyCode::Char('/') => open_prompt(app, PromptKind::Filter),
        KeyCode::Esc => clear_filter(app),
        KeyCode::Tab => select_host(app, log, true),
        KeyCode::BackTab => select_host(app, log, false),
        KeyCode::Char('1') => app.panes.detail = !app.panes.detail,
        KeyCode::Char('2') => app.panes.path = !app.panes.path,
        KeyCode::Char('3') => app.panes.state = !app.panes.state,
        KeyCode::Char('4') => app.panes.explain = !app.panes.explain,
        KeyCode::Char('x') => app.panes.hex = !app.panes.hex,
        KeyCode::Char('?') => app.mode = Mode::Help,
        _ => {}
    }
}

fn help_key(app: &mut App, key: KeyEvent) {
    match key.code {
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => app.mode = Mode::Normal,
        _ => {}
    }
}

fn prompt_key(app: &mut App, log: &Log, key: KeyEvent, kind: PromptKind, mut text: String) {
    match key.code {
        KeyCode::Esc => app.mode = Mode::Normal,
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            match kind {
                PromptKind::Goto => goto(app, log, &text),
                PromptKind::Filter => apply_filter(app, log, &text),
            }
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            app.mode = Mode::Prompt {
                kind,
                text: String::new(),
            };
        }
        KeyCode::Backspace => {
            text.pop();
            app.mode = Mode::Prompt { kind, text };
        }
        KeyCode::Char(c) => {
            text.push(c);
            app.mode = Mode::Prompt { kind, text };
        }
        _ => {}
    }
}

fn is_frame(entry: &Entry) -> bool {
    matches!(entry.facts.kind, Kind::Frame(_))
}

fn is_problem(entry: &Entry) -> bool {
    entry.facts.kind == Kind::Warning || entry.facts.dropped
}

/// The visible entries after (or before) `from`, nearest first.
fn visible<'a>(
    app: &'a App,
    log: &'a Log,
    from: usize,
    forward: bool,
) -> Box<dyn Iterator<Item = usize> + 'a> {
    match (&app.filter, forward) {
        (Some(f), true) => {
            let start = f.matches.partition_point(|&i| i <= from);
            Box::new(f.matches[start..].iter().copied())
        }
        (Some(f), false) => {
            let end = f.matches.partition_point(|&i| i < from);
            Box::new(f.matches[..end].iter().rev().copied())
        }
        (None, true) => Box::new(from + 1..log.len()),
        (None, false) => Box::new((0..from.min(log.len())).rev()),
    }
}

fn step(app: &mut App, log: &Log, count: usize, forward: bool) {
    if let Some(target) = visible(app, log, app.cursor, forward).take(count).last() {
        app.cursor = target;
    }
}

fn jump_to_edge(app: &mut App, log: &Log, end: bool) {
    let edge = if end { log.len() } else { 0 };
    let found = match end {
        true => visible(app, log, edge, false).next(),
        false => first_visible_from(app, log, 0),
    };
    if let Some(i) = found {
        app.cursor = i;
    }
}

/// The first visible entry at or after `from`.
fn first_visible_from(app: &App, log: &Log, from: usize) -> Option<usize> {
    match from.checked_sub(1) {
        Some(before) => visible(app, log, before, true).next(),
        None => match &app.filter {
            Some(f) => f.matches.first().copied(),
            None => (!log.is_empty()).then_some(0),
        },
    }
}

fn seek(app: &mut App, log: &Log, forward: bool, what: &str, wanted: fn(&Entry) -> bool) {
    let found = visible(app, log, app.cursor, forward).find(|&i| wanted(&log.entries[i]));
    match found {
        Some(i) => app.cursor = i,
        None => app.tell(format!(
            "no {} {what}",
            if forward { "later" } else { "earlier" }
        )),
    }
}

fn seek_host(app: &mut App, log: &Log, forward: bool) {
    let Some(host) = app.shown_host(log) else {
        app.tell("no host selected (Tab selects one)");
        return;
    };
    let found =
        visible(app, log, app.cursor, forward).find(|&i| log.entries[i].facts.host == Some(host));
    match found {
        Some(i) => app.cursor = i,
        None => app.tell(format!("no other event on {}", log.hosts[host])),
    }
}

fn toggle_play(app: &mut App) {
    app.play.playing = !app.play.playing;
    app.play.carry_ms = 0;
}

fn change_speed(app: &mut App, faster: bool) {
    let speed = app.play.speed;
    app.play.speed = match faster {
        true => (speed + 1).min(SPEEDS.len() - 1),
        false => speed.saturating_sub(1),
    };
    app.tell(format!("speed {} events/s", SPEEDS[app.play.speed]));
}

fn play(app: &mut App, log: &Log, elapsed: Duration) {
    if !app.play.playing || app.mode != Mode::Normal {
        return;
    }
    let speed = u64::from(SPEEDS[app.play.speed]);
    app.play.carry_ms += elapsed.as_millis() as u64;
    let steps = app.play.carry_ms * speed / 1000;
    app.play.carry_ms -= steps * 1000 / speed;
    if steps > 0 {
        step(app, log, steps as usize, true);
    }
}

fn open_prompt(app: &mut App, kind: PromptKind) {
    let text = match (kind, &app.filter) {
        (PromptKind::Filter, Some(f)) => f.text.clone(),
        _ => String::new(),
    };
    app.mode = Mode::Prompt { kind, text };
}

fn clear_filter(app: &mut App) {
    if app.filter.take().is_some() {
        app.tell("filter cleared");
    }
}

/// `g`: an event number (as the list numbers them, from 1) or a time with a unit.
fn goto(app: &mut App, log: &Log, text: &str) {
    let text = text.trim();
    let target = if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        match text.parse::<usize>() {
            Ok(n) if (1..=log.len()).contains(&n) => Ok(n - 1),
            _ => Err(format!("no event #{text}: there are {} so far", log.len())),
        }
    } else {
        time_target(log, text)
    };
    match target.map(|i| first_visible_from(app, log, i)) {
        Ok(Some(i)) => app.cursor = i,
        Ok(None) => app.complain("nothing the filter shows from there on"),
        Err(message) => app.complain(message),
    }
}

fn time_target(log: &Log, text: &str) -> Result<usize, String> {
    let ns = seconds_or_duration(text)?;
    let at = log.entries.partition_point(|e| e.time() < SimTime(ns));
    if at == log.len() {
        return Err(format!("no event at or after {}s yet", SimTime(ns)));
    }
    Ok(at)
}

/// `1.5s` (a decimal number of seconds) or any duration the scenario files accept.
fn seconds_or_duration(text: &str) -> Result<u64, String> {
    if let Some(seconds) = text.strip_suffix('s')
        && let Ok(value) = seconds.parse::<f64>()
        && value >= 0.0
    {
        return Ok((value * 1e9).round() as u64);
    }
    parse_duration(text)
        .map_err(|e| format!("go to what? an event number, or a time such as 1.5s or 1000ms ({e})"))
}

fn apply_filter(app: &mut App, log: &Log, text: &str) {
    if text.trim().is_empty() {
        clear_filter(app);
        return;
    }
    match Filter::parse(text, &log.hosts) {
        Ok(filter) => {
            let mut filtered = Filtered::new(text.to_owned(), filter);
            filtered.sync(log);
            let shown = filtered.matches.len();
            app.filter = Some(filtered);
            if let Some(i) = first_visible_from(app, log, app.cursor)
                .or_else(|| visible(app, log, app.cursor, false).next())
            {
                app.cursor = i;
            }
            app.tell(format!("filter `{text}`: {shown} of {} events", log.len()));
        }
        Err(why) => app.complain(format!("bad filter `{text}`: {why}")),
    }
}

/// Tab: follow the current event's host → host 0 → host 1 → … → follow again.
fn select_host(app: &mut App, log: &Log, forward: bool) {
    let count = log.hosts.len();
    if count == 0 {
        return;
    }
    app.selected = match (app.selected, forward) {
        (None, true) => Some(0),
        (None, false) => Some(count - 1),
        (Some(h), true) => (h + 1 < count).then_some(h + 1),
        (Some(h), false) => h.checked_sub(1),
    };
    match app.selected {
        Some(h) => app.tell(format!("showing {}", log.hosts[h])),
        None => app.tell("following the current event's host"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Capture, Direction, Link, Record, Warning};
    use crate::tui::state::Mode;

    /// client sends ARP, lvs answers, a warning, a command on client, an IPv4 frame on lvs.
    fn log() -> Log {
        let mut log = Log::new(vec!["client".into(), "lvs".into()]);
        let frame = |host, t, bytes: Vec<u8>| {
            Record::Capture(Capture {
                t: SimTime(t),
                host,
                iface: "eth0".into(),
                dir: Direction::Out,
                link: Link::Ethernet,
                frame: bytes,
                notes: vec![],
            })
        };
        let mut arp = vec![0xff; 6];
        arp.extend([0; 6]);
        arp.extend([0x08, 0x06]);
        arp.extend([0; 28]);
        log.push(frame(0, 1_000, arp.clone()), 1);
        log.push(frame(1, 2_000, arp), 2);
        log.push(
            Record::Warning(Warning {
                t: SimTime(2_000),
                kind: "arp-conflict".into(),
                host: "lvs".into(),
                detail: "x".into(),
            }),
            2,
        );
        log.push(
            Record::Command {
                t: SimTime(3_000_000_000),
                host: 0,
                line: "curl".into(),
            },
            3,
        );
        log.push(frame(1, 4_000_000_000, vec![0; 60]), 4);
        log
    }

    fn press(app: &mut App, log: &Log, code: KeyCode) {
        update(
            app,
            log,
            Input::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        );
    }

    fn type_line(app: &mut App, log: &Log, text: &str) {
        for c in text.chars() {
            press(app, log, KeyCode::Char(c));
        }
        press(app, log, KeyCode::Enter);
    }

    #[test]
    fn arrows_and_vi_keys_step_and_stop_at_the_ends() {
        let log = log();
        let mut app = App::default();
        press(&mut app, &log, KeyCode::Left);
        assert_eq!(app.cursor, 0);
        press(&mut app, &log, KeyCode::Right);
        press(&mut app, &log, KeyCode::Char('l'));
        assert_eq!(app.cursor, 2);
        press(&mut app, &log, KeyCode::Char('h'));
        assert_eq!(app.cursor, 1);
        press(&mut app, &log, KeyCode::End);
        press(&mut app, &log, KeyCode::Right);
        assert_eq!(app.cursor, 4);
    }

    #[test]
    fn frame_warning_and_host_jumps() {
        let log = log();
        let mut app = App::default();
        press(&mut app, &log, KeyCode::Char('w'));
        assert_eq!(app.cursor, 2, "next warning");
        press(&mut app, &log, KeyCode::Char('n'));
        assert_eq!(app.cursor, 4, "next frame skips the command");
        press(&mut app, &log, KeyCode::Char('p'));
        assert_eq!(app.cursor, 1);
        press(&mut app, &log, KeyCode::Char('W'));
        assert_eq!(
            app.message.as_ref().unwrap().text,
            "no earlier warning or drop"
        );
        press(&mut app, &log, KeyCode::Char('e'));
        assert_eq!(app.cursor, 2, "the warning names lvs, the event's host");
    }

    #[test]
    fn tab_cycles_hosts_then_follows_again() {
        let log = log();
        let mut app = App::default();
        assert_eq!(app.shown_host(&log), Some(0));
        press(&mut app, &log, KeyCode::Tab);
        press(&mut app, &log, KeyCode::Tab);
        assert_eq!(app.selected, Some(1));
        press(&mut app, &log, KeyCode::Tab);
        assert_eq!(app.selected, None);
        press(&mut app, &log, KeyCode::BackTab);
        assert_eq!(app.selected, Some(1));
    }

    #[test]
    fn goto_takes_an_event_number_or_a_time_and_explains_a_bad_one() {
        let log = log();
        let mut app = App::default();
        press(&mut app, &log, KeyCode::Char('g'));
        type_line(&mut app, &log, "4");
        assert_eq!(app.cursor, 3);
        press(&mut app, &log, KeyCode::Char('g'));
        type_line(&mut app, &log, "3.5s");
        assert_eq!(app.cursor, 4);
        press(&mut app, &log, KeyCode::Char('g'));
        type_line(&mut app, &log, "2us");
        assert_eq!(app.cursor, 1);
        press(&mut app, &log, KeyCode::Char('g'));
        type_line(&mut app, &log, "99");
        let message = app.message.clone().unwrap();
        assert!(message.error && message.text.contains("no event #99"));
        assert_eq!(app.cursor, 1, "a bad goto does not move");
    }

    #[test]
    fn a_filter_limits_stepping_and_a_bad_one_is_reported() {
        let log = log();
        let mut app = App::default();
        press(&mut app, &log, KeyCode::Char('/'));
        type_line(&mut app, &log, "arp && host == lvs");
        assert_eq!(app.cursor, 1, "moved to the first match");
        press(&mut app, &log, KeyCode::Right);
        assert_eq!(app.cursor, 1, "no other ARP frame on lvs");
        press(&mut app, &log, KeyCode::Char('/'));
        type_line(&mut app, &log, "arpp");
        assert!(app.message.as_ref().unwrap().error);
        assert_eq!(
            app.filter.as_ref().unwrap().text,
            "arp && host == lvs",
            "the old filter stays"
        );
        press(&mut app, &log, KeyCode::Esc);
        assert!(app.filter.is_none());
        press(&mut app, &log, KeyCode::Right);
        assert_eq!(app.cursor, 2);
    }

    #[test]
    fn play_advances_at_the_chosen_speed() {
        let log = log();
        let mut app = App::default();
        press(&mut app, &log, KeyCode::Char(' '));
        update(&mut app, &log, Input::Tick(Duration::from_millis(250)));
        assert_eq!(app.cursor, 2, "10 events/s for 250 ms");
        press(&mut app, &log, KeyCode::Char('-'));
        update(&mut app, &log, Input::Tick(Duration::from_millis(50)));
        update(&mut app, &log, Input::Tick(Duration::from_millis(150)));
        assert_eq!(app.cursor, 3, "5 events/s: one step after 200 ms");
        press(&mut app, &log, KeyCode::Char(' '));
        update(&mut app, &log, Input::Tick(Duration::from_secs(5)));
        assert_eq!(app.cursor, 3, "paused");
    }

    #[test]
    fn panes_help_and_quit() {
        let log = log();
        let mut app = App::default();
        press(&mut app, &log, KeyCode::Char('x'));
        press(&mut app, &log, KeyCode::Char('3'));
        assert!(app.panes.hex && !app.panes.state);
        press(&mut app, &log, KeyCode::Char('?'));
        assert_eq!(app.mode, Mode::Help);
        press(&mut app, &log, KeyCode::Right);
        assert_eq!(app.cursor, 0, "help swallows keys");
        press(&mut app, &log, KeyCode::Esc);
        assert_eq!(app.mode, Mode::Normal);
        press(&mut app, &log, KeyCode::Char('q'));
        assert!(app.quit);
    }
}
