//! TEMPORARY: statement timers for the push bench.
use std::sync::Mutex;
use std::time::Instant;

#[allow(clippy::type_complexity)]
static MARKS: Mutex<Option<(Instant, Vec<(&'static str, u128)>)>> = Mutex::new(None);

pub fn start() {
    if std::env::var_os("PARCELD_TMP_TIMERS").is_none() {
        return;
    }
    *MARKS.lock().unwrap() = Some((Instant::now(), Vec::new()));
}

pub fn mark(label: &'static str) {
    let mut m = MARKS.lock().unwrap();
    if let Some((last, marks)) = m.as_mut() {
        let now = Instant::now();
        marks.push((label, (now - *last).as_micros()));
        *last = now;
    }
}

pub fn finish(n: usize) {
    let mut m = MARKS.lock().unwrap();
    if let Some((_, marks)) = m.take() {
        let line: Vec<String> = marks.iter().map(|(l, us)| format!("{l}={us}")).collect();
        eprintln!("TIMERS n={n} {}", line.join(" "));
    }
}
