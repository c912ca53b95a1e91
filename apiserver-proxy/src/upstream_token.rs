//! The proxy's own bearer token at the kube-apiserver, from a file: in a cluster, the
//! ServiceAccount's projected token, which the kubelet replaces well before it expires. The file
//! is read again once its copy is a minute old (as client-go does), so a rotated token is used
//! without a restart. A file that cannot be read, or is empty, refuses the request: the proxy
//! never forwards without an identity of its own.

use std::{
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use http::HeaderValue;

/// How long a token read from the file is used before the file is read again.
pub const REREAD_AFTER: Duration = Duration::from_secs(60);

pub struct UpstreamToken {
    file: PathBuf,
    reread_after: Duration,
    /// The `Authorization` value (marked sensitive) and when it was read.
    read: Mutex<Option<(HeaderValue, Instant)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamTokenError {
    #[error("reading {file}: {source}")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
    #[error("{file} holds no usable token")]
    Empty { file: String },
}

impl UpstreamToken {
    pub fn new(file: PathBuf) -> Self {
        UpstreamToken::reread_every(file, REREAD_AFTER)
    }

    /// As `new`, read again after `reread_after` instead of a minute (for tests).
    pub fn reread_every(file: PathBuf, reread_after: Duration) -> Self {
        UpstreamToken {
            file,
            reread_after,
            read: Mutex::new(None),
        }
    }

    /// `Bearer <token>` for the next upstream request.
    pub async fn authorization(&self) -> Result<HeaderValue, UpstreamTokenError> {
        if let Some(value) = self.fresh() {
            return Ok(value);
        }
        let file = || self.file.display().to_string();
        let text = tokio::fs::read_to_string(&self.file)
            .await
            .map_err(|source| UpstreamTokenError::Unreadable {
                file: file(),
                source,
            })?;
        let token = text.trim();
        // A token is base64url and dots; anything else (or nothing) is not sent.
        let mut value = (!token.is_empty())
            .then(|| HeaderValue::from_str(&format!("Bearer {token}")).ok())
            .flatten()
            .ok_or_else(|| UpstreamTokenError::Empty { file: file() })?;
        value.set_sensitive(true);
        if let Ok(mut read) = self.read.lock() {
            *read = Some((value.clone(), Instant::now()));
        }
        Ok(value)
    }

    fn fresh(&self) -> Option<HeaderValue> {
        let read = self.read.lock().ok()?;
        let (value, at) = read.as_ref()?;
        (at.elapsed() < self.reread_after).then(|| value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of the test's own, made anew.
    fn folder(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("upstream-token-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("folder");
        dir
    }

    fn file_with(dir: &std::path::Path, text: &str) -> PathBuf {
        let path = dir.join("token");
        std::fs::write(&path, text).expect("write");
        path
    }

    #[tokio::test]
    async fn the_files_token_is_sent_trimmed_and_marked_sensitive() {
        let dir = folder("sent");
        let token = UpstreamToken::new(file_with(&dir, "eyJhbGciOi.payload.sig\n"));
        let value = token.authorization().await.expect("token");
        assert_eq!(value, "Bearer eyJhbGciOi.payload.sig");
        assert!(value.is_sensitive());
    }

    #[tokio::test]
    async fn a_rotated_token_is_used_once_the_copy_is_old() {
        let dir = folder("rotated");
        let path = file_with(&dir, "first");
        let cached = UpstreamToken::new(path.clone());
        let rereading = UpstreamToken::reread_every(path.clone(), Duration::ZERO);
        assert_eq!(cached.authorization().await.expect("token"), "Bearer first");
        assert_eq!(
            rereading.authorization().await.expect("token"),
            "Bearer first"
        );
        std::fs::write(&path, "second").expect("rotate");
        assert_eq!(cached.authorization().await.expect("token"), "Bearer first");
        assert_eq!(
            rereading.authorization().await.expect("token"),
            "Bearer second"
        );
    }

    #[tokio::test]
    async fn no_token_is_an_error_not_an_anonymous_request() {
        let dir = folder("none");
        let missing = UpstreamToken::new(dir.join("absent"));
        assert!(matches!(
            missing.authorization().await,
            Err(UpstreamTokenError::Unreadable { .. })
        ));
        for text in ["", " \n", "a\nb"] {
            let token = UpstreamToken::new(file_with(&dir, text));
            assert!(
                matches!(
                    token.authorization().await,
                    Err(UpstreamTokenError::Empty { .. })
                ),
                "{text:?}"
            );
        }
        // A file that goes away after a good read fails once the copy is old.
        let path = file_with(&dir, "good");
        let token = UpstreamToken::reread_every(path.clone(), Duration::ZERO);
        token.authorization().await.expect("token");
        std::fs::remove_file(&path).expect("remove");
        assert!(token.authorization().await.is_err());
    }
}
