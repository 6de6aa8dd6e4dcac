//! Tokens: random opaque ones (sessions, one-time links), stored only as their SHA-256, and
//! signed ones (HMAC-SHA256 with a secret kept in the store) that need no stored row.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Store;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A fresh random token (64 hex characters) and the hash it is stored under.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// SHA-256 of bytes, hex (token hashes, attachment names).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Signs and checks messages with the store's secret (made once, kept in the store).
pub struct Signer {
    key: Vec<u8>,
}

const SECRET_KEY: &str = "secret";

impl Signer {
    /// The signer of this store, creating its secret on first use.
    pub fn of_store(store: &Store) -> Result<Signer> {
        let secret = match store.meta(SECRET_KEY)? {
            Some(s) => s,
            None => {
                let (token, _) = new_token();
                store.write(|tx| match Store::meta_in(tx, SECRET_KEY)? {
                    Some(s) => Ok(s),
                    None => {
                        Store::set_meta_in(tx, SECRET_KEY, &token)?;
                        Ok(token.clone())
                    }
                })?
            }
        };
        Ok(Signer {
            key: secret.into_bytes(),
        })
    }

    /// A signer with a random key of this process (when the store cannot give its secret).
    pub fn random() -> Signer {
        Signer {
            key: new_token().0.into_bytes(),
        }
    }

    fn mac(&self, message: &[u8]) -> Result<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .map_err(|e| Error::Internal(format!("hmac key: {e}")))?;
        mac.update(message);
        Ok(mac)
    }

    /// HMAC-SHA256 of `message`, hex.
    pub fn sign(&self, message: &[u8]) -> Result<String> {
        Ok(hex(&self.mac(message)?.finalize().into_bytes()))
    }

    /// True when `signature` (hex) is the signature of `message`; compared in constant time.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        match (unhex(signature), self.mac(message)) {
            (Some(sig), Ok(mac)) => mac.verify_slice(&sig).is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let s = Signer {
            key: b"Jefe".to_vec(),
        };
        let sig = s.sign(b"what do ya want for nothing?").unwrap();
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(s.verify(b"what do ya want for nothing?", &sig));
        assert!(!s.verify(b"what do ya want for nothing!", &sig));
        assert!(!s.verify(b"what do ya want for nothing?", "zz"));
    }
}
