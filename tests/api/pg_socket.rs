//! The PostgreSQL connections send each message at once (`TCP_NODELAY`). sqlx 0.9.0 left Nagle's
//! algorithm on: a statement written in two parts then waited for the server's delayed
//! acknowledgement, 40 ms or more, and the sweeper's 1,000 escalations took 2.3 s instead of 0.8 s
//! (bench/orders.md, fifth part). Runs in both passes: it needs only the PostgreSQL server.
use crate::helpers::pg_server;

/// (peer port, whether Nagle is off) of every TCP socket this process holds open.
fn tcp_sockets() -> Vec<(u16, bool)> {
    let mut out = vec![];
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: plain queries on a descriptor number; one closed meanwhile only makes them fail.
        if unsafe { libc::getpeername(fd, (&raw mut addr).cast(), &mut len) } != 0 {
            continue;
        }
        let port = match addr.ss_family as i32 {
            libc::AF_INET => {
                let a: libc::sockaddr_in = unsafe { std::ptr::read((&raw const addr).cast()) };
                u16::from_be(a.sin_port)
            }
            libc::AF_INET6 => {
                let a: libc::sockaddr_in6 = unsafe { std::ptr::read((&raw const addr).cast()) };
                u16::from_be(a.sin6_port)
            }
            _ => continue,
        };
        let mut on: libc::c_int = 0;
        let mut size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let got =
            unsafe { libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, (&raw mut on).cast(), &mut size) };
        if got == 0 {
            out.push((port, on != 0));
        }
    }
    out
}

#[tokio::test]
async fn every_postgresql_connection_sends_without_waiting_for_acknowledgements() {
    let url = format!("{}/test", pg_server());
    let port = reqwest::Url::parse(&url).unwrap().port().unwrap_or(5432);
    let db = minsheng::db::Db::connect(&url, 3).await.unwrap();
    // Three statements at once: the pool opens more than its first connection.
    let one = || async {
        use sea_orm::ConnectionTrait;
        db.conn.execute_unprepared("SELECT pg_sleep(0.2)").await.unwrap();
    };
    tokio::join!(one(), one(), one());
    let mine: Vec<bool> = tcp_sockets().into_iter().filter(|(p, _)| *p == port).map(|(_, on)| on).collect();
    assert!(mine.len() >= 2, "the pool's connections to port {port}: {mine:?}");
    assert!(mine.iter().all(|on| *on), "a PostgreSQL connection with Nagle's algorithm on: {mine:?}");
    // The probe itself tells the two apart: a plain socket to the same server has Nagle on.
    let plain = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let with_nagle = tcp_sockets().into_iter().filter(|(p, on)| *p == port && !on).count();
    assert!(with_nagle >= 1, "the probe sees a socket with Nagle on");
    drop(plain);
}
