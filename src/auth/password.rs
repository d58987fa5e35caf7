//! Password hashing with Argon2id. Hashing runs on the blocking pool: it is deliberately slow.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone, Copy, Debug)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
}

fn hasher(p: HashParams) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(p.memory_kib, p.iterations, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_blocking(password: &SecretString, p: HashParams) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let h = hasher(p)?
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(h.to_string())
}

pub async fn hash(password: SecretString, p: HashParams) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, p)).await?
}

/// Verifies against the parameters stored in the hash itself. A malformed hash never verifies.
pub async fn verify(password: SecretString, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| Argon2::default().verify_password(password.expose_secret().as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let p = HashParams { memory_kib: 1024, iterations: 1 };
        let h = hash(SecretString::from("minsheng-demo"), p).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(SecretString::from("minsheng-demo"), h.clone()).await);
        assert!(!verify(SecretString::from("minsheng-dem0"), h).await);
        assert!(!verify(SecretString::from("x"), "not a hash".into()).await);
    }
}
