//! What the kernel says a server process used: CPU time and resident memory (Linux `/proc`).

/// Clock ticks per second of `/proc/<pid>/stat` times; 100 on every Linux this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds the process has used so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// CPU seconds of `pid` and every process it started (the tiers under `arcana dev layered`).
pub fn tree_cpu_seconds(pid: u32) -> Option<f64> {
    let mut total = cpu_seconds(pid)?;
    for child in children(pid) {
        total += tree_cpu_seconds(child).unwrap_or_default();
    }
    Some(total)
}

/// The process `pid` started whose command name is `name` (`arcana-service`).
pub fn child_named(pid: u32, name: &str) -> Option<u32> {
    children(pid).into_iter().find(|child| {
        std::fs::read_to_string(format!("/proc/{child}/comm"))
            .is_ok_and(|comm| comm.trim_end() == name)
    })
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|id| id.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Resident memory now (`VmRSS`) and at its peak (`VmHWM`), in MiB.
/// The anonymous part of the resident set (`RssAnon`): heap, stacks, caches. The rest of RSS is
/// the binary's code and read-only data paged in from the file (shared with the page cache and
/// reclaimable), which grows with the binary's size and the kernel's fault-around, not with
/// what the process holds.
pub fn anon_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("RssAnon:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
