//! The message page (`templates/message.html`): a short notice or an error, for villagers, cadres
//! and the error middleware alike.
use super::Frame;
use askama::Template;

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub frame: Frame,
    pub title: &'a str,
    pub message: &'a str,
    pub hotline: Option<Hotline<'a>>,
}

/// The county hotline under the message; `button`: drawn as the big call button.
pub struct Hotline<'a> {
    pub number: &'a str,
    pub button: bool,
}
