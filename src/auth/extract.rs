//! `StaffUser`: the extractor every staff route takes. No valid staff access token, no handler call.
use super::jwt::{StaffClaims, TYP_ACCESS, TYP_VILLAGER, TokenError, VillagerClaims};
use crate::domain::roles::{Role, Scope, parse_roles};
use crate::error::ApiError;
use crate::error::codes;
use crate::state::AppState;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use std::future::{Ready, ready};

/// The id of a `StaffUser` that is no person (a unit's duty phone); staff ids start at 1.
pub const NO_PERSON: i64 = 0;

#[derive(Clone, Debug)]
pub struct StaffUser {
    pub id: i64,
    pub name: String,
    pub region_id: i64,
    pub scope: Scope,
}

impl StaffUser {
    pub fn has(&self, role: Role) -> bool {
        self.scope.has(role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Fails with 403 unless the caller holds one of `roles` (admins hold every role).
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.is_admin() || roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
            Err(ApiError::forbidden(format!("此操作需要以下角色之一：{}", names.join("、"))))
        }
    }

    /// The same person built from their staff row (for actions that arrive without a token, such as
    /// a cadre's SMS reply).
    pub fn from_record(staff: &crate::repo::staff::Staff, region_path: &str) -> StaffUser {
        StaffUser {
            id: staff.id,
            name: staff.name.clone(),
            region_id: staff.region_id,
            scope: Scope { roles: staff.roles.clone(), region_path: region_path.to_string(), unit_id: staff.unit_id },
        }
    }

    /// The duty phone of a unit outside government (公共服务企业) acting through its order link: the
    /// cadre's part on that unit's orders, with no person — and no staff id — behind it.
    pub fn duty_phone(unit: &crate::repo::regions::Unit, region_path: &str) -> StaffUser {
        StaffUser {
            id: NO_PERSON,
            name: format!("{}（值班电话）", unit.name),
            region_id: unit.region_id,
            scope: Scope { roles: vec![Role::Cadre], region_path: region_path.to_string(), unit_id: Some(unit.id) },
        }
    }

    /// A person with a staff record (not a unit's duty phone): only a person is written as an
    /// assignee, a requester or a signer.
    pub fn is_person(&self) -> bool {
        self.id != NO_PERSON
    }

    /// Whether a region (by its path) lies inside the caller's region subtree.
    pub fn covers_region(&self, region_path: &str) -> bool {
        region_path.starts_with(&self.scope.region_path)
    }
}

pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state missing")))
}

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Expired => ApiError::unauthorized(codes::TOKEN_EXPIRED, "登录已过期，请重新登录"),
        TokenError::Invalid => ApiError::unauthorized(codes::TOKEN_INVALID, "登录凭证无效，请重新登录"),
    }
}

pub fn revoked() -> ApiError {
    ApiError::unauthorized(codes::TOKEN_REVOKED, "登录凭证已失效，请重新登录")
}

/// The claims of a staff access token, checked for signature, expiry and type (no database).
fn staff_claims(state: &AppState, req: &HttpRequest) -> Result<StaffClaims, ApiError> {
    let token = bearer(req).ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "请先登录"))?;
    access_claims(state, token)
}

/// A staff member from an access token that did not come in the `Authorization` header (an
/// EventSource can only put it in the address), checked exactly as the extractor checks it; with
/// the token version, so a long-lived stream can see later that it was revoked.
pub async fn staff_from_token(state: &AppState, token: &str, path: &str) -> Result<(StaffUser, i32), ApiError> {
    let claims = access_claims(state, token)?;
    let tv = claims.tv;
    Ok((staff_user(state, claims, path).await?, tv))
}

fn access_claims(state: &AppState, token: &str) -> Result<StaffClaims, ApiError> {
    let claims: StaffClaims = state.keys.staff.verify(token).map_err(token_error)?;
    if claims.typ != TYP_ACCESS {
        return Err(ApiError::unauthorized(codes::TOKEN_INVALID, "该凭证不能用于工作人员接口"));
    }
    Ok(claims)
}

/// A signed token is not enough: the person must still be active with the same token version (new
/// roles, deactivation or a password reset raise it), and their login not revoked (a reused refresh
/// token revokes it). Checked on every request, so a change takes effect at once on every instance.
/// The one route a person with a temporary password may use: changing it.
pub const PASSWORD_PATH: &str = "/api/v1/auth/password";

async fn staff_user(state: &AppState, claims: StaffClaims, path: &str) -> Result<StaffUser, ApiError> {
    let id: i64 =
        claims.sub.parse().map_err(|_| ApiError::unauthorized(codes::TOKEN_INVALID, "登录凭证无效，请重新登录"))?;
    let staff = crate::repo::staff::get(&state.db.conn, id).await?;
    let Some(staff) = staff.filter(|s| s.active && s.token_version == claims.tv) else {
        return Err(revoked());
    };
    if staff.must_change_password && path != PASSWORD_PATH {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            codes::PASSWORD_CHANGE_REQUIRED,
            "您正在使用临时密码，请先修改密码",
        ));
    }
    if let Some(fam) = &claims.fam {
        let family = crate::repo::sessions::get(&state.db.conn, fam).await?;
        if !family.is_some_and(|f| f.revoked_at.is_none() && f.staff_id == id) {
            return Err(revoked());
        }
    }
    // Tokens are ours, but a role the code does not know is refused, never dropped.
    let roles = parse_roles(&claims.roles.join(","))
        .ok_or_else(|| ApiError::unauthorized(codes::TOKEN_INVALID, "登录凭证无效，请重新登录"))?;
    Ok(StaffUser {
        id,
        name: claims.name,
        region_id: claims.region_id,
        scope: Scope { roles, region_path: claims.region_path, unit_id: claims.unit_id },
    })
}

impl FromRequest for StaffUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = app_state(req).and_then(|state| Ok((staff_claims(&state, req)?, state)));
        let path = req.path().to_string();
        Box::pin(async move {
            let (claims, state) = checked?;
            staff_user(&state, claims, &path).await
        })
    }
}

/// A villager signed in by SMS code (phone) or WeChat (openid).
#[derive(Clone, Debug)]
pub struct VillagerUser {
    pub sub: String,
    pub phone: Option<String>,
    pub openid: Option<String>,
}

fn villager_from_request(req: &HttpRequest) -> Result<VillagerUser, ApiError> {
    let state = app_state(req)?;
    let token = bearer(req).ok_or_else(|| ApiError::unauthorized(codes::UNAUTHORIZED, "请先登录"))?;
    let claims: VillagerClaims = state.keys.villager.verify(token).map_err(token_error)?;
    if claims.typ != TYP_VILLAGER {
        return Err(ApiError::unauthorized(codes::TOKEN_INVALID, "请使用群众账号登录"));
    }
    Ok(VillagerUser { sub: claims.sub, phone: claims.phone, openid: claims.openid })
}

impl FromRequest for VillagerUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(villager_from_request(req))
    }
}

/// Who is calling a route open to everyone that behaves differently for staff and signed-in
/// villagers (e.g. `POST /api/v1/tickets`). A token that verifies as neither is a 401, never
/// silently anonymous.
pub enum Caller {
    Anonymous,
    Staff(StaffUser),
    Villager(VillagerUser),
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if bearer(req).is_none() {
            return Box::pin(ready(Ok(Caller::Anonymous)));
        }
        // Villager and staff tokens are signed with different keys: the one that verifies says which.
        match villager_from_request(req) {
            Ok(v) => return Box::pin(ready(Ok(Caller::Villager(v)))),
            Err(e) if e.code == codes::TOKEN_EXPIRED => return Box::pin(ready(Err(e))),
            Err(_) => {}
        }
        let checked = app_state(req).and_then(|state| Ok((staff_claims(&state, req)?, state)));
        let path = req.path().to_string();
        Box::pin(async move {
            let (claims, state) = checked?;
            staff_user(&state, claims, &path).await.map(Caller::Staff)
        })
    }
}
