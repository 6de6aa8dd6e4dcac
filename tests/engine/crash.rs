//! The index catches up after the process is killed between a store commit and an index
//! commit: a real child process, killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use offerwatch::domain::OfferState;
use offerwatch::index::{IndexState, SearchIndex};
use offerwatch::store::Store;
use time::macros::datetime;

use crate::common::*;

const CHILD_ENV: &str = "OFFERWATCH_CRASH_CHILD_DIR";

/// Runs only as the child of `killed_between_store_and_index_commit`: writes offers through the
/// engine, then one straight into the store (no index notification), says so, and waits to be
/// killed.
#[test]
fn crash_child_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let engine = open(std::path::Path::new(&dir));
    let t = datetime!(2026-10-01 09:00 UTC);
    for i in 0..30 {
        let o = new_offer(
            input(&format!("Offre écrite {i}"), "Avant le crash"),
            OfferState::Published,
            t,
        );
        engine.create_offers(vec![o]).unwrap();
    }
    let last = new_offer(
        input("Dernière offre zèbre", "Juste avant le SIGKILL"),
        OfferState::Published,
        t,
    );
    let (_, seq) = engine.store().create_offer(last).unwrap();
    println!("STORE-COMMITTED {seq}");
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn killed_between_store_and_index_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::crash_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seq = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints the test name on the same line.
        if let Some((_, s)) = line.split_once("STORE-COMMITTED ") {
            seq = Some(s.trim().parse::<u64>().unwrap());
            break;
        }
    }
    let seq = seq.expect("child did not commit");
    // SIGKILL: no destructor, no final index commit.
    child.kill().unwrap();
    child.wait().unwrap();

    // The store has the offer; the index had not committed it.
    {
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        assert_eq!(store.last_seq().unwrap(), seq);
        assert_eq!(store.offer_count().unwrap(), 31);
    }
    let (_, state) = SearchIndex::open(&dir.path().join("index")).unwrap();
    match state {
        IndexState::Current { seq: indexed } => {
            assert!(indexed < seq, "index at {indexed}, store at {seq}")
        }
        IndexState::NeedsRebuild => {}
    }
    // On start the engine replays the change log: everything acknowledged is searchable.
    let engine = open(dir.path());
    assert!(engine.caught_up().unwrap());
    assert_eq!(engine.search(&params(&[])).unwrap().total, 31);
    assert_eq!(engine.search(&params(&[("q", "zèbre")])).unwrap().total, 1);
}
