//! The app's lazily loaded pages, cut out of its wasm: trunk's post-build hook (Trunk.toml runs
//! `cargo xtask split-wasm`). Each route marked `#[lazy_route]` (frontend/src/app.rs) becomes a
//! wasm chunk that the browser fetches when the page is first opened, so that a first visit loads
//! the overview's code and not the whole console's.
//!
//! trunk builds the page and the app; the app's two files are then made again from cargo's linked
//! wasm (which keeps its relocations: frontend/build.rs). `wasm_split_cli_support` (cargo-leptos'
//! splitter) cuts it into the main module, a chunk per split point (and a chunk for code several
//! of them share) and a JavaScript loader that fetches and instantiates them (from the page's own
//! origin: `connect-src 'self'`, `'wasm-unsafe-eval'`); the main module goes through wasm-bindgen
//! (`--keep-lld-exports`: the chunks link against its exports), every module through wasm-opt
//! (trunk's own is off: `data-wasm-opt="0"`). Every file is then named `frontend-<hash>…`, one
//! hash of all of their contents, which is what the BFF caches as immutable
//! (bff/src/routes/spa/assets.rs), and replaces trunk's in the staging folder and index.html.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::run;
use devstack::oci::hex;

/// What the split modules import the loader as, and the loader the main module's glue as: names
/// in the work folder, replaced by the hashed ones at the end.
const LOADER: &str = "__wasm_split.js";
const GLUE: &str = "frontend.js";
const MAIN_WASM: &str = "frontend_bg.wasm";

pub fn split_wasm(root: &Path) -> anyhow::Result<()> {
    let staging = PathBuf::from(std::env::var_os("TRUNK_STAGING_DIR").context(
        "TRUNK_STAGING_DIR is not set: `split-wasm` is trunk's post-build hook (Trunk.toml)",
    )?);
    let profile = std::env::var("TRUNK_PROFILE").context("TRUNK_PROFILE is not set")?;
    let linked = root
        .join("target/wasm32-unknown-unknown")
        .join(profile)
        .join("frontend.wasm");
    let work = root.join("target/wasm-split");
    if work.exists() {
        fs::remove_dir_all(&work).with_context(|| format!("clearing {}", work.display()))?;
    }
    fs::create_dir_all(&work)?;

    split(&linked, &work)?;
    let files = read_flat(&work)?;
    // The hash covers the files as they will be, with a placeholder where it goes: the same name
    // always has the same content, whatever changes (the app, the tools or this step).
    let placeholder = "0".repeat(16);
    let hash = hex(&Sha256::digest(
        named(&files, &placeholder)?
            .1
            .iter()
            .flat_map(|(name, bytes)| [name.as_bytes(), b"\0", bytes, b"\0"].concat())
            .collect::<Vec<u8>>(),
    ))[..16]
        .to_string();
    let (names, built) = named(&files, &hash)?;
    replace_trunks_app(&staging, &built, &names)?;
    for (name, bytes) in &built {
        let path = staging.join(name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "split the app: frontend-{hash}.js and _bg.wasm, the loader and {} chunks",
        built.len() - 3
    );
    Ok(())
}

type Named<'a> = (BTreeMap<&'a str, String>, BTreeMap<String, Vec<u8>>);

/// The new name of each file, and the files by their new names, linked to each other by them.
fn named<'a>(files: &'a BTreeMap<String, Vec<u8>>, hash: &str) -> anyhow::Result<Named<'a>> {
    let names: BTreeMap<&str, String> = files
        .keys()
        .map(|name| (name.as_str(), hashed_name(name, hash)))
        .collect();
    let mut built = BTreeMap::new();
    for (name, bytes) in files {
        let bytes = if name.ends_with(".js") {
            link(name, bytes, &names)?
        } else {
            bytes.clone()
        };
        built.insert(names[name.as_str()].clone(), bytes);
    }
    Ok((names, built))
}

/// Splits `linked` into `work`: the bindgen'd and optimised main module (`GLUE`, `MAIN_WASM`),
/// the loader (`LOADER`) and the optimised chunks.
fn split(linked: &Path, work: &Path) -> anyhow::Result<()> {
    let input = fs::read(linked).with_context(|| format!("reading {}", linked.display()))?;
    let main_module = work.join("main.wasm");
    let (loader, glue) = (format!("./{LOADER}"), format!("./{GLUE}"));
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = work;
    options.main_out_path = &main_module;
    options.link_name = &loader;
    options.main_module = &glue;
    let started = Instant::now();
    wasm_split_cli_support::transform(options)
        .map_err(|error| anyhow!("splitting {}: {error:?}", linked.display()))?;
    eprintln!("split in {:.1?}", started.elapsed());

    let wasm_bindgen = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .context("wasm-bindgen is not on PATH (run through `cargo xtask build`)")?;
    let version = String::from_utf8_lossy(&wasm_bindgen.stdout);
    if !version.contains(crate::tools::WASM_BINDGEN_VERSION) {
        bail!(
            "wasm-bindgen on PATH is {}, not {}",
            version.trim(),
            crate::tools::WASM_BINDGEN_VERSION
        );
    }
    run(Command::new("wasm-bindgen")
        .args([
            "--target=web",
            "--no-typescript",
            "--keep-lld-exports",
            "--no-demangle",
            "--out-name=frontend",
        ])
        .arg("--out-dir")
        .arg(work)
        .arg(&main_module))?;
    fs::remove_file(&main_module)?;

    let started = Instant::now();
    for name in read_flat(work)?
        .keys()
        .filter(|name| name.ends_with(".wasm"))
    {
        let path = work.join(name);
        run(Command::new("wasm-opt")
            .args([
                "-Oz",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
            ])
            .arg(&path)
            .arg("-o")
            .arg(&path))?;
    }
    eprintln!("wasm-opt in {:.1?}", started.elapsed());
    Ok(())
}

/// The files in `dir`, by name; a sub-folder (wasm-bindgen's `snippets/`) is refused, as nothing
/// would name its files.
fn read_flat(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| anyhow!("file name {name:?} is not UTF-8"))?;
        if !entry.file_type()?.is_file() {
            bail!("{name} in {}: only flat output is handled", dir.display());
        }
        files.insert(name, fs::read(entry.path())?);
    }
    Ok(files)
}

/// `frontend-<hash>` then what tells the file apart: the shape bff/src/routes/spa/assets.rs
/// recognises as content-hashed.
fn hashed_name(name: &str, hash: &str) -> String {
    match name {
        GLUE => format!("frontend-{hash}.js"),
        MAIN_WASM => format!("frontend-{hash}_bg.wasm"),
        LOADER => format!("frontend-{hash}_split.js"),
        chunk => format!("frontend-{hash}_{chunk}"),
    }
}

/// A JavaScript file with the names it imports (`from "./…"`) or fetches (`new URL("./…"`)
/// replaced by the hashed ones. The glue must import the loader, and the loader import the glue
/// and fetch every chunk. Other mentions stay: the glue's imports object is keyed by the module
/// names inside the main wasm, which keep the loader's unhashed name.
fn link(name: &str, bytes: &[u8], names: &BTreeMap<&str, String>) -> anyhow::Result<Vec<u8>> {
    let mut text = String::from_utf8(bytes.to_vec()).with_context(|| format!("{name}: UTF-8"))?;
    for (old, new) in names {
        let mut found = 0;
        for quote in ['"', '\''] {
            for by in ["from ", "new URL("] {
                let old = format!("{by}{quote}./{old}{quote}");
                found += text.matches(&old).count();
                text = text.replace(&old, &format!("{by}{quote}./{new}{quote}"));
            }
        }
        let needed = match (name, *old) {
            (GLUE, LOADER) => true,
            (LOADER, GLUE) => true,
            (LOADER, chunk) => chunk.ends_with(".wasm") && chunk != MAIN_WASM,
            _ => false,
        };
        if needed && found == 0 {
            bail!("{name} does not name {old}: the splitter's output has changed");
        }
    }
    Ok(text.into_bytes())
}

/// Points index.html at the split app instead of trunk's unsplit one (its loader script, the
/// preloads and their integrity digests), preloads the split loader too, and removes trunk's two
/// files.
fn replace_trunks_app(
    staging: &Path,
    built: &BTreeMap<String, Vec<u8>>,
    names: &BTreeMap<&str, String>,
) -> anyhow::Result<()> {
    let index_path = staging.join("index.html");
    let mut index = fs::read_to_string(&index_path)
        .with_context(|| format!("reading {}", index_path.display()))?;
    let trunk_hash = trunk_hash(&index).context("index.html names no frontend-<hash>.js")?;
    let glue = &names[GLUE];
    let loader = &names[LOADER];
    for (old, new) in [
        (format!("frontend-{trunk_hash}.js"), glue),
        (format!("frontend-{trunk_hash}_bg.wasm"), &names[MAIN_WASM]),
    ] {
        let old_path = staging.join(&old);
        let old_bytes =
            fs::read(&old_path).with_context(|| format!("reading {}", old_path.display()))?;
        replace_once(&mut index, &integrity(&old_bytes), &integrity(&built[new]))?;
        if index.matches(&format!("/{old}")).count() != 2 {
            bail!("index.html names /{old} other than twice (loader script and preload)");
        }
        index = index.replace(&format!("/{old}"), &format!("/{new}"));
        fs::remove_file(&old_path)?;
    }
    let glue_preload = format!(r#"<link rel="modulepreload" href="/{glue}""#);
    let loader_preload = format!(
        r#"<link rel="modulepreload" href="/{loader}" crossorigin="anonymous" integrity="{}">"#,
        integrity(&built[loader])
    );
    replace_once(
        &mut index,
        &glue_preload,
        &format!("{loader_preload}{glue_preload}"),
    )?;
    fs::write(&index_path, index).with_context(|| format!("writing {}", index_path.display()))
}

/// The hash in trunk's name for the app's glue, `/frontend-<hex>.js`: a 64-bit hash written
/// with `{:x}`, so without leading zeros (one build in sixteen has fewer than 16 digits).
fn trunk_hash(index: &str) -> Option<&str> {
    index.match_indices("/frontend-").find_map(|(at, prefix)| {
        let rest = &index[at + prefix.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        ((1..=16).contains(&digits) && rest[digits..].starts_with(".js")).then(|| &rest[..digits])
    })
}

fn replace_once(text: &mut String, old: &str, new: &str) -> anyhow::Result<()> {
    if text.matches(old).count() != 1 {
        bail!("index.html has {old:?} other than once");
    }
    *text = text.replace(old, new);
    Ok(())
}

/// A Subresource Integrity value, as trunk writes them.
fn integrity(bytes: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_imports_and_fetches_by_the_hashed_names() -> anyhow::Result<()> {
        let files = BTreeMap::from([
            (
                GLUE.to_string(),
                b"import * as import1 from \"./__wasm_split.js\"\nconst imports = { \"./__wasm_split.js\": import1 };\n".to_vec(),
            ),
            (
                LOADER.to_string(),
                b"import { initSync } from \"./frontend.js\";\nfetch(new URL(\"./split_a.wasm\", import.meta.url));\n".to_vec(),
            ),
            (MAIN_WASM.to_string(), b"\0asm main".to_vec()),
            ("split_a.wasm".to_string(), b"\0asm a".to_vec()),
        ]);
        let (names, built) = named(&files, "0123456789abcdef")?;
        assert_eq!(
            names["split_a.wasm"],
            "frontend-0123456789abcdef_split_a.wasm"
        );
        let glue = String::from_utf8(built["frontend-0123456789abcdef.js"].clone())?;
        // The import is renamed; the imports object keeps the name the main wasm imports by.
        assert!(
            glue.starts_with("import * as import1 from \"./frontend-0123456789abcdef_split.js\"\n")
        );
        assert!(
            glue.contains("{ \"./__wasm_split.js\": import1 }"),
            "{glue}"
        );
        let loader = String::from_utf8(built["frontend-0123456789abcdef_split.js"].clone())?;
        assert!(
            loader.contains("from \"./frontend-0123456789abcdef.js\";"),
            "{loader}"
        );
        assert!(
            loader
                .contains("new URL(\"./frontend-0123456789abcdef_split_a.wasm\", import.meta.url)"),
            "{loader}"
        );
        Ok(())
    }

    #[test]
    fn a_chunk_the_loader_does_not_fetch_is_an_error() {
        let files = BTreeMap::from([
            (
                LOADER.to_string(),
                b"import { initSync } from \"./frontend.js\";\n".to_vec(),
            ),
            ("split_a.wasm".to_string(), b"\0asm a".to_vec()),
        ]);
        assert!(named(&files, "0123456789abcdef").is_err());
    }

    #[test]
    fn finds_trunks_hash_of_the_glue() {
        let index = r#"<script type="module">import init from '/frontend-729f650472835a85.js';</script><link href="/main-82d9792f7aba1dcc.css">"#;
        assert_eq!(trunk_hash(index), Some("729f650472835a85"));
        // Leading zeros are left out.
        assert_eq!(
            trunk_hash("<link href=\"/frontend-29f650472835a85.js\">"),
            Some("29f650472835a85")
        );
        for not_glue in [
            "<link href=\"/frontend-.js\">",
            "<link href=\"/frontend-729f650472835a85_bg.wasm\">",
            "<link href=\"/frontend-729f650472835a85a.js\">",
        ] {
            assert_eq!(trunk_hash(not_glue), None, "{not_glue}");
        }
    }
}
