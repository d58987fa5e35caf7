//! `JsonBody<T>`: actix's JSON extractor (content type, size limit, syntax) followed by a typed
//! reading that knows where it failed, so a wrong type names its field (`phone`, `location.lat`,
//! `upload_ids[0]`) instead of only saying the body is wrong.
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let mut value = value.await?.into_inner();
            // Every string of every JSON body: control characters refused, direction overrides dropped.
            crate::domain::text::clean_json(&mut value)
                .map_err(|(path, e)| crate::error::ApiError::validation(path, e.message()))?;
            crate::error::typed_json(value).map(JsonBody).map_err(Into::into)
        })
    }
}
