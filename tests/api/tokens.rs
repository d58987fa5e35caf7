//! Staff tokens tampered with the ways attackers try (issue 21, point 5): `alg: none`, another
//! algorithm with the right key, the wrong key, a role added to a signed token, an expired token, a
//! refresh token or a villager token used as an access token, and plain garbage. Each is refused with
//! 401 and its code, on a read and on a write that would make the attacker an admin, and nothing is
//! written.
use crate::helpers::{TestApp, error_of, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use minsheng::auth::jwt::{Keys, StaffClaims, VillagerClaims};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn part(token: &str, i: usize) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(i).unwrap()).unwrap()).unwrap()
}

/// A token with any header and payload, signed by `sign` over `header.payload`.
fn forge(header: &Value, payload: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let head = format!("{}.{}", b64(header.to_string().as_bytes()), b64(payload.to_string().as_bytes()));
    let sig = sign(head.as_bytes());
    format!("{head}.{}", b64(&sig))
}

fn hs256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// The cadre's own valid claims, as a starting point for each forgery.
async fn cadre_claims(app: &TestApp) -> (String, StaffClaims) {
    let token = app.token("lijiazhuang").await;
    let claims: StaffClaims = app.state.keys.staff.verify(&token).expect("a valid access token");
    (token, claims)
}

/// The attacker's two tries with a token: read every ticket, and make themselves an admin.
async fn refused(app: &TestApp, token: &str, code: &str, what: &str) {
    let before = app.count("SELECT COUNT(*) FROM staff").await;
    let e = error_of(app.get("/api/v1/tickets", Some(token)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], code, "{what}: read refused with {e}");
    let r = app
        .post(
            "/api/v1/staff",
            Some(token),
            &json!({"username": "mallory", "name": "冒名管理员", "roles": ["admin"], "region_id": 1}),
        )
        .await;
    let e = error_of(r, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], code, "{what}: write refused with {e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("登录") || message.contains("凭证"), "{what}: a Chinese message naming the login: {e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff").await, before, "{what}: nobody was added");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff WHERE username = 'mallory'").await, 0);
}

#[tokio::test]
async fn tampered_staff_tokens_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let (good, claims) = cadre_claims(&app).await;
    // The genuine token works (so every refusal below is the tampering's doing) but not for this.
    assert_eq!(app.get("/api/v1/tickets", Some(&good)).await.status(), StatusCode::OK);
    let r = app.post("/api/v1/staff", Some(&good), &json!({"username": "x", "name": "x", "region_id": 1})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a cadre may not add staff");
    let header = part(&good, 0);
    assert_eq!(header["alg"], "HS256");
    let mut admin = serde_json::to_value(&claims).unwrap();
    admin["roles"] = json!(["admin"]);
    admin["region_path"] = json!("/1/");
    admin["region_id"] = json!(1);

    // 1. alg none, with and without a trailing signature.
    let none = json!({"alg": "none", "typ": "JWT"});
    let unsigned = forge(&none, &admin, |_| vec![]);
    refused(&app, &unsigned, "token_invalid", "alg none").await;
    refused(&app, unsigned.trim_end_matches('.'), "token_invalid", "alg none, two parts").await;
    let none_upper = forge(&json!({"alg": "None", "typ": "JWT"}), &admin, |_| vec![]);
    refused(&app, &none_upper, "token_invalid", "alg None").await;

    // 2. The roles changed in a genuinely signed token: the signature no longer matches.
    let sig = good.split('.').nth(2).unwrap();
    let promoted = format!("{}.{}.{sig}", good.split('.').next().unwrap(), b64(admin.to_string().as_bytes()));
    refused(&app, &promoted, "token_invalid", "roles changed").await;

    // 3. Signed with another key (the attacker's own), and with an empty key.
    let wrong = Keys::new(&SecretString::from("not-the-county-secret-but-long-enough-0123456789"));
    refused(&app, &wrong.sign(&admin).unwrap(), "token_invalid", "wrong key").await;
    refused(&app, &forge(&header, &admin, |m| hs256(b"", m)), "token_invalid", "empty key").await;

    // 4. Another algorithm: HS512 over the right payload, RS256 claimed over an HMAC signature.
    let hs512 = forge(&json!({"alg": "HS512", "typ": "JWT"}), &admin, |m| {
        let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(b"whatever").unwrap();
        mac.update(m);
        mac.finalize().into_bytes().to_vec()
    });
    refused(&app, &hs512, "token_invalid", "HS512").await;
    let rs256 = forge(&json!({"alg": "RS256", "typ": "JWT"}), &admin, |m| hs256(b"public key as secret", m));
    refused(&app, &rs256, "token_invalid", "RS256 header").await;

    // 5. Expired: signed with the right key, but its hour is over.
    let now = chrono::Utc::now().timestamp();
    let mut old = claims.clone();
    old.iat = now - 7200;
    old.exp = now - 3600;
    let expired = app.state.keys.staff.sign(&old).unwrap();
    refused(&app, &expired, "token_expired", "expired").await;
    // Without an expiry at all.
    let mut no_exp = serde_json::to_value(&claims).unwrap();
    no_exp.as_object_mut().unwrap().remove("exp");
    refused(&app, &app.state.keys.staff.sign(&no_exp).unwrap(), "token_invalid", "no exp").await;

    // 6. A refresh token (right key, right person) is not an access token.
    let login: Value = app.login("lijiazhuang", crate::helpers::PASSWORD).await.json().await.unwrap();
    let refresh = login["refresh_token"].as_str().expect("a refresh token");
    assert_eq!(part(refresh, 1)["typ"], "refresh");
    refused(&app, refresh, "token_invalid", "refresh as access").await;

    // 7. A villager's token (their own key) on a staff route, and a staff token as a villager's.
    let villager = VillagerClaims {
        sub: "phone:13812345678".into(),
        typ: "villager".into(),
        phone: Some("13812345678".into()),
        openid: None,
        iat: now,
        exp: now + 600,
    };
    refused(&app, &app.state.keys.villager.sign(&villager).unwrap(), "token_invalid", "villager token").await;
    let staff_as_villager = error_of(app.get("/api/v1/me/tickets", Some(&good)).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(staff_as_villager["code"], "token_invalid");
    // A villager's claims signed with the staff key still say `villager`: refused as staff.
    refused(&app, &app.state.keys.staff.sign(&villager).unwrap(), "token_invalid", "villager claims, staff key").await;

    // 8. Garbage.
    for junk in ["", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9", &"A".repeat(10_000)] {
        let r =
            app.client.get(app.url("/api/v1/tickets")).header("Authorization", format!("Bearer {junk}")).send().await;
        let status = r.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "junk token {:.20}", junk);
    }

    // The genuine token still works: none of the above locked the person out.
    assert_eq!(app.get("/api/v1/tickets", Some(&good)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_correctly_signed_token_for_someone_who_is_not_staff_or_another_version_is_refused() {
    let app = spawn_app().await;
    let (_, claims) = cadre_claims(&app).await;
    // Signed with the real key (as if it had leaked) but naming a person who does not exist.
    let mut ghost = claims.clone();
    ghost.sub = "999999".into();
    refused(&app, &app.state.keys.staff.sign(&ghost).unwrap(), "token_revoked", "unknown person").await;
    // The right person with an older token version (before a role change or a password reset).
    let mut stale = claims.clone();
    stale.tv -= 1;
    refused(&app, &app.state.keys.staff.sign(&stale).unwrap(), "token_revoked", "old token version").await;
    // A role the code does not know.
    let mut unknown = claims.clone();
    unknown.roles = vec!["superuser".into()];
    refused(&app, &app.state.keys.staff.sign(&unknown).unwrap(), "token_invalid", "unknown role").await;
}
