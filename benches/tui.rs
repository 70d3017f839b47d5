//! The TUI benchmark of issue 4: the DR lab with its four curls replaced by `ab` runs, about
//! 1,000,000 events. Prints how long opening takes until the first screen is drawn, the time
//! per step forward and back (update plus a full 160×48 redraw) at the start, the middle and
//! the end of the run, far jumps, the time to simulate everything with the history kept, and
//! the memory it holds. Figures, not assertions: targets live here, not in timed tests.
//!
//! `cargo bench --bench tui`; `-- --requests N` sets the requests per `ab` run (default 7000),
//! `-- --write FILE` saves the generated lab (to open it with `lvsim tui FILE`).

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lvsim::cli::peak_memory_kib;
use lvsim::scenario::library;
use lvsim::scenario::load::load;
use lvsim::tui::input::{Input, update};
use lvsim::tui::render;
use lvsim::tui::session::Session;
use lvsim::tui::state::App;

/// The shipped DR lab, each `curl` an `ab` run, no expectations. The runs start 70 s
/// apart so that the TIME_WAIT sockets of one (60 s) are gone before the next needs ports.
fn lab(requests: usize) -> String {
    let dr = library::find("dr-basic").expect("shipped").text;
    let body = dr
        .split("[[expect]]")
        .next()
        .expect("text before the expectations");
    let mut text = body
        .replace(
            "curl -s http://192.168.188.120/",
            &format!("ab -n {requests} -c 4 http://192.168.188.120/"),
        )
        .replace("until = \"6s\"", "until = \"400s\"");
    for (from, to) in [
        ("5s", "300s"),
        ("4s", "210s"),
        ("3s", "140s"),
        ("2s", "70s"),
    ] {
        text = text.replace(&format!("time = \"{from}\""), &format!("time = \"{to}\""));
    }
    text
}

fn key(code: KeyCode) -> Input {
    Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Median, 99th percentile and worst time of `count` presses of `code`, each followed by a
/// full redraw.
fn steps(app: &mut App, session: &Session, code: KeyCode, count: usize) -> Timing {
    let mut times: Vec<Duration> = (0..count)
        .map(|_| {
            let one = Instant::now();
            update(app, &session.log, key(code));
            std::hint::black_box(render::to_text(app, session, 160, 48));
            one.elapsed()
        })
        .collect();
    times.sort_unstable();
    Timing {
        median: times[count / 2],
        p99: times[count * 99 / 100],
        worst: times[count - 1],
    }
}

struct Timing {
    median: Duration,
    p99: Duration,
    worst: Duration,
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {} p99 {} worst {}",
            ms(self.median),
            ms(self.p99),
            ms(self.worst)
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let requests = value("--requests")
        .and_then(|v| v.parse().ok())
        .unwrap_or(7000);
    let text = lab(requests);
    if let Some(path) = value("--write") {
        std::fs::write(path, &text).expect("writing the lab");
    }
    let scenario = load("bench-tui.toml", &text).expect("the generated lab loads");

    let opening = Instant::now();
    let mut session = Session::open(&scenario, None).expect("the lab sets up");
    let mut app = App::default();
    session.advance_for(Duration::from_millis(25));
    std::hint::black_box(render::to_text(&app, &session, 160, 48));
    let first_screen = opening.elapsed();
    let shown_first = session.log.len();

    let simulating = Instant::now();
    session.finish();
    let simulated = simulating.elapsed();
    let kib = peak_memory_kib().unwrap_or(0);

    println!("lab: dr-basic with 4 × ab -n {requests} -c 4");
    println!("world events:            {}", session.events());
    println!("event list entries:      {}", session.log.len());
    println!("host state versions:     {}", session.history.versions());
    println!(
        "first screen drawn after {} ({shown_first} entries shown)",
        ms(first_screen)
    );
    println!(
        "whole run simulated in   {:.2} s (history and log kept)",
        simulated.as_secs_f64()
    );
    println!(
        "peak memory:             {:.1} MiB (VmHWM)",
        kib as f64 / 1024.0
    );

    let len = session.log.len();
    for (label, at) in [
        ("start", 0),
        ("middle", len / 2),
        ("end", len.saturating_sub(1001)),
    ] {
        app.cursor = at;
        let forward = steps(&mut app, &session, KeyCode::Right, 1000);
        let back = steps(&mut app, &session, KeyCode::Left, 1000);
        println!("step forward at the {label:<6} {forward}");
        println!("step back at the {label:<9} {back}");
    }
    app.cursor = 0;
    println!(
        "jump to the end:           {}",
        steps(&mut app, &session, KeyCode::End, 1)
    );
    println!(
        "jump back home:            {}",
        steps(&mut app, &session, KeyCode::Home, 1)
    );
    app.cursor = len / 2;
    println!(
        "next event on the host:    {}",
        steps(&mut app, &session, KeyCode::Char('e'), 200)
    );
    println!(
        "next warning (none: scans to the end) {}",
        steps(&mut app, &session, KeyCode::Char('w'), 1)
    );
}
