//! A TCP relay between paygate and a service it depends on (RabbitMQ, Redis) that a test can
//! sever and restore: the service's outage as paygate sees it, without stopping the machine's
//! service other tests use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP relay to a service (the RabbitMQ broker, Redis): paygate connects here. `sever` drops every open connection and
/// refuses new ones (a broker outage as the client sees it) until `restore`.
pub struct Relay {
    pub addr: String,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// A relay to `target` (`host:port`), passing connections through if `up`.
    pub async fn to(target: &str, up: bool) -> Relay {
        let target = target.to_string();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("relay listens");
        let addr = listener.local_addr().expect("address").to_string();
        let up = Arc::new(AtomicBool::new(up));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (is_up, open) = (up.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !is_up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut broker) = TcpStream::connect(target.as_str()).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
                    }
                });
                open.lock().unwrap().push(pipe);
            }
        });
        Relay {
            addr,
            up,
            connections,
            accept,
        }
    }

    pub fn sever(&self) {
        self.up.store(false, Ordering::SeqCst);
        for pipe in self.connections.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        for pipe in self.connections.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }
}
