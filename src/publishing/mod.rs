//! Posts and what happens to them: storage of groups and comment chains, notifications.

pub mod notifications;
pub mod posts;
