//! A real `offerwatch import` is killed with SIGKILL at growing moments: every batch the store
//! committed is whole (batches are atomic), and after a restart every committed offer is
//! searchable — the index replays the change log.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use offerwatch::fixtures::{Generator, to_json_line};
use offerwatch::store::Store;
use time::macros::date;

use crate::common::*;

/// Offers in the file: two whole batches of 10,000 and a partial one.
const OFFERS: u64 = 25_000;
const BATCH: u64 = 10_000;

#[test]
fn import_killed_at_any_moment_keeps_whole_batches_and_a_consistent_index() {
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("offers.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    for o in Generator::new(7, date!(2026 - 11 - 20)).take(OFFERS as usize) {
        writeln!(out, "{}", to_json_line(&o)).unwrap();
    }
    out.flush().unwrap();
    drop(out);

    // Delays double until the import finishes, then halve the gap between the longest kill that
    // stored nothing and the shortest that stored everything: a slow start (PostgreSQL) can make
    // one doubling jump over the whole window between the first batch and the end.
    let mut seen_partial = false;
    let mut seen_finished = false;
    let (mut nothing, mut everything) = (Duration::ZERO, None::<Duration>);
    let mut delay = Duration::from_millis(150);
    for round in 0..16 {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_offerwatch"));
        if let Some(url) = database_for(dir.path()) {
            child.env("OFFERWATCH_DATABASE_URL", url);
        }
        let mut child = child
            .arg("--data-dir")
            .arg(dir.path())
            .arg("import")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() >= delay {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if finished.is_none() {
            child.kill().unwrap(); // SIGKILL: no destructor, no final index commit
            child.wait().unwrap();
        }

        let stored = {
            let store = match database_for(dir.path()) {
                Some(url) => Store::connect(&url).unwrap(),
                None => Store::open(&dir.path().join("store.redb")).unwrap(),
            };
            store.offer_count().unwrap()
        };
        assert!(
            stored % BATCH == 0 || stored == OFFERS,
            "round {round}: {stored} offers stored, not a whole number of batches"
        );
        // On start the engine replays the change log: what the store holds is searchable.
        let engine = open(dir.path());
        assert!(engine.caught_up().unwrap(), "round {round}");
        let mut visible = 0;
        engine
            .store()
            .for_each_offer(|o| {
                visible +=
                    u64::from(o.is_visible(NOW, &offerwatch::domain::local_time::Zone::default()));
                Ok(())
            })
            .unwrap();
        assert_eq!(
            engine.search(&params(&[("per_page", "0")])).unwrap().total,
            visible,
            "round {round}: every committed visible offer is searchable"
        );
        engine.shutdown();
        if finished.is_some() {
            assert_eq!(stored, OFFERS, "a finished import stored everything");
            seen_finished = true;
        }
        if stored == 0 {
            nothing = nothing.max(delay);
        } else if stored == OFFERS {
            everything = Some(everything.map_or(delay, |d| d.min(delay)));
        } else {
            seen_partial = true;
        }
        if seen_partial && seen_finished {
            break;
        }
        delay = match everything {
            Some(all) if !seen_partial => (nothing + all) / 2,
            _ => delay * 2,
        };
    }
    assert!(seen_partial, "no kill landed between two batches");
    assert!(seen_finished, "the import never finished");
}
