//! Server process usage read from /proc (CPU time from `stat`, RSS from `status`), and the
//! open-files limit of this process, raised for scenarios that hold many sockets.

use std::time::Instant;

use serde::Serialize;

/// One reading of a process's counters.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    at: Instant,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    /// VmRSS in KiB.
    pub rss_kib: u64,
    /// VmHWM (peak RSS) in KiB.
    hwm_kib: u64,
}

/// Reads CPU ticks and memory of `pid`.
pub fn sample(pid: u32) -> Result<ProcSample, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("read /proc/{pid}/stat: {e}"))?;
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("unexpected /proc/{pid}/stat format"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let tick = |index: usize| -> Result<u64, String> {
        fields
            .get(index)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("no CPU field {index} in /proc/{pid}/stat"))
    };
    let cpu_ticks = tick(11)? + tick(12)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("read /proc/{pid}/status: {e}"))?;
    let kib = |key: &str| -> Result<u64, String> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
    };
    Ok(ProcSample {
        at: Instant::now(),
        cpu_ticks,
        rss_kib: kib("VmRSS:")?,
        hwm_kib: kib("VmHWM:")?,
    })
}

/// Opening samples of a measurement window: the server (when its pid is known) and this
/// load generator, whose own CPU use shows how much of the machine the client took.
pub struct Probe {
    server_pid: Option<u32>,
    server: Option<ProcSample>,
    client: ProcSample,
}

impl Probe {
    /// Takes the opening samples.
    pub fn start(server_pid: Option<u32>) -> Result<Probe, String> {
        Ok(Probe {
            server_pid,
            server: server_pid.map(sample).transpose()?,
            client: sample(std::process::id())?,
        })
    }

    /// The server's RSS at the start, when its pid is known.
    pub fn server_rss_kib(&self) -> Option<u64> {
        self.server.map(|s| s.rss_kib)
    }

    /// Takes the closing samples: server usage (if a pid was given) and client usage.
    pub fn finish(&self) -> Result<(Option<ServerUsage>, ClientUsage), String> {
        let server = match (self.server_pid, self.server) {
            (Some(pid), Some(before)) => Some(ServerUsage::between(pid, before, sample(pid)?)),
            _ => None,
        };
        let own = ServerUsage::between(0, self.client, sample(std::process::id())?);
        Ok((
            server,
            ClientUsage {
                cpu_s: own.cpu_s,
                cpu_percent: own.cpu_percent,
            },
        ))
    }
}

/// CPU used by tavern-bench itself over the measurement window.
#[derive(Debug, Clone, Serialize)]
pub struct ClientUsage {
    pub cpu_s: f64,
    /// 100 means one core fully busy.
    pub cpu_percent: f64,
}

/// Server CPU and memory over a measurement window.
#[derive(Debug, Clone, Serialize)]
pub struct ServerUsage {
    pub pid: u32,
    /// CPU seconds (user + system) spent by the server during the window.
    pub cpu_s: f64,
    /// `cpu_s` over the window's wall time; 100 means one core fully busy.
    pub cpu_percent: f64,
    pub rss_kib_before: u64,
    pub rss_kib_after: u64,
    /// Peak RSS of the server since it started (VmHWM) at the end of the window.
    pub rss_kib_peak: u64,
}

impl ServerUsage {
    /// The usage between two samples of the same process.
    pub fn between(pid: u32, before: ProcSample, after: ProcSample) -> ServerUsage {
        // SAFETY: sysconf only reads a constant of the running system.
        let ticks_per_s = match unsafe { libc::sysconf(libc::_SC_CLK_TCK) } {
            t if t > 0 => t as f64,
            _ => 100.0,
        };
        let cpu_s = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / ticks_per_s;
        let wall = after.at.duration_since(before.at).as_secs_f64();
        ServerUsage {
            pid,
            cpu_s,
            cpu_percent: if wall > 0.0 {
                100.0 * cpu_s / wall
            } else {
                0.0
            },
            rss_kib_before: before.rss_kib,
            rss_kib_after: after.rss_kib,
            rss_kib_peak: after.hwm_kib,
        }
    }
}

/// Raises this process's soft RLIMIT_NOFILE to at least `needed` (capped by the hard limit)
/// and returns the new soft limit; errors when even the hard limit is too low.
pub fn raise_open_files(needed: u64) -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if limit.rlim_cur >= needed {
        return Ok(limit.rlim_cur);
    }
    if limit.rlim_max < needed {
        return Err(format!(
            "need {needed} open files but the hard limit is {}; raise it (ulimit -Hn) first",
            limit.rlim_max
        ));
    }
    limit.rlim_cur = needed;
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_this_process() {
        let pid = std::process::id();
        let before = sample(pid).expect("own /proc entry");
        assert!(before.rss_kib > 0);
        let usage = ServerUsage::between(pid, before, sample(pid).expect("own /proc entry"));
        assert!(
            usage.cpu_s >= 0.0
                && usage.rss_kib_peak >= usage.rss_kib_before.min(usage.rss_kib_after)
        );
    }
}
