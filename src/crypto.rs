//! Protection of sensitive fields at rest: AES-256-GCM with the row's identity as associated
//! data (a ciphertext copied into another row or field does not decrypt), and a keyed hash for
//! exact lookup without decrypting. Both keys derive from `TONGXIN_DATA_KEY`.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::ApiError;

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
    lookup_key: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

fn derive(master: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl DataKey {
    pub fn new(master: &[u8; 32]) -> DataKey {
        let encryption_key = derive(master, "tongxin field encryption v1");
        DataKey {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(encryption_key)),
            lookup_key: derive(master, "tongxin field lookup v1"),
        }
    }

    /// Encrypts `plaintext` for one field of one row; the result is base64 of nonce || ciphertext.
    pub fn encrypt(&self, context: &str, plaintext: &str) -> Result<String, ApiError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| ApiError::internal("field encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(out))
    }

    pub fn decrypt(&self, context: &str, stored: &str) -> Result<String, ApiError> {
        let bytes = STANDARD
            .decode(stored)
            .map_err(|_| ApiError::internal("protected field is not base64"))?;
        if bytes.len() <= NONCE_LEN {
            return Err(ApiError::internal("protected field is too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| ApiError::internal("bad nonce"))?;
        let plaintext = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                ApiError::internal(
                    "protected field does not decrypt (wrong key or moved ciphertext)",
                )
            })?;
        String::from_utf8(plaintext).map_err(|_| ApiError::internal("protected field is not UTF-8"))
    }

    /// A keyed hash for exact-match lookup (the same value always gives the same hash; without
    /// the key, the hash says nothing about the value).
    pub fn lookup_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup_key).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::DataKey;

    #[test]
    fn ciphertexts_are_bound_to_their_row_and_key() {
        let key = DataKey::new(&[3; 32]);
        let stored = key
            .encrypt("cadre:1:id_number", "510102199001011234")
            .unwrap();
        assert_eq!(
            key.decrypt("cadre:1:id_number", &stored).unwrap(),
            "510102199001011234"
        );
        assert!(key.decrypt("cadre:2:id_number", &stored).is_err());
        assert!(DataKey::new(&[4; 32])
            .decrypt("cadre:1:id_number", &stored)
            .is_err());
        assert_ne!(
            stored,
            key.encrypt("cadre:1:id_number", "510102199001011234")
                .unwrap()
        );
        assert_eq!(key.lookup_hash("id", "x"), key.lookup_hash("id", "x"));
        assert_ne!(
            key.lookup_hash("id", "x"),
            DataKey::new(&[4; 32]).lookup_hash("id", "x")
        );
    }
}
