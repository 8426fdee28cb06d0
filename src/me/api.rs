//! The caller as the service sees them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Role;

#[derive(Serialize, ToSchema)]
pub struct Me {
    #[schema(max_length = 200)]
    pub user_id: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(example = "3805", min_length = 4, max_length = 4)]
    pub tenant: String,
    #[schema(max_items = 6)]
    pub roles: Vec<Role>,
    #[schema(value_type = Vec<crate::http::bounds::ServiceCode>, max_items = 1000)]
    pub services: Vec<String>,
    /// The national identity number from the login, masked.
    #[schema(min_length = 11, max_length = 11)]
    pub pid: Option<String>,
}
