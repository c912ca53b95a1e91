use std::io::Read;

/// `bytes` random bytes from the kernel, hex-encoded: for demo passwords and client secrets.
pub fn hex_secret(bytes: usize) -> anyhow::Result<String> {
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buffer)?;
    Ok(crate::oci::hex(&buffer))
}
