//! E-mail through SMTP (lettre): the `email:` settings, the transport they name (off, the console
//! for development and the demo, or an SMTP server), and the MIME message of an outbox row (plain
//! text and HTML as alternatives, attachments). Nothing is sent from a request or a publishing pass:
//! e-mails are outbox rows (channel `email`) sent by `workers::email` with retries.
use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `email:` in configuration. Every field has a default, so the section may be left out: with no
/// `smtp_url` nothing is queued or sent.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    /// `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS), `console` (written to `console_dir` and the log, not
    /// sent), or empty: e-mail off. A secret: it may hold the password.
    pub smtp_url: SecretString,
    /// The sender, e.g. `清河县民声直达 <noreply@qinghe.gov.cn>`.
    pub from: String,
    /// Who receives the weekly report. A list in YAML, or comma-separated text
    /// (`MINSHENG__EMAIL__LEADERS=a@x.cn,b@y.cn`).
    #[serde(deserialize_with = "list")]
    pub leaders: Vec<String>,
    /// Connecting and each SMTP command.
    pub timeout_ms: u64,
    /// Attempts before an e-mail is dead (shown in the outbox console, where it can be resent).
    pub max_attempts: i32,
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    /// A sender claims `batch_size` e-mails for `lease_seconds`.
    pub batch_size: u64,
    pub lease_seconds: i64,
    /// Where the console transport writes each message (`.eml` and its HTML part as `.html`).
    pub console_dir: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            smtp_url: SecretString::from(""),
            from: "民声直达 <noreply@localhost>".into(),
            leaders: vec![],
            timeout_ms: 20_000,
            max_attempts: 8,
            backoff_base_seconds: 60,
            backoff_max_seconds: 3600,
            batch_size: 5,
            lease_seconds: 300,
            console_dir: "data/mail".into(),
        }
    }
}

/// A list given as a YAML sequence or as text separated by commas or semicolons (the form an
/// environment variable can hold); blanks are dropped.
fn list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Items(Vec<String>),
    }
    let items = match Raw::deserialize(d)? {
        Raw::Text(s) => vec![s],
        Raw::Items(v) => v,
    };
    Ok(items
        .iter()
        .flat_map(|s| s.split([',', ';', '，', '；']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// What `smtp_url` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Off,
    Console,
    Smtp,
}

impl EmailSettings {
    pub fn mode(&self) -> Mode {
        match self.smtp_url.expose_secret().trim() {
            "" => Mode::Off,
            "console" => Mode::Console,
            _ => Mode::Smtp,
        }
    }

    pub fn sender(&self) -> anyhow::Result<Mailbox> {
        self.from.parse().with_context(|| format!("email.from {:?} is not an e-mail address", self.from))
    }

    /// Checked at start-up, so a mistyped address stops the server instead of every e-mail.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.sender()?;
        for l in &self.leaders {
            l.parse::<lettre::Address>().with_context(|| format!("email.leaders: {l:?} is not an e-mail address"))?;
        }
        if self.max_attempts < 1 || self.batch_size < 1 || self.lease_seconds < 1 {
            anyhow::bail!("email.max_attempts, batch_size and lease_seconds must be at least 1");
        }
        if self.mode() == Mode::Smtp {
            // The URL is a secret: the error names the setting, not its value.
            AsyncSmtpTransport::<Tokio1Executor>::from_url(self.smtp_url.expose_secret().trim())
                .map_err(|e| anyhow::anyhow!("email.smtp_url is not a usable SMTP URL: {e}"))?;
        }
        Ok(())
    }

    /// The transport `smtp_url` names; `None` when e-mail is off.
    pub fn transport(&self) -> anyhow::Result<Option<Transport>> {
        Ok(match self.mode() {
            Mode::Off => None,
            Mode::Console => Some(Transport::Console(self.console_dir.clone().into())),
            Mode::Smtp => {
                let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(self.smtp_url.expose_secret().trim())
                    .map_err(|e| anyhow::anyhow!("email.smtp_url is not a usable SMTP URL: {e}"))?
                    .timeout(Some(Duration::from_millis(self.timeout_ms.max(1))))
                    .build();
                Some(Transport::Smtp(smtp))
            }
        })
    }
}

/// Where e-mails go.
pub enum Transport {
    /// Development and the demo: each message is written to this folder and named in the log.
    Console(std::path::PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// Hands one message over; `Ok` means the server accepted it for delivery (250 after DATA).
    pub async fn send(&self, message: &Composed) -> anyhow::Result<()> {
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(message.message.clone()).await.map_err(|e| anyhow::anyhow!("smtp: {e}"))?;
            }
            Transport::Console(dir) => {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                let eml = dir.join(format!("{}.eml", message.file_stem));
                let html = dir.join(format!("{}.html", message.file_stem));
                std::fs::write(&eml, message.message.formatted())
                    .with_context(|| format!("writing {}", eml.display()))?;
                std::fs::write(&html, &message.html).with_context(|| format!("writing {}", html.display()))?;
                tracing::info!(
                    to = %message.to,
                    subject = %message.subject,
                    eml = %eml.display(),
                    html = %html.display(),
                    "e-mail written by the console transport (not sent)"
                );
            }
        }
        Ok(())
    }
}

/// An attachment as an outbox row keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredAttachment {
    pub filename: String,
    pub content_type: String,
    pub base64: String,
}

impl StoredAttachment {
    pub fn new(filename: &str, content_type: &str, bytes: &[u8]) -> StoredAttachment {
        StoredAttachment {
            filename: filename.into(),
            content_type: content_type.into(),
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }
}

/// The `params` of an e-mail outbox row: what the message needs besides its plain text (the row's
/// `body`), rendered when the row was written, so what goes out is what was queued.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    pub subject: String,
    pub html: String,
    #[serde(default)]
    pub attachments: Vec<StoredAttachment>,
    /// What the message is about (the week of a weekly report), for people reading the outbox.
    #[serde(default)]
    pub about: String,
}

/// A message ready for a transport.
pub struct Composed {
    pub message: lettre::Message,
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub file_stem: String,
}

/// The MIME message of outbox row `id`: multipart/mixed of multipart/alternative (text/plain,
/// text/html) and the attachments. Its Message-ID is derived from the row, so a message sent again
/// after a lost answer carries the same id (mail clients show it once).
pub fn compose(
    from: &Mailbox,
    id: i64,
    to: &str,
    text: &str,
    stored: &Stored,
    now: DateTime<Utc>,
) -> anyhow::Result<Composed> {
    let to_box: Mailbox = to.parse().with_context(|| format!("{to:?} is not an e-mail address"))?;
    let domain = from.email.domain().to_string();
    // `<local@domain>`: the angle brackets are part of the header's value.
    let local = format!("minsheng.outbox.{id}");
    let message_id = format!("<{local}@{domain}>");
    let mut mixed =
        MultiPart::mixed().multipart(MultiPart::alternative_plain_html(text.to_string(), stored.html.clone()));
    for a in &stored.attachments {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&a.base64)
            .with_context(|| format!("attachment {} is not base64", a.filename))?;
        let kind = ContentType::parse(&a.content_type).with_context(|| format!("content type {:?}", a.content_type))?;
        mixed = mixed.singlepart(Attachment::new(a.filename.clone()).body(bytes, kind));
    }
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to_box)
        .subject(stored.subject.clone())
        .date(now.into())
        .message_id(Some(message_id.clone()))
        .multipart(mixed)
        .context("building the e-mail")?;
    Ok(Composed {
        message,
        message_id,
        to: to.to_string(),
        subject: stored.subject.clone(),
        html: stored.html.clone(),
        file_stem: format!("outbox-{id}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> EmailSettings {
        config::Config::builder()
            .add_source(config::File::from_str(yaml, config::FileFormat::Yaml))
            .build()
            .unwrap()
            .try_deserialize::<EmailSettings>()
            .unwrap()
    }

    #[test]
    fn leaders_are_a_list_or_comma_separated_text() {
        assert_eq!(settings("leaders: [a@x.cn, b@y.cn]").leaders, ["a@x.cn", "b@y.cn"]);
        assert_eq!(settings("leaders: 'a@x.cn, b@y.cn,,'").leaders, ["a@x.cn", "b@y.cn"]);
        assert_eq!(settings("leaders: 'a@x.cn；b@y.cn'").leaders, ["a@x.cn", "b@y.cn"]);
        assert!(settings("{}").leaders.is_empty());
        assert_eq!(settings("{}").mode(), Mode::Off);
    }

    #[test]
    fn the_url_names_the_transport_and_bad_settings_are_refused() {
        assert_eq!(settings("smtp_url: console").mode(), Mode::Console);
        let ok = settings("smtp_url: 'smtp://127.0.0.1:2525'\nleaders: [a@x.cn]");
        assert_eq!(ok.mode(), Mode::Smtp);
        ok.validate().unwrap();
        let bad = settings("leaders: [not-an-address]").validate().unwrap_err().to_string();
        assert!(bad.contains("email.leaders"), "{bad}");
        let bad = settings("smtp_url: 'ftp://secret@host'").validate().unwrap_err().to_string();
        assert!(bad.contains("email.smtp_url") && !bad.contains("secret"), "{bad}");
        assert!(settings("from: nobody").validate().is_err());
    }
}
