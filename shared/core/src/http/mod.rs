//! HTTP glue shared by every route: the request and response types (API Gateway HTTP API v2
//! shaped), problem responses, body and query parsing.

pub mod body;
pub mod problem;
pub mod query;
pub mod request;
pub mod response;

pub use request::ApiRequest;
pub use response::ApiResponse;
