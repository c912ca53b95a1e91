//! Stopping the stack leaves no process behind, whether the owner drops it or panics.

use std::path::Path;

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .split(") ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

fn children_of_group(pid: u32) -> Vec<u32> {
    // Every process whose process group is `pid` (a component and whatever it started).
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|candidate| {
            std::fs::read_to_string(Path::new("/proc").join(candidate.to_string()).join("stat"))
                .ok()
                .and_then(|stat| stat.rsplit(") ").next().map(str::to_string))
                .and_then(|rest| {
                    rest.split_whitespace()
                        .nth(2)
                        .and_then(|g| g.parse::<u32>().ok())
                })
                == Some(pid)
        })
        .collect()
}

#[tokio::test]
async fn dropping_the_stack_stops_every_component() -> anyhow::Result<()> {
    let stack = e2e::start_own_stack("24h").await?;
    let pids = stack.pids();
    assert_eq!(
        pids.len(),
        6,
        "etcd, dex, kube-apiserver, kube-controller-manager, apiserver-proxy, bff"
    );
    assert!(pids.iter().all(|pid| alive(*pid)));
    drop(stack);
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived the stack");
        assert!(
            children_of_group(pid).is_empty(),
            "group {pid} outlived the stack"
        );
    }
    Ok(())
}

#[test]
fn a_panicking_owner_stops_every_component() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let owner = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let stack = runtime
            .block_on(e2e::start_own_stack("24h"))
            .expect("stack");
        sender.send(stack.pids()).expect("send");
        panic!("the test owning the stack fails");
    });
    assert!(owner.join().is_err(), "the owner was meant to panic");
    let pids = receiver.recv().expect("pids");
    assert!(!pids.is_empty());
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived its panicking owner");
    }
}
