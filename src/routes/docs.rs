//! The API's own description: `/api/openapi.json` (OpenAPI 3.1) and Swagger UI at `/api/docs/`,
//! served from the files vendored in `utoipa-swagger-ui` (no CDN).
use crate::openapi;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpResponse, get, web};
use std::sync::{Arc, OnceLock};
use utoipa_swagger_ui::Config;

/// OpenAPI 3.1 文档（本服务全部接口）。
#[utoipa::path(tag = "health", security(()), responses((status = 200, description = "OpenAPI 3.1 文档", content_type = "application/json", body = Object)))]
#[get("/api/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").insert_header((CACHE_CONTROL, "no-cache")).body(openapi::json())
}

/// Swagger UI 入口（跳转到 `/api/docs/`）。
#[utoipa::path(tag = "pages", security(()), responses((status = 308, description = "跳转到 /api/docs/")))]
#[get("/api/docs")]
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((LOCATION, "/api/docs/")).finish()
}

fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(Config::from("/api/openapi.json").try_it_out_enabled(true).persist_authorization(false))
        })
        .clone()
}

/// Swagger UI 的页面与脚本（随程序发布，不依赖外网）。
#[utoipa::path(tag = "pages", security(()), responses(
    (status = 200, description = "Swagger UI 文件", content(("text/html"), ("text/javascript"), ("text/css"), ("image/png"))),
    (status = 404, description = "没有这个文件", content_type = "application/json", body = crate::openapi::ErrorBody)
))]
#[get("/api/docs/{file:.*}")]
async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, crate::error::ApiError> {
    let file = file.into_inner();
    match utoipa_swagger_ui::serve(&file, config()) {
        Ok(Some(found)) => {
            let mut resp = HttpResponse::Ok();
            resp.content_type(found.content_type).insert_header((CACHE_CONTROL, "public, max-age=3600"));
            if found.gzpipped {
                resp.insert_header(("content-encoding", "gzip"));
            }
            Ok(resp.body(found.bytes.into_owned()))
        }
        Ok(None) => Err(crate::error::ApiError::not_found("没有这个文件")),
        Err(e) => Err(crate::error::ApiError::internal(anyhow::anyhow!("swagger ui: {e}"))),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(openapi_json).service(docs_redirect).service(docs_file);
}
