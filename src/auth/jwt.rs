//! HS256 tokens: short-lived staff access tokens, refresh tokens, and villager tokens. The `typ`
//! claim keeps them apart, so a villager token can never pass a staff route.
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode, errors::ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub const TYP_ACCESS: &str = "access";
pub const TYP_REFRESH: &str = "refresh";
pub const TYP_VILLAGER: &str = "villager";

#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Keys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self { encoding: EncodingKey::from_secret(bytes), decoding: DecodingKey::from_secret(bytes) }
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> anyhow::Result<String> {
        Ok(encode(&Header::new(Algorithm::HS256), claims, &self.encoding)?)
    }

    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 5;
        v.set_required_spec_claims(&["exp", "sub"]);
        decode::<C>(token, &self.decoding, &v).map(|d| d.claims).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

/// Staff access and refresh tokens carry the role and scope claims.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaffClaims {
    pub sub: String,
    pub typ: String,
    pub name: String,
    pub roles: Vec<String>,
    pub region_id: i64,
    pub region_path: String,
    pub unit_id: Option<i64>,
    /// Staff token version: raising it on the staff row (new roles, deactivation, password reset)
    /// revokes every outstanding access and refresh token of that person at once.
    pub tv: i32,
    /// The login (refresh-token family) this token belongs to; a reused refresh token revokes it.
    #[serde(default)]
    pub fam: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// A villager, identified by a verified phone (SMS code) or a WeChat openid.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VillagerClaims {
    pub sub: String,
    pub typ: String,
    pub phone: Option<String>,
    pub openid: Option<String>,
    pub iat: i64,
    pub exp: i64,
}
