//! Values the BFF hands the browser to keep but never to read: JSON, encrypted and authenticated
//! with ChaCha20-Poly1305 (ring, the workspace's one crypto provider). The cookie's name is the
//! associated data, so a value sealed for one cookie cannot be replayed as another.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::{
    aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use serde::{Serialize, de::DeserializeOwned};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub struct CookieKey {
    key: LessSafeKey,
    random: SystemRandom,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("the cookie is not one this console sealed")]
    Invalid,
    #[error("the cookie has expired")]
    Expired,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<T> {
    /// Unix seconds after which the value is refused, whatever the browser kept.
    exp: u64,
    value: T,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl CookieKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // A 32-byte key always fits ChaCha20-Poly1305.
        #[allow(clippy::expect_used)]
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("32-byte key");
        CookieKey {
            key: LessSafeKey::new(unbound),
            random: SystemRandom::new(),
        }
    }

    pub fn random() -> anyhow::Result<Self> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A key given as 64 hex digits.
    pub fn from_hex(hex: &str) -> anyhow::Result<Self> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            anyhow::bail!("the cookie key must be 64 hex digits (32 bytes)");
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[index * 2..index * 2 + 2], 16)?;
        }
        Ok(Self::from_bytes(&bytes))
    }

    pub fn seal<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        lifetime_seconds: u64,
    ) -> anyhow::Result<String> {
        let mut data = serde_json::to_vec(&Envelope {
            exp: now() + lifetime_seconds,
            value,
        })?;
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut data,
            )
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(B64.encode(out))
    }

    pub fn open<T: DeserializeOwned>(&self, name: &str, sealed: &str) -> Result<T, OpenError> {
        let mut bytes = B64.decode(sealed).map_err(|_| OpenError::Invalid)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Invalid);
        }
        let mut data = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| OpenError::Invalid)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut data)
            .map_err(|_| OpenError::Invalid)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(plain).map_err(|_| OpenError::Invalid)?;
        if envelope.exp < now() {
            return Err(OpenError::Expired);
        }
        Ok(envelope.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_tampering_and_other_names() {
        let key = CookieKey::random().expect("key");
        let sealed = key.seal("a", &"secret".to_string(), 60).expect("seal");
        assert!(!sealed.contains("secret"));
        assert_eq!(key.open::<String>("a", &sealed), Ok("secret".into()));
        assert_eq!(key.open::<String>("b", &sealed), Err(OpenError::Invalid));
        let mut bytes = B64.decode(&sealed).expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            key.open::<String>("a", &B64.encode(bytes)),
            Err(OpenError::Invalid)
        );
        assert_eq!(
            key.open::<String>("a", "not base64!"),
            Err(OpenError::Invalid)
        );
        assert_eq!(key.open::<String>("a", ""), Err(OpenError::Invalid));
        let other = CookieKey::random().expect("key");
        assert_eq!(other.open::<String>("a", &sealed), Err(OpenError::Invalid));
    }

    #[test]
    fn refuses_expired_values() {
        let key = CookieKey::random().expect("key");
        let mut data = serde_json::to_vec(&Envelope {
            exp: now() - 1,
            value: "x",
        })
        .expect("json");
        let nonce = [7u8; NONCE_LEN];
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(b"a"),
                &mut data,
            )
            .expect("seal");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        assert_eq!(
            key.open::<String>("a", &B64.encode(out)),
            Err(OpenError::Expired)
        );
    }

    #[test]
    fn hex_keys_are_checked() {
        assert!(CookieKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(CookieKey::from_hex("abc").is_err());
        assert!(CookieKey::from_hex(&"zz".repeat(32)).is_err());
    }
}
