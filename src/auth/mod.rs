//! Authentication and authorisation: password hashing, tokens, and the request extractors that
//! turn a bearer token into a staff member with roles and scope.
pub mod extract;
pub mod jwt;
pub mod keys;
pub mod password;

pub use extract::{Caller, StaffUser, VillagerUser};
