//! Posts and what happens to them: storage of groups and comment chains, the job queue, the
//! worker that publishes them, notifications.

pub mod draft;
pub mod jobs;
pub mod notifications;
pub mod posts;
mod settings;
pub mod webhooks;
pub mod worker;

pub use settings::{ROUTES, configure};
