//! The caller as the service sees them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Role;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub name: String,
    #[schema(example = "3805")]
    pub tenant: String,
    pub roles: Vec<Role>,
    pub services: Vec<String>,
    /// The national identity number from the login, masked.
    pub pid: Option<String>,
}
