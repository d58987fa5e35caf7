//! The signing keys. One master secret — configured (`auth.jwt_secret`, at least 32 bytes), or, when
//! none is configured outside `production`, generated on first start and kept in the database so
//! every instance behind a load balancer signs and checks with the same one — and a separate key
//! derived from it for each purpose, so a leaked link key cannot mint a staff token.
use super::jwt::Keys;
use crate::configuration::{AppEnvironment, Settings};
use crate::db::Db;
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The development key this project once shipped in `configuration/base.yaml`: it is public, so
/// nothing may ever sign with it.
pub const PUBLISHED_DEVELOPMENT_KEY: &str = "minsheng-development-secret-change-me-0123456789";

/// The shortest configured secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// Name of the generated secret in `app_secrets`.
const STORED_SECRET: &str = "signing_master_v1";

/// What the master secret is for, each with its own derived key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    StaffToken,
    VillagerToken,
    WorkLink,
    RatingLink,
    OneTimeCode,
    TrackingMedia,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::StaffToken => "staff-token",
            Purpose::VillagerToken => "villager-token",
            Purpose::WorkLink => "work-link",
            Purpose::RatingLink => "rating-link",
            Purpose::OneTimeCode => "one-time-code",
            Purpose::TrackingMedia => "tracking-media",
        }
    }
}

/// Where the master secret came from (logged at start, never the value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Configured,
    GeneratedNow,
    Stored,
}

/// A derived 32-byte key, never printed.
#[derive(Clone)]
pub struct DerivedKey([u8; 32]);

impl DerivedKey {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 under this key, for signing links and codes.
    pub fn mac(&self) -> Hmac<Sha256> {
        crate::domain::mac::hmac_sha256(&self.0)
    }
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey([redacted])")
    }
}

/// Every key the application signs with.
#[derive(Clone)]
pub struct KeyRing {
    /// Staff access and refresh tokens (JWT, HS256).
    pub staff: Keys,
    /// Villager tokens (JWT, HS256): a villager key cannot make a staff token and the reverse.
    pub villager: Keys,
    /// The cadre's `/w/` order links.
    pub work_link: DerivedKey,
    /// The villager's `/r/` rating links.
    pub rating_link: DerivedKey,
    /// Hashes of one-time codes kept in the key-value store.
    pub one_time_code: DerivedKey,
    /// The short-lived links to a requester's own photos on the tracking page.
    pub tracking_media: DerivedKey,
    pub source: SecretSource,
}

/// HKDF-style expansion of the master secret for one purpose: HMAC-SHA256(master, label).
pub fn derive(master: &[u8], purpose: Purpose) -> DerivedKey {
    let mut m = crate::domain::mac::hmac_sha256(master);
    m.update(b"minsheng key v1 ");
    m.update(purpose.label().as_bytes());
    DerivedKey(m.finalize().into_bytes().into())
}

impl KeyRing {
    pub fn from_master(master: &SecretString, source: SecretSource) -> KeyRing {
        let m = master.expose_secret().as_bytes();
        let jwt = |p| SecretString::from(URL_SAFE_NO_PAD.encode(derive(m, p).bytes()));
        KeyRing {
            staff: Keys::new(&jwt(Purpose::StaffToken)),
            villager: Keys::new(&jwt(Purpose::VillagerToken)),
            work_link: derive(m, Purpose::WorkLink),
            rating_link: derive(m, Purpose::RatingLink),
            one_time_code: derive(m, Purpose::OneTimeCode),
            tracking_media: derive(m, Purpose::TrackingMedia),
            source,
        }
    }

    /// The configured secret, or the one kept in the database (made on the first start).
    pub async fn load(settings: &Settings, db: &Db) -> anyhow::Result<KeyRing> {
        if let Some(secret) = settings.auth.configured_secret() {
            return Ok(KeyRing::from_master(secret, SecretSource::Configured));
        }
        let mut bytes = [0u8; 48];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let candidate = URL_SAFE_NO_PAD.encode(bytes);
        let (secret, created) =
            crate::repo::secrets::get_or_create(&db.conn, STORED_SECRET, &candidate, chrono::Utc::now())
                .await
                .context("reading or storing the generated signing secret")?;
        anyhow::ensure!(
            secret.expose_secret().len() >= MIN_SECRET_BYTES,
            "the stored signing secret is too short; delete the app_secrets row {STORED_SECRET:?} to make a new one"
        );
        let source = if created { SecretSource::GeneratedNow } else { SecretSource::Stored };
        if created {
            tracing::warn!(
                "no auth.jwt_secret configured: generated a random signing secret and stored it in the database \
                 (every instance on this database uses it); set MINSHENG__AUTH__JWT_SECRET to choose your own"
            );
        } else {
            tracing::info!("signing secret: the one generated on the first start, read from the database");
        }
        Ok(KeyRing::from_master(&secret, source))
    }
}

/// Checks a configured secret for the environment: `production` needs one of at least 32 bytes;
/// no environment accepts a short one or the published development key.
pub fn check_configured(secret: &str, env: AppEnvironment) -> anyhow::Result<()> {
    if secret.is_empty() {
        anyhow::ensure!(
            env != AppEnvironment::Production,
            "production needs a signing secret of at least {MIN_SECRET_BYTES} bytes: set MINSHENG__AUTH__JWT_SECRET \
             (e.g. to the output of `openssl rand -base64 48`)"
        );
        return Ok(());
    }
    anyhow::ensure!(
        secret != PUBLISHED_DEVELOPMENT_KEY,
        "auth.jwt_secret is the development key published in minsheng's source: anyone could sign with it; \
         set MINSHENG__AUTH__JWT_SECRET to a secret of your own, or leave it empty outside production"
    );
    anyhow::ensure!(
        secret.len() >= MIN_SECRET_BYTES,
        "auth.jwt_secret must be at least {MIN_SECRET_BYTES} bytes (it has {}): set MINSHENG__AUTH__JWT_SECRET",
        secret.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_has_its_own_key() {
        let labels =
            [Purpose::StaffToken, Purpose::VillagerToken, Purpose::WorkLink, Purpose::RatingLink, Purpose::OneTimeCode];
        let keys: Vec<Vec<u8>> = labels.iter().map(|p| derive(b"master", *p).bytes().to_vec()).collect();
        for (i, a) in keys.iter().enumerate() {
            assert_ne!(a.as_slice(), b"master".as_slice());
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Derivation is stable: the same master gives the same keys on every instance.
        assert_eq!(derive(b"master", Purpose::WorkLink).bytes(), derive(b"master", Purpose::WorkLink).bytes());
        assert_ne!(derive(b"master", Purpose::WorkLink).bytes(), derive(b"other", Purpose::WorkLink).bytes());
    }

    #[test]
    fn a_staff_token_does_not_verify_with_the_villager_or_link_keys() {
        let ring = KeyRing::from_master(&SecretString::from("x".repeat(40)), SecretSource::Configured);
        #[derive(serde::Serialize, serde::Deserialize)]
        struct C {
            sub: String,
            exp: i64,
        }
        let token = ring.staff.sign(&C { sub: "1".into(), exp: chrono::Utc::now().timestamp() + 60 }).unwrap();
        assert!(ring.staff.verify::<C>(&token).is_ok());
        assert!(ring.villager.verify::<C>(&token).is_err());
        let link_keyed = Keys::new(&SecretString::from(URL_SAFE_NO_PAD.encode(ring.work_link.bytes())));
        assert!(link_keyed.verify::<C>(&token).is_err());
    }

    #[test]
    fn configured_secrets_are_checked_for_the_environment() {
        assert!(check_configured("", AppEnvironment::Local).is_ok());
        let e = check_configured("", AppEnvironment::Production).unwrap_err().to_string();
        assert!(e.contains("MINSHENG__AUTH__JWT_SECRET"), "{e}");
        assert!(check_configured(PUBLISHED_DEVELOPMENT_KEY, AppEnvironment::Local).is_err());
        assert!(check_configured(PUBLISHED_DEVELOPMENT_KEY, AppEnvironment::Production).is_err());
        assert!(check_configured("short-secret", AppEnvironment::Local).is_err());
        assert!(check_configured(&"k".repeat(31), AppEnvironment::Production).is_err());
        assert!(check_configured(&"k".repeat(32), AppEnvironment::Production).is_ok());
    }
}
