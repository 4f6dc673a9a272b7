//! What `make infra` renders from the route rows (`toolreg_core::routes::ALL`): the OpenAPI
//! document (`infra/openapi.json`, which the docs route embeds), the deployment inputs
//! (`infra/routes.json`, `infra/functions.json`) and the Lambda binaries' sources. Build-time
//! code only: the CLI and the tests link it, no function does.

pub mod infra;
pub mod openapi;
