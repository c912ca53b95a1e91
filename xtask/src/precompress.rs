//! The app's text files compressed once, at build time, each beside itself: `<file>.br` (brotli,
//! quality 11) and `<file>.gz` (gzip, level 9). The BFF sends the one the browser accepts best
//! (bff/src/routes/spa/assets.rs), so no request pays for compression.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;

/// What is worth compressing: text and WebAssembly (images and fonts are compressed already).
const COMPRESSIBLE: [&str; 9] = [
    "wasm", "js", "mjs", "css", "html", "svg", "json", "map", "txt",
];
const VARIANTS: [&str; 2] = ["br", "gz"];

/// One file's sizes, in bytes: as built, brotli'd and gzipped.
pub struct Sizes {
    pub path: PathBuf,
    pub raw: usize,
    pub brotli: usize,
    pub gzip: usize,
}

/// Writes the variants of every compressible file under `dist` (sub-folders included), removes
/// variants whose file is gone, and returns each file's sizes. A variant that would be no smaller
/// than its file is not written: the file itself is then sent.
pub fn precompress(dist: &Path) -> anyhow::Result<Vec<Sizes>> {
    let mut sizes = Vec::new();
    for path in files(dist)? {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if VARIANTS.contains(&extension) {
            if !path.with_extension("").is_file() {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
            continue;
        }
        if !COMPRESSIBLE.contains(&extension) {
            continue;
        }
        let raw = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let brotli = write_variant(&path, "br", raw.len(), &brotli(&raw)?)?;
        let gzip = write_variant(&path, "gz", raw.len(), &gzip(&raw)?)?;
        sizes.push(Sizes {
            path: path.strip_prefix(dist).unwrap_or(&path).to_path_buf(),
            raw: raw.len(),
            brotli,
            gzip,
        });
    }
    sizes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(sizes)
}

/// Writes `<file>.<suffix>` if it is smaller than the file (else removes a stale one); returns
/// the size that will be sent.
fn write_variant(file: &Path, suffix: &str, raw: usize, bytes: &[u8]) -> anyhow::Result<usize> {
    let mut name = file.as_os_str().to_os_string();
    name.push(".");
    name.push(suffix);
    let variant = PathBuf::from(name);
    if bytes.len() < raw {
        fs::write(&variant, bytes).with_context(|| format!("writing {}", variant.display()))?;
        Ok(bytes.len())
    } else {
        if variant.exists() {
            fs::remove_file(&variant)?;
        }
        Ok(raw)
    }
}

fn brotli(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        // A 16 MiB window (brotli's largest standard one): larger than any file here.
        lgwin: 24,
        size_hint: raw.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).context("brotli")?;
    Ok(out)
}

fn gzip(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw)?;
    Ok(encoder.finish()?)
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn variants_decode_to_their_file_and_stale_ones_go() -> anyhow::Result<()> {
        let dist = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        fs::create_dir_all(dist.join("vendor"))?;
        let text = "function f() { return 1; }\n".repeat(200);
        fs::write(dist.join("app.js"), &text)?;
        fs::write(dist.join("vendor/lib.css"), &text)?;
        fs::write(dist.join("tiny.js"), "f()")?;
        fs::write(dist.join("image.png"), &text)?;
        fs::write(dist.join("gone.js.br"), "stale")?;

        let sizes = precompress(&dist)?;
        let names: Vec<_> = sizes.iter().map(|s| s.path.clone()).collect();
        assert_eq!(
            names,
            [
                PathBuf::from("app.js"),
                "tiny.js".into(),
                "vendor/lib.css".into()
            ]
        );
        let mut decoded = String::new();
        brotli::Decompressor::new(&fs::read(dist.join("app.js.br"))?[..], 4096)
            .read_to_string(&mut decoded)?;
        assert_eq!(decoded, text);
        decoded.clear();
        flate2::read::GzDecoder::new(&fs::read(dist.join("vendor/lib.css.gz"))?[..])
            .read_to_string(&mut decoded)?;
        assert_eq!(decoded, text);
        assert!(sizes[0].brotli < sizes[0].gzip && sizes[0].gzip < sizes[0].raw);
        // Nothing to gain: no variant. Not text: not compressed. No file: no variant.
        assert!(!dist.join("tiny.js.br").exists());
        assert!(!dist.join("image.png.br").exists());
        assert!(!dist.join("gone.js.br").exists());
        fs::remove_dir_all(&dist)?;
        Ok(())
    }
}
