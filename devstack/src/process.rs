//! Child processes of the stack: each in its own process group (so that the terminal's Ctrl-C
//! reaches only the supervisor, which then stops them in order), each told by the kernel to die
//! when its parent does, and each logging to its own file.

use std::{
    ffi::OsString,
    fs::{File, OpenOptions},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// How a process ended after SIGTERM.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
    pub status: std::process::ExitStatus,
    /// From the signal to the exit.
    pub after: Duration,
}

pub struct Service {
    pub name: &'static str,
    pub log_file: PathBuf,
    child: Child,
    /// What it was started with, to start it again the same way.
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
}

impl Service {
    pub fn spawn(
        name: &'static str,
        command: &mut Command,
        log_dir: &Path,
    ) -> anyhow::Result<Service> {
        std::fs::create_dir_all(log_dir)?;
        let log_file = log_dir.join(format!("{name}.log"));
        // Appended to, so that a restarted service's log keeps what came before.
        let log: File = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_file)?;
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        set_parent_death_signal(command);
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        Ok(Service {
            name,
            log_file,
            child,
            program: command.get_program().to_owned(),
            args: command.get_args().map(ToOwned::to_owned).collect(),
            envs: command
                .get_envs()
                .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
                .collect(),
        })
    }

    /// Stops this service (if it still runs) and starts it again with the same command line and
    /// environment, logging to the same file.
    pub fn restart(&mut self, grace: Duration) -> anyhow::Result<()> {
        self.stop(grace);
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let log_dir = self
            .log_file
            .parent()
            .context("the log file has no folder")?
            .to_path_buf();
        let fresh = Service::spawn(self.name, &mut command, &log_dir)?;
        // The old child has been waited for: replacing it drops nothing that still runs.
        *self = fresh;
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(description)` when the process has already ended.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(err) => Some(err.to_string()),
        }
    }

    /// The last lines of the log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM to the whole group, then waits up to `deadline` for the process to exit on its
    /// own; past it, SIGKILL and an error.
    pub async fn terminate(&mut self, deadline: Duration) -> anyhow::Result<Exit> {
        let started = Instant::now();
        signal_group(self.child.id(), libc::SIGTERM);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Exit {
                    status,
                    after: started.elapsed(),
                });
            }
            if started.elapsed() > deadline {
                signal_group(self.child.id(), libc::SIGKILL);
                let _ = self.child.wait();
                anyhow::bail!(
                    "{} did not exit within {deadline:?} of SIGTERM; log {}:\n{}",
                    self.name,
                    self.log_file.display(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM to the whole group, then SIGKILL if it has not ended within `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        signal_group(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal_group(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) takes plain integers; a negative pid names the process group, which
        // each service leads (process_group(0)).
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

#[allow(unsafe_code)]
fn set_parent_death_signal(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe. It makes the kernel send SIGKILL to the child when the thread that
    // started it ends, so no component outlives a killed supervisor.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
