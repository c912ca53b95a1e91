//! The pinned WASM toolchain, installed into the versioned cache when missing: trunk and
//! wasm-bindgen-cli from crates.io, wasm-opt from the npm package binaryen (Debian's is too old
//! and breaks the app). The wasm-bindgen-cli version must equal the one in Cargo.lock.
//! Also the app's one vendored JavaScript: xterm.js and its fit addon from the npm registry,
//! pinned, copied into `frontend/xterm/` (not in git) for trunk to copy into the app.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use devstack::cache::cache_dir;

use crate::{run, step};

const TRUNK_VERSION: &str = "0.21.14";
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
const BINARYEN_VERSION: &str = "132.0.0";
const XTERM_VERSION: &str = "6.0.0";
const XTERM_FIT_VERSION: &str = "0.11.0";
/// Where trunk finds the vendored xterm.js (index.html's `copy-dir`), served as `/xterm/…`.
const XTERM_DIR: &str = "frontend/xterm";

pub struct Tools {
    pub trunk: PathBuf,
    pub bin_dirs: Vec<PathBuf>,
}

impl Tools {
    /// PATH with the pinned tools first, which is how trunk finds wasm-bindgen and wasm-opt.
    pub fn path_with_tools(&self) -> anyhow::Result<std::ffi::OsString> {
        let mut dirs = self.bin_dirs.clone();
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        Ok(std::env::join_paths(dirs)?)
    }
}

pub fn ensure(root: &Path) -> anyhow::Result<Tools> {
    check_lock_version(root)?;
    ensure_rust_target("wasm32-unknown-unknown")?;
    let tools = cache_dir().join("tools");
    let trunk_root = tools.join(format!("trunk-{TRUNK_VERSION}"));
    if !trunk_root.join("bin/trunk").is_file() {
        step(&format!(
            "installing trunk {TRUNK_VERSION} from crates.io (once, about 6 minutes)"
        ));
        run(Command::new("cargo")
            .args([
                "install",
                "trunk",
                "--version",
                TRUNK_VERSION,
                "--locked",
                "--root",
            ])
            .arg(&trunk_root))?;
    }
    let bindgen_root = tools.join(format!("wasm-bindgen-cli-{WASM_BINDGEN_VERSION}"));
    if !bindgen_root.join("bin/wasm-bindgen").is_file() {
        install_wasm_bindgen(&tools, &bindgen_root)?;
    }
    let binaryen_root = tools.join(format!("binaryen-{BINARYEN_VERSION}"));
    let wasm_opt_dir = binaryen_root.join("node_modules/.bin");
    if !wasm_opt_dir.join("wasm-opt").is_file() {
        step(&format!(
            "installing wasm-opt (npm binaryen@{BINARYEN_VERSION})"
        ));
        if devstack::gobuild::which("npm").is_none() {
            bail!("npm is needed for wasm-opt: install Node.js 20 or newer with npm");
        }
        std::fs::create_dir_all(&binaryen_root)?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&binaryen_root)
            .arg(format!("binaryen@{BINARYEN_VERSION}")))?;
    }
    vendor_xterm(root, &tools)?;
    Ok(Tools {
        trunk: trunk_root.join("bin/trunk"),
        bin_dirs: vec![bindgen_root.join("bin"), wasm_opt_dir],
    })
}

/// wasm-bindgen-cli 0.2.130's lock file names webpki-roots 1.0.11, which crates.io does not serve,
/// so `cargo install --locked` fails; it installs from its source with that one entry moved to
/// 1.0.10, the rest of the lock file kept.
fn install_wasm_bindgen(tools: &Path, install_root: &Path) -> anyhow::Result<()> {
    step(&format!(
        "installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} from crates.io (once, about 2 minutes)"
    ));
    let src = tools.join("src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src)?;
    let crate_file = src.join("wasm-bindgen-cli.crate");
    run(Command::new("curl")
        .args(["--fail", "--silent", "--show-error", "--location", "--output"])
        .arg(&crate_file)
        .arg(format!(
            "https://static.crates.io/crates/wasm-bindgen-cli/wasm-bindgen-cli-{WASM_BINDGEN_VERSION}.crate"
        )))?;
    run(Command::new("tar")
        .arg("xzf")
        .arg(&crate_file)
        .arg("-C")
        .arg(&src))?;
    let source = src.join(format!("wasm-bindgen-cli-{WASM_BINDGEN_VERSION}"));
    run(Command::new("cargo")
        .args(["update", "-p", "webpki-roots", "--precise", "1.0.10"])
        .current_dir(&source))?;
    run(Command::new("cargo")
        .args(["install", "--path", ".", "--locked", "--root"])
        .arg(install_root)
        .current_dir(&source))?;
    let _ = std::fs::remove_dir_all(&src);
    Ok(())
}

/// xterm.js, its stylesheet and the fit addon, from the pinned npm packages (installed into the
/// cache once), copied to `XTERM_DIR` under the names the app and its Trusted Types policy use
/// (frontend/src/terminal/xterm.rs, frontend/index.html). The app loads them only when a
/// terminal opens.
fn vendor_xterm(root: &Path, tools: &Path) -> anyhow::Result<()> {
    let install = tools.join(format!("xterm-{XTERM_VERSION}-fit-{XTERM_FIT_VERSION}"));
    let modules = install.join("node_modules/@xterm");
    let files = [
        (modules.join("xterm/lib/xterm.js"), "xterm.js"),
        (modules.join("xterm/css/xterm.css"), "xterm.css"),
        (modules.join("addon-fit/lib/addon-fit.js"), "addon-fit.js"),
    ];
    if !files.iter().all(|(from, _)| from.is_file()) {
        step(&format!(
            "installing xterm.js (npm @xterm/xterm@{XTERM_VERSION}, @xterm/addon-fit@{XTERM_FIT_VERSION})"
        ));
        if devstack::gobuild::which("npm").is_none() {
            bail!("npm is needed for xterm.js: install Node.js 20 or newer with npm");
        }
        std::fs::create_dir_all(&install)?;
        run(Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(&install)
            .arg(format!("@xterm/xterm@{XTERM_VERSION}"))
            .arg(format!("@xterm/addon-fit@{XTERM_FIT_VERSION}")))?;
    }
    let vendored = root.join(XTERM_DIR);
    std::fs::create_dir_all(&vendored)?;
    for (from, name) in files {
        let text = std::fs::read_to_string(&from)
            .with_context(|| format!("reading {}", from.display()))?;
        // The source maps are not vendored: a reference to one would be a 404 in devtools.
        let mut text: String = text
            .lines()
            .filter(|line| !line.starts_with("//# sourceMappingURL="))
            .map(|line| format!("{line}\n"))
            .collect();
        if name == "xterm.js" {
            text = styles_through_cssom(&text)?;
        }
        let to = vendored.join(name);
        if std::fs::read_to_string(&to).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&to, text).with_context(|| format!("writing {}", to.display()))?;
        }
    }
    Ok(())
}

/// xterm.js's DOM renderer colours a selected cell, and a cell of 24-bit colour, by writing its
/// `style` attribute, which the console's Content Security Policy (`style-src 'self'`) blocks: the
/// selection would not show, nor would such colours. The one function that does it writes through
/// the CSSOM instead, which the policy allows. Checked: the function must be there exactly once.
fn styles_through_cssom(xterm: &str) -> anyhow::Result<String> {
    const ATTRIBUTE: &str =
        "_addStyle(e,t){e.setAttribute(\"style\",`${e.getAttribute(\"style\")||\"\"}${t};`)}";
    const CSSOM: &str = "_addStyle(e,t){e.style.cssText+=`${t};`}";
    if xterm.matches(ATTRIBUTE).count() != 1 {
        bail!(
            "xterm.js {XTERM_VERSION} has no single `_addStyle` that writes the style attribute: \
             check how its DOM renderer styles cells before vendoring it"
        );
    }
    Ok(xterm.replacen(ATTRIBUTE, CSSOM, 1))
}

/// Adds a Rust target (from rustup's own distribution server, as rustup does) unless it is there.
pub fn ensure_rust_target(target: &str) -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .with_context(|| format!("rustup is needed to add the {target} target"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    step(&format!("adding the {target} target"));
    run(Command::new("rustup").args(["target", "add", target]))
}

/// The CLI and the library must be the same version, or the app fails at load time.
fn check_lock_version(root: &Path) -> anyhow::Result<()> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let expected = format!("name = \"wasm-bindgen\"\nversion = \"{WASM_BINDGEN_VERSION}\"");
    if !lock.contains(&expected) {
        bail!(
            "Cargo.lock's wasm-bindgen is not {WASM_BINDGEN_VERSION}: update WASM_BINDGEN_VERSION in xtask/src/tools.rs and Trunk.toml together"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::styles_through_cssom;

    #[test]
    fn xterms_style_attribute_writes_go_through_the_cssom() -> anyhow::Result<()> {
        let renderer = r#"x._applyMinimumContrast(b)||this._addStyle(b,`color:#fff`)}_addStyle(e,t){e.setAttribute("style",`${e.getAttribute("style")||""}${t};`)}_isCellInSelection(e,t){}"#;
        let patched = styles_through_cssom(renderer)?;
        assert!(patched.contains("_addStyle(e,t){e.style.cssText+=`${t};`}_isCellInSelection"));
        assert!(!patched.contains("setAttribute(\"style\""));
        // Another xterm.js that styles cells otherwise is refused, not vendored unchecked.
        assert!(styles_through_cssom("_addStyle(e,t){e.style.color=t}").is_err());
        Ok(())
    }
}
