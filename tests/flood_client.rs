//! The real client binary against raw test sockets playing peers: the exact bytes it sends,
//! garbage it must ignore, retransmission of lost HELLO and GET, the timeout, and the log.

mod flood_support;

use std::fs;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use flood_support::{Proc, chunk, count_lines, port, recv, response, socket};

/// Every datagram already waiting on `socket`, without blocking.
fn drain(socket: &UdpSocket) -> Vec<Vec<u8>> {
    socket.set_nonblocking(true).unwrap();
    let mut buffer = [0u8; 2048];
    let mut all = Vec::new();
    loop {
        match socket.recv_from(&mut buffer) {
            Ok((len, _)) => all.push(buffer[..len].to_vec()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return all,
            Err(e) => panic!("{e}"),
        }
    }
}

/// The first datagram to reach any of `sockets` within 5 s: (which socket, bytes, sender).
fn recv_any(sockets: &[&UdpSocket]) -> (usize, Vec<u8>, SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buffer = [0u8; 2048];
    while Instant::now() < deadline {
        for (i, socket) in sockets.iter().enumerate() {
            socket
                .set_read_timeout(Some(Duration::from_millis(10)))
                .unwrap();
            if let Ok((len, from)) = socket.recv_from(&mut buffer) {
                socket
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                return (i, buffer[..len].to_vec(), from);
            }
        }
    }
    panic!("no datagram within 5 s");
}

fn client(dir: &Path, contact: &UdpSocket, ids: &str, options: &[&str]) -> Proc {
    let contact = contact.local_addr().unwrap().to_string();
    let mut args: Vec<String> = ["flood", "client", &contact, ids]
        .map(String::from)
        .to_vec();
    args.extend(options.iter().map(|s| s.to_string()));
    Proc::start("client", dir, &args)
}

#[test]
fn against_a_scripted_peer_the_client_ignores_garbage_and_logs_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let peer = socket();
    let options = [
        "--bind",
        "127.0.0.6",
        "--gather",
        "10ms",
        "--retry-interval",
        "3s",
        "--seed",
        "3",
    ];
    let mut client = client(dir.path(), &peer, "1,2", &options);

    let (hello, me) = recv(&peer);
    assert_eq!(hello, [0, 1, /* count */ 0, 2, /* ids */ 0, 1, 0, 2]);
    assert_eq!(
        me.ip().to_string(),
        "127.0.0.6",
        "the client sends from --bind"
    );
    let garbage: [&[u8]; 4] = [
        &[0],                      // half a type
        &[0, 7, 0, 0],             // unknown type
        &[0, 3, 0, 2, 0, 1],       // CHUNKS_INFO count 2, one id
        &[0, 5, 0, 1, 0, 1, 0xaa], // a well-formed RESPONSE nobody asked for yet
    ];
    for datagram in garbage {
        peer.send_to(datagram, me).unwrap();
    }
    peer.send_to(&[0, 3, 0, 2, 0, 1, 0, 2], me).unwrap(); // CHUNKS_INFO 1, 2

    // One GET per chunk, each listing that chunk alone, in the order asked.
    assert_eq!(recv(&peer).0, [0, 4, /* count */ 0, 1, /* id */ 0, 1]);
    assert_eq!(recv(&peer).0, [0, 4, 0, 1, 0, 2]);
    peer.send_to(&[0, 5, 0, 1, /* size 5 */ 0, 5, 1, 2], me)
        .unwrap(); // size mismatch
    peer.send_to(&response(2), me).unwrap();
    peer.send_to(&response(1), me).unwrap();

    assert!(
        client.wait_exit(Duration::from_secs(10)).success(),
        "{}",
        client.log_text()
    );
    let log = fs::read_to_string(dir.path().join("output-127.0.0.6.log")).unwrap();
    let p = port(&peer);
    assert_eq!(log, format!("127.0.0.1:{p} - 2\n127.0.0.1:{p} - 1\n"));
    for id in [1, 2] {
        let copy = dir
            .path()
            .join(format!("chunks-127.0.0.6/BigBuckBunny_{id}.m4s"));
        assert_eq!(fs::read(copy).unwrap(), chunk(id));
    }
    let trace = client.log_text();
    assert_eq!(
        count_lines(&trace, &["ignore malformed datagram from"]),
        4,
        "{trace}"
    );
    assert_eq!(
        count_lines(&trace, &["ignore response id=1", "not asked"]),
        1,
        "{trace}"
    );
    assert!(drain(&peer).is_empty(), "nothing more was sent");
}

#[test]
fn lost_hello_and_get_are_resent_by_the_timer() {
    let dir = tempfile::tempdir().unwrap();
    let peer = socket();
    let options = [
        "--bind",
        "127.0.0.6",
        "--gather",
        "0",
        "--retry-interval",
        "100ms",
    ];
    let mut client = client(dir.path(), &peer, "7", &options);

    let (first, me) = recv(&peer); // "lost": not answered
    let (second, again) = recv(&peer);
    assert_eq!(
        (first.as_slice(), second.as_slice()),
        (&[0, 1, 0, 1, 0, 7][..], &[0, 1, 0, 1, 0, 7][..])
    );
    assert_eq!(me, again);
    peer.send_to(&[0, 3, 0, 1, 0, 7], me).unwrap();
    assert_eq!(recv(&peer).0, [0, 4, 0, 1, 0, 7]); // "lost" too
    assert_eq!(recv(&peer).0, [0, 4, 0, 1, 0, 7]); // resent to the only holder
    peer.send_to(&response(7), me).unwrap();

    assert!(
        client.wait_exit(Duration::from_secs(10)).success(),
        "{}",
        client.log_text()
    );
    let log = fs::read_to_string(dir.path().join("output-127.0.0.6.log")).unwrap();
    assert_eq!(log, format!("127.0.0.1:{} - 7\n", port(&peer)));
    let trace = client.log_text();
    assert_eq!(count_lines(&trace, &["resend hello"]), 1, "{trace}");
    assert_eq!(
        count_lines(&trace, &["resend get for chunk 7", "attempt 2"]),
        1,
        "{trace}"
    );
}

#[test]
fn a_silent_holder_is_replaced_by_another_that_offered_the_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let (contact, other) = (socket(), socket());
    let options = [
        "--bind",
        "127.0.0.6",
        "--gather",
        "200ms",
        "--retry-interval",
        "200ms",
    ];
    let mut client = client(dir.path(), &contact, "3", &options);
    let (_, me) = recv(&contact);
    contact.send_to(&[0, 3, 0, 1, 0, 3], me).unwrap();
    other.send_to(&[0, 3, 0, 1, 0, 3], me).unwrap();

    let (silent, get, _) = recv_any(&[&contact, &other]);
    assert_eq!(get, [0, 4, 0, 1, 0, 3]);
    let (answering, resent, _) = recv_any(&[&contact, &other]);
    assert_eq!(resent, [0, 4, 0, 1, 0, 3]);
    assert_ne!(silent, answering, "the resend goes to the other holder");
    let holder = [&contact, &other][answering];
    holder.send_to(&response(3), me).unwrap();

    assert!(
        client.wait_exit(Duration::from_secs(10)).success(),
        "{}",
        client.log_text()
    );
    let log = fs::read_to_string(dir.path().join("output-127.0.0.6.log")).unwrap();
    assert_eq!(log, format!("127.0.0.1:{} - 3\n", port(holder)));
}

#[test]
fn without_answers_the_client_stops_at_the_timeout_and_logs_every_chunk_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let peer = socket();
    let options = [
        "--timeout",
        "600ms",
        "--retry-interval",
        "100ms",
        "--retries",
        "3",
    ];
    let started = Instant::now();
    let mut client = client(dir.path(), &peer, "9,4,12", &options);
    assert!(
        client.wait_exit(Duration::from_secs(10)).success(),
        "{}",
        client.log_text()
    );
    assert!(started.elapsed() >= Duration::from_millis(600));

    // No --bind: the log is named after the address the OS uses toward the peer, never 0.0.0.0.
    let log = fs::read_to_string(dir.path().join("output-127.0.0.1.log")).unwrap();
    assert_eq!(log, "0.0.0.0:0 - 9\n0.0.0.0:0 - 4\n0.0.0.0:0 - 12\n");
    let hellos = drain(&peer);
    assert_eq!(
        hellos.len(),
        4,
        "one HELLO and three resends: {hellos:02x?}"
    );
    assert!(hellos.iter().all(|h| h == &[0, 1, 0, 3, 0, 9, 0, 4, 0, 12]));
    let silence = "no peer answered at all: the contact peer";
    assert_eq!(
        client.log_text().matches(silence).count(),
        1,
        "{}",
        client.log_text()
    );
}

/// A contact peer that never answers: the log is still the assignment's, exit code 0, and one
/// line on stderr (even with logging off) says no peer answered; one that answers even once
/// (here, offering nothing the client can get) gets no such line.
#[test]
fn a_silent_contact_is_reported_on_stderr_and_an_answering_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let peer = socket();
    let contact = peer.local_addr().unwrap().to_string();
    let run = |extra: &dyn Fn()| {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_bittorrent-sim"))
            .args(["flood", "client", &contact, "5", "--timeout", "300ms"])
            .args(["--retry-interval", "100ms", "--retries", "1"])
            .current_dir(dir.path())
            .env("RUST_LOG", "off")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        extra();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = run(&|| {});
    assert!(
        stderr.starts_with("bittorrent-sim: warning: no peer answered at all: the contact peer ")
            && stderr.contains(&contact)
            && stderr.lines().count() == 1,
        "{stderr:?}"
    );
    let log = fs::read_to_string(dir.path().join("output-127.0.0.1.log")).unwrap();
    assert_eq!(log, "0.0.0.0:0 - 5\n");

    // The contact answers the HELLO with an offer of another chunk only.
    drain(&peer);
    peer.set_nonblocking(false).unwrap();
    let stderr = run(&|| {
        let (hello, client) = recv(&peer);
        assert_eq!(hello, [0, 1, 0, 1, 0, 5]);
        peer.send_to(&[0, 3, 0, 1, 0, 6], client).unwrap();
    });
    assert!(!stderr.contains("no peer answered"), "{stderr:?}");
}

/// What `against_a_scripted_peer...` leaves out: an oversized datagram, a RESPONSE for a chunk
/// never asked at all, and a spoofed RESPONSE with wrong bytes from an address the chunk was
/// not asked from, sent after the GET. Only the chosen holder's bytes are stored.
#[test]
fn oversized_datagrams_and_spoofed_responses_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let peer = socket();
    let impostor = socket();
    let options = ["--gather", "10ms", "--retry-interval", "3s", "--seed", "3"];
    let mut client = client(dir.path(), &peer, "1", &options);
    let (_, me) = recv(&peer);
    peer.send_to(&[0, 3, 0, 1, 0, 1], me).unwrap(); // CHUNKS_INFO 1
    assert_eq!(recv(&peer).0, [0, 4, 0, 1, 0, 1]); // GET 1
    let mut spoofed = response(1);
    for byte in &mut spoofed[6..] {
        *byte = !*byte;
    }
    impostor.send_to(&spoofed, me).unwrap();
    impostor.send_to(&response(99), me).unwrap();
    peer.send_to(&response(99), me).unwrap();
    peer.send_to(&vec![0u8; 2000], me).unwrap();
    peer.send_to(&response(1), me).unwrap();
    assert!(
        client.wait_exit(Duration::from_secs(10)).success(),
        "{}",
        client.log_text()
    );
    let copy = dir.path().join("chunks-127.0.0.1/BigBuckBunny_1.m4s");
    assert_eq!(
        fs::read(copy).unwrap(),
        chunk(1),
        "the chosen holder's bytes"
    );
    let log = fs::read_to_string(dir.path().join("output-127.0.0.1.log")).unwrap();
    assert_eq!(log, format!("127.0.0.1:{} - 1\n", port(&peer)));
    let trace = client.log_text();
    assert_eq!(count_lines(&trace, &["not asked"]), 3, "{trace}");
    assert_eq!(
        count_lines(&trace, &["ignore malformed datagram"]),
        1,
        "{trace}"
    );
}
