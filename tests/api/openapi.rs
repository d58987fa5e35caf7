//! The OpenAPI document (`/api/openapi.json`) against the routes the server really has: every
//! handler in `src/routes` is in it, every documented operation reaches a handler, security says
//! what the server enforces, and Swagger UI is served from the vendored files.
use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &crate::helpers::TestApp) -> Value {
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    r.json().await.unwrap()
}

/// Every `#[get("…")]`-style handler attribute in `src/routes`, as (method, actix path).
fn handlers_in_source() -> Vec<(String, String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let line = line.trim();
            for m in METHODS {
                if let Some(rest) = line.strip_prefix(&format!("#[{m}(\"")) {
                    let route = rest.split('"').next().unwrap().to_string();
                    out.push((file.clone(), m.to_string(), route));
                }
            }
        }
    }
    assert!(out.len() > 100, "the walk found only {} handlers", out.len());
    out
}

/// `{file:.*}` in actix is `{file}` in OpenAPI.
fn openapi_path(actix: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    let mut skipping = false;
    for c in actix.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push(c)
            }
            '}' => {
                in_param = false;
                skipping = false;
                out.push(c)
            }
            ':' if in_param => skipping = true,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((m.to_string(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_handler_of_the_source_is_in_the_document_and_nothing_else() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
    let mut found = BTreeSet::new();
    for (file, method, route) in handlers_in_source() {
        let route = openapi_path(&route);
        // Handlers mounted under the `/api/v1` scope carry it in the document.
        let candidates = [route.clone(), format!("/api/v1{route}")];
        let hits: Vec<&String> =
            candidates.iter().filter(|p| documented.contains(&(method.clone(), (*p).clone()))).collect();
        assert_eq!(hits.len(), 1, "{file}: {method} {route} is not in /api/openapi.json exactly once");
        found.insert((method, hits[0].clone()));
    }
    let extra: Vec<_> = documented.difference(&found).collect();
    assert!(extra.is_empty(), "documented but no handler in src/routes: {extra:?}");
    // No route is registered around the documented registration (a raw actix resource or route).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for sub in ["routes", "startup.rs"] {
        let p = dir.join(sub);
        let files: Vec<std::path::PathBuf> =
            if p.is_dir() { std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()).collect() } else { vec![p] };
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let text = text.replace("utoipa_actix_web::scope(", "");
            for needle in ["web::resource(", "cfg.route(", ".route(\"", "web::scope("] {
                assert!(!text.contains(needle), "{} registers a route outside the document: {needle}", f.display());
            }
        }
    }
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{path}" => "css/app.css".to_string(),
            "{file}" => "index.html".to_string(),
            "{provider}" => "console".to_string(),
            s if s.contains('{') => {
                let mut out = String::new();
                let mut inside = false;
                for c in s.chars() {
                    match c {
                        '{' => {
                            inside = true;
                            out.push('1')
                        }
                        '}' => inside = false,
                        _ if inside => {}
                        _ => out.push(c),
                    }
                }
                out
            }
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The server's own answer for an address it has no route for (JSON asked).
fn is_no_route(status: StatusCode, body: &str) -> bool {
    (status == StatusCode::NOT_FOUND && body.contains("请求的地址不存在")) || status == StatusCode::METHOD_NOT_ALLOWED
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler_and_enforces_its_security() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut bearer_only = 0;
    for (method, path, op) in operations(&doc) {
        if path == "/api/v1/stream/dashboard" {
            continue; // an endless stream: tests/api/live.rs
        }
        let url = app.url(&concrete(&path));
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.client.request(m.clone(), &url).header("accept", "application/json").send().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(!is_no_route(status, &body), "{method} {path}: no handler answered ({status}) {body}");
        assert!(!status.is_server_error(), "{method} {path}: {status} {body}");
        let security = op["security"].as_array().unwrap_or_else(|| panic!("{method} {path} has no security"));
        let names: Vec<Vec<&String>> =
            security.iter().map(|req| req.as_object().unwrap().keys().collect::<Vec<_>>()).collect();
        if names.len() == 1 && names[0].len() == 1 && names[0][0] == "bearer" {
            bearer_only += 1;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} is documented bearer-only: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string(), "{body}");
        }
        if path.starts_with("/hooks/") {
            assert_eq!(names, vec![vec!["callback_token"]], "{path}");
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without the secret: {body}");
        }
        assert!(op["responses"]["default"].is_object(), "{method} {path} has no error answer");
    }
    assert!(bearer_only > 60, "only {bearer_only} staff operations");
}

#[tokio::test]
async fn public_and_staff_routes_say_so_and_errors_have_one_documented_shape() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let security = |m: &str, p: &str| doc["paths"][p][m]["security"].clone();
    for (m, p) in [
        ("post", "/api/v1/auth/login"),
        ("get", "/api/v1/cards/{code}"),
        ("get", "/api/v1/tickets/{no}/public"),
        ("post", "/api/v1/tickets/{no}/rating"),
        ("post", "/api/v1/auth/otp"),
        ("get", "/c/{code}"),
        ("get", "/healthz"),
    ] {
        assert_eq!(security(m, p), serde_json::json!([]), "{m} {p}");
    }
    // Intake: a villager without a token or staff with one.
    assert_eq!(security("post", "/api/v1/tickets"), serde_json::json!([{}, {"bearer": []}]));
    for (m, p) in [("get", "/api/v1/tickets"), ("post", "/api/v1/tickets/{no}/{action}"), ("post", "/api/v1/units")] {
        assert_eq!(security(m, p), serde_json::json!([{"bearer": []}]), "{m} {p}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error"]));
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    let mut required: Vec<&str> = detail["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    required.sort();
    assert_eq!(required, vec!["code", "message"]);
    // The intake's body and answer are described field by field.
    let intake = &doc["paths"]["/api/v1/tickets"]["post"];
    let body = &intake["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(body, "#/components/schemas/IntakeRequest");
    let fields = doc["components"]["schemas"]["IntakeRequest"]["properties"].as_object().unwrap();
    for f in ["card_code", "description", "phone", "category", "location", "upload_ids"] {
        assert!(fields.contains_key(f), "{f}");
    }
    assert!(
        intake["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
    );
    // Lists: their paging parameters.
    let list = &doc["paths"]["/api/v1/tickets"]["get"]["parameters"];
    for name in ["page", "per_page", "status", "q", "overdue"] {
        assert!(list.as_array().unwrap().iter().any(|p| p["name"] == name), "{name}");
    }
}

#[tokio::test]
async fn a_wrong_method_names_the_methods_of_the_path() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/tickets", "GET, HEAD, POST"),
        (Method::PUT, "/api/v1/tickets/QH1/case.pdf", "GET, HEAD"),
        (Method::GET, "/api/v1/auth/login", "POST"),
        (Method::PATCH, "/healthz", "GET, HEAD"),
    ] {
        let r = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_vendored_files() {
    let app = spawn_app().await;
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirect.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()["location"], "/api/docs/");
    let r = app.get("/api/docs/", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"), "{html}");
    let init = app.get("/api/docs/swagger-initializer.js", None).await.text().await.unwrap();
    assert!(init.contains("\"/api/openapi.json\""), "{init}");
    let bundle = app.get("/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    let missing = app.get("/api/docs/no-such-file.js", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// A small validator for the parts of JSON Schema the document uses: `$ref`, `type` (with "null"),
/// `properties`, `required`, `items`, `enum`, `oneOf`/`anyOf`/`allOf`. Returns what does not fit.
fn violations(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return violations(doc, &doc["components"]["schemas"][name], value, at, out);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema[key].as_array() {
            let fits = alts.iter().any(|alt| {
                let mut inner = vec![];
                violations(doc, alt, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                out.push(format!("{at}: fits none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            violations(doc, s, value, at, out);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        });
        if !ok {
            out.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !value.is_null()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} not in {allowed:?}"));
    }
    if let (Some(obj), Some(props)) = (value.as_object(), schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten() {
            let req = req.as_str().unwrap();
            if !obj.contains_key(req) {
                out.push(format!("{at}.{req}: required but missing"));
            }
        }
        for (k, s) in props {
            if let Some(v) = obj.get(k) {
                violations(doc, s, v, &format!("{at}.{k}"), out);
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            violations(doc, schema, v, &format!("{at}[{i}]"), out);
        }
    }
}

fn assert_documented(doc: &Value, method: &str, path: &str, status: &str, value: &Value) {
    let schema = &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no JSON schema");
    let mut out = vec![];
    violations(doc, schema, value, "$", &mut out);
    assert!(out.is_empty(), "{method} {path} {status} does not match the document: {out:#?}");
}

#[tokio::test]
async fn real_answers_match_their_documented_schemas() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    // A resolved ticket: every step of the loop in its events and assignment.
    let no = app.to_resolved("杏花村", "xinghua", "13800001111").await;
    let admin = app.token("admin").await;
    let detail: Value = app.get(&format!("/api/v1/tickets/{no}"), Some(&admin)).await.json().await.unwrap();
    assert_documented(&doc, "get", "/api/v1/tickets/{no}", "200", &detail);
    assert!(detail["events"].as_array().unwrap().len() >= 4, "{detail}");
    let list: Value = app.get("/api/v1/tickets?per_page=5", Some(&admin)).await.json().await.unwrap();
    assert!(!list["items"].as_array().unwrap().is_empty());
    assert_documented(&doc, "get", "/api/v1/tickets", "200", &list);
    let public: Value =
        app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=1111"), None).await.json().await.unwrap();
    assert_documented(&doc, "get", "/api/v1/tickets/{no}/public", "200", &public);
    let login: Value = app.login("admin", crate::helpers::PASSWORD).await.json().await.unwrap();
    assert_documented(&doc, "post", "/api/v1/auth/login", "200", &login);
    // The intake's answer, and an error in the contract's shape.
    let code = app.card("石桥村");
    let r = app.intake(&app.intake_body("石桥村", "13800002222"), None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let filed: Value = r.json().await.unwrap();
    assert_documented(&doc, "post", "/api/v1/tickets", "201", &filed);
    let refused: Value = app.intake(&serde_json::json!({"card_code": code}), None).await.json().await.unwrap();
    let mut out = vec![];
    violations(&doc, &serde_json::json!({"$ref": "#/components/schemas/ErrorBody"}), &refused, "$", &mut out);
    assert!(out.is_empty(), "{out:?} {refused}");
    // The check itself catches a wrong answer.
    let mut broken = detail.clone();
    broken["status"] = Value::from("no_such_status");
    broken.as_object_mut().unwrap().remove("no");
    let mut out = vec![];
    let schema =
        &doc["paths"]["/api/v1/tickets/{no}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    violations(&doc, schema, &broken, "$", &mut out);
    assert_eq!(out.len(), 2, "{out:?}");
}
