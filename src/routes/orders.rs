//! Evidence of a ticket for staff: the photo files attached by actions, read within scope.
use crate::auth::StaffUser;
use crate::domain::ids::TicketNo;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::tickets::load_readable;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};

#[utoipa::path(tag = "orders", responses((status = 200, description = "工单附件", content_type = "application/octet-stream")))]
#[get("/tickets/{no}/uploads/{id}")]
async fn upload_file(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (no, id) = path.into_inner();
    let no = TicketNo::parse(&no).ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let l = load_readable(&state, &user, no.as_str()).await?;
    let upload = repo::evidence::get(&state.db.conn, &id)
        .await?
        .filter(|u| u.ticket_id == Some(l.ticket.id))
        .ok_or_else(|| ApiError::not_found("附件不存在"))?;
    let file = crate::services::uploads::file_path(&state, &upload.storage_path);
    let bytes = tokio::fs::read(file).await.map_err(|_| ApiError::not_found("附件文件已不存在"))?;
    Ok(HttpResponse::Ok()
        .content_type(upload.mime)
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload_file);
}
