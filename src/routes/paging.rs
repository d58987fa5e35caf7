//! Paging of every list, read and checked once: `page` (1 to 1,000,000) and `per_page` (1–100) from
//! the query string; anything else is a 400 naming the field, never an overflowing offset.
use crate::error::ApiError;
use crate::repo::{MAX_PAGE, MAX_PER_PAGE, Page, PageError};
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use std::future::{Ready, ready};

#[derive(serde::Deserialize)]
struct Raw {
    page: Option<String>,
    per_page: Option<String>,
}

pub fn from_query(query: &str) -> Result<Page, ApiError> {
    // A query string that does not read (`per_page` twice, a broken escape) is refused, never
    // taken as the first page.
    let raw = actix_web::web::Query::<Raw>::from_query(query).map(|q| q.into_inner()).map_err(|_| {
        let field = if query.matches("per_page=").count() > 1 { "per_page" } else { "page" };
        ApiError::validation(field, "分页参数重复或格式不正确")
    })?;
    Page::parse(raw.page.as_deref(), raw.per_page.as_deref()).map_err(|e| match e {
        PageError::Page => ApiError::validation("page", format!("页码必须是 1 到 {MAX_PAGE} 之间的整数")),
        PageError::PerPage => {
            ApiError::validation("per_page", format!("每页条数必须是 1 到 {MAX_PER_PAGE} 之间的整数"))
        }
    })
}

impl FromRequest for Page {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(from_query(req.query_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_checked_and_names_the_field() {
        assert_eq!(from_query("").unwrap(), Page { page: 1, per_page: 20 });
        assert_eq!(from_query("page=3&per_page=100&status=x").unwrap(), Page { page: 3, per_page: 100 });
        for (q, field) in [
            ("page=461168601842738800", "page"),
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=abc", "page"),
            ("page=1000001", "page"),
            ("per_page=0", "per_page"),
            ("per_page=101", "per_page"),
            ("per_page=18446744073709551616", "per_page"),
        ] {
            assert_eq!(from_query(q).unwrap_err().field.as_deref(), Some(field), "{q}");
        }
        for q in ["per_page=null&per_page=null", "page=1&page=2", "per_page=5&per_page=5", "per_page=", "page="] {
            assert!(from_query(q).is_err(), "{q}");
        }
        let deepest = from_query("page=1000000&per_page=100").unwrap();
        assert_eq!(deepest.offset(), 99_999_900);
    }
}
