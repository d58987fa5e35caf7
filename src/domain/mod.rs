//! The pure core: state machine, roles and scope, identifiers, SLA clock, ledger hashing, the
//! metric formulas and signed links. Nothing here does I/O or reads the clock; time is passed in.
pub mod accountability;
pub mod card;
pub mod ids;
pub mod ledger;
pub mod mac;
pub mod media;
pub mod metrics;
pub mod open311;
pub mod open311_doc;
pub mod phone;
pub mod privacy;
pub mod rating_link;
pub mod roles;
pub mod routing;
pub mod screen_token;
pub mod signed_link;
pub mod sla;
pub mod sweep;
pub mod text;
pub mod ticket;
pub mod values;
pub mod worklink;
