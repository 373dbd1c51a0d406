//! Unit tests of `flood/plan.rs`.

use super::*;

const MS: Duration = Duration::from_millis(1);

fn peer(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port)
}

fn timing(retries: u32) -> Timing {
    Timing {
        gather: 50 * MS,
        retry_interval: 100 * MS,
        retries,
    }
}

fn gets(actions: &[Action]) -> Vec<(u16, SocketAddrV4)> {
    let gets = actions.iter().filter_map(|a| match a {
        Action::Get { id, to, .. } => Some((*id, *to)),
        Action::Hello(_) => None,
    });
    gets.collect()
}

#[test]
fn a_chunk_is_asked_once_when_its_gather_window_closes() {
    let t0 = Instant::now();
    let mut plan = Plan::new(&[6], timing(5), 1);
    assert_eq!(plan.start(t0), vec![6]);
    plan.offer(peer(5001), &[6], t0);
    assert!(gets(&plan.due(t0 + 10 * MS)).is_empty());
    plan.offer(peer(5003), &[6], t0 + 20 * MS);
    assert_eq!(plan.next_wakeup(), Some(t0 + 50 * MS));
    let first = plan.due(t0 + 50 * MS);
    assert_eq!(gets(&first).len(), 1);
    let Action::Get {
        holders, attempt, ..
    } = &first[0]
    else {
        panic!("{first:?}")
    };
    assert_eq!(
        (holders.clone(), *attempt),
        (vec![peer(5001), peer(5003)], 1)
    );
    // More offers and more calls before the retry interval send nothing.
    plan.offer(peer(5004), &[6], t0 + 60 * MS);
    assert!(gets(&plan.due(t0 + 149 * MS)).is_empty());
}

#[test]
fn the_least_loaded_holder_wins_and_a_seed_repeats_the_choice() {
    let run = |seed| {
        let t0 = Instant::now();
        let mut plan = Plan::new(&[5, 6, 7], timing(5), seed);
        plan.start(t0);
        plan.offer(peer(5001), &[5, 6, 7], t0);
        plan.offer(peer(5003), &[6, 7], t0);
        plan.offer(peer(5004), &[6, 7], t0);
        gets(&plan.due(t0 + 50 * MS))
    };
    let chosen = run(7);
    assert_eq!(chosen[0], (5, peer(5001)));
    let mut others: Vec<u16> = chosen[1..].iter().map(|(_, to)| to.port()).collect();
    others.sort_unstable();
    assert_eq!(others, vec![5003, 5004], "{chosen:?}");
    assert_eq!(run(7), chosen);
}

#[test]
fn resends_rotate_over_holders_and_stop_after_the_retries() {
    let t0 = Instant::now();
    let mut plan = Plan::new(&[6], timing(3), 1);
    plan.start(t0);
    plan.offer(peer(5001), &[6], t0);
    plan.offer(peer(5003), &[6], t0);
    let mut sent = gets(&plan.due(t0 + 50 * MS));
    let mut now = t0 + 50 * MS;
    for _ in 0..10 {
        now += 100 * MS;
        sent.extend(gets(&plan.due(now)));
    }
    assert_eq!(sent.len(), 4, "one GET and three resends: {sent:?}");
    assert!(sent.windows(2).all(|w| w[0].1 != w[1].1), "{sent:?}");
    assert_eq!(plan.next_wakeup(), None);
    let missing = plan.missing();
    assert!(
        matches!(&missing[0], (6, Missing::NoResponse { gets: 4, .. })),
        "{missing:?}"
    );
}

#[test]
fn hello_is_resent_for_unoffered_chunks_only_and_boundedly() {
    let t0 = Instant::now();
    let mut plan = Plan::new(&[1, 4, 1], timing(2), 1);
    assert_eq!(plan.start(t0), vec![1, 4]);
    plan.offer(peer(5002), &[1, 9], t0);
    let mut hellos = Vec::new();
    for step in 1..10 {
        for action in plan.due(t0 + step * 100 * MS) {
            if let Action::Hello(ids) = action {
                hellos.push(ids);
            }
        }
    }
    assert_eq!(hellos, vec![vec![4], vec![4]]);
    assert_eq!(plan.missing()[1], (4, Missing::NeverOffered));
}

#[test]
fn responses_are_accepted_only_from_a_peer_asked() {
    let t0 = Instant::now();
    let mut plan = Plan::new(&[5], timing(5), 1);
    plan.start(t0);
    plan.offer(peer(5001), &[5], t0);
    assert_eq!(plan.judge(peer(5001), 5), Verdict::Unsolicited);
    plan.due(t0 + 50 * MS);
    assert_eq!(plan.judge(peer(5009), 5), Verdict::Unsolicited);
    assert_eq!(plan.judge(peer(5001), 8), Verdict::Unsolicited);
    assert_eq!(plan.judge(peer(5001), 5), Verdict::Accept);
    plan.received(5, peer(5001));
    assert!(plan.all_received());
    assert_eq!(plan.judge(peer(5001), 5), Verdict::Duplicate);
    assert!(plan.due(t0 + 500 * MS).is_empty());
}
