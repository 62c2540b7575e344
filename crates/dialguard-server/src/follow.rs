//! Several servers on one PostgreSQL log: hearing what the others appended,
//! and taking a tenant's lead when its leader goes.
//!
//! A thread of its own waits on the log's [`Doorbell`]. When it rings for a
//! tenant (or every [`POLL`] whatever it heard, since a notice can be lost
//! while a connection is down), the writer reads that tenant's log from its
//! cursor and applies what others wrote, in log order: an opt-out accepted
//! by another server denies here as soon as that read is done.
//!
//! One server leads each tenant: it alone decides the tenant's state
//! changes (quarantines, plan phases, …) and writes them; the others tick
//! without deciding and apply the leader's changes when they read them.
//! The lead is an advisory lock on the doorbell's connection, so it goes
//! when the leader's process or connection does; every pass here tries to
//! take the leads it lacks, and a server that takes one first reads the log
//! to its end, then decides.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dialguard_store::Doorbell;

use crate::tenant::Tenant;
use crate::writer::WriterHandle;

/// The longest wait for a notice before the thread looks at its leads.
const WAIT: Duration = Duration::from_millis(200);
/// Every tenant's log is read at least this often.
const POLL: Duration = Duration::from_secs(1);
/// The pause before reconnecting after the connection failed.
const RETRY: Duration = Duration::from_millis(500);

/// The following thread; [`Follower::stop`] ends it.
pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Follower {
    /// Ends the thread (within [`WAIT`]) and waits for it.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.thread.join();
    }
}

pub fn start(bell: Doorbell, tenants: Vec<Arc<Tenant>>, writer: WriterHandle) -> std::io::Result<Follower> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::Builder::new()
        .name("dialguard-follower".into())
        .spawn(move || run(bell, &tenants, &writer, &stopped))?;
    Ok(Follower { stop, thread })
}

fn run(mut bell: Doorbell, tenants: &[Arc<Tenant>], writer: &WriterHandle, stop: &AtomicBool) {
    let mut polled = Instant::now();
    while !stop.load(Ordering::Acquire) {
        let rung = match bell.wait(WAIT) {
            Ok(rung) => rung,
            Err(error) => {
                lose_leads(tenants, &error);
                std::thread::sleep(RETRY);
                continue;
            }
        };
        let poll = polled.elapsed() >= POLL;
        if poll {
            polled = Instant::now();
        }
        for tenant in tenants {
            if poll || rung.contains(&tenant.name) {
                writer.catch_up(tenant.clone());
            }
        }
        for tenant in tenants.iter().filter(|t| !t.leads.load(Ordering::Acquire)) {
            match bell.lead(&tenant.name) {
                Ok(true) => {
                    // Everything the last leader wrote, before deciding.
                    writer.catch_up_now(tenant.clone());
                    tenant.leads.store(true, Ordering::Release);
                    *tenant.leader.write() = None;
                    eprintln!("dialguard: this server now leads tenant {}", tenant.name);
                }
                Ok(false) => match bell.leader(&tenant.name) {
                    Ok(leader) => *tenant.leader.write() = leader,
                    Err(error) => {
                        lose_leads(tenants, &error);
                        break;
                    }
                },
                Err(error) => {
                    lose_leads(tenants, &error);
                    break;
                }
            }
        }
    }
}

/// The connection that held the leads failed: PostgreSQL has released them
/// (or will when it notices), so another server may be deciding already.
fn lose_leads(tenants: &[Arc<Tenant>], error: &dialguard_store::StoreError) {
    let mut lost = Vec::new();
    for tenant in tenants {
        if tenant.leads.swap(false, Ordering::AcqRel) {
            lost.push(tenant.name.as_str());
        }
    }
    eprintln!(
        "dialguard: the shared log's notice connection failed ({error}); reconnecting{}",
        if lost.is_empty() {
            String::new()
        } else {
            format!(", and no longer leading {}", lost.join(", "))
        }
    );
}
