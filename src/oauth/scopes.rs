//! The permissions an app can ask for. No `scope` requested means all of them (as Postiz).

/// One permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    IntegrationsRead,
    IntegrationsWrite,
    PostsRead,
    PostsWrite,
    MediaWrite,
    AnalyticsRead,
    NotificationsRead,
}

/// Every scope, in the order they are listed and written.
pub const ALL: [Scope; 7] = [
    Scope::IntegrationsRead,
    Scope::IntegrationsWrite,
    Scope::PostsRead,
    Scope::PostsWrite,
    Scope::MediaWrite,
    Scope::AnalyticsRead,
    Scope::NotificationsRead,
];

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::IntegrationsRead => "integrations:read",
            Scope::IntegrationsWrite => "integrations:write",
            Scope::PostsRead => "posts:read",
            Scope::PostsWrite => "posts:write",
            Scope::MediaWrite => "media:write",
            Scope::AnalyticsRead => "analytics:read",
            Scope::NotificationsRead => "notifications:read",
        }
    }

    /// What the consent screen says the app will be able to do.
    pub fn description(self) -> &'static str {
        match self {
            Scope::IntegrationsRead => "See your connected channels",
            Scope::IntegrationsWrite => "Connect, change and remove channels",
            Scope::PostsRead => "Read your posts and their status",
            Scope::PostsWrite => "Create, schedule, change and delete posts on your behalf",
            Scope::MediaWrite => "Upload images and videos",
            Scope::AnalyticsRead => "Read your channel and post analytics",
            Scope::NotificationsRead => "Read your notifications",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn parse(s: &str) -> Option<Scope> {
        ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Whether the scope only reads.
    pub fn reads(self) -> bool {
        matches!(
            self,
            Scope::IntegrationsRead
                | Scope::PostsRead
                | Scope::AnalyticsRead
                | Scope::NotificationsRead
        )
    }
}

/// Postiz's MCP scopes, accepted as aliases: `mcp:read` is every read scope, `mcp:write`
/// every scope.
fn alias(word: &str) -> Option<Scopes> {
    match word {
        "mcp:read" => Some(Scopes(
            ALL.iter()
                .filter(|s| s.reads())
                .fold(0, |acc, s| acc | s.bit()),
        )),
        "mcp:write" => Some(Scopes::all()),
        _ => None,
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub fn all() -> Scopes {
        Scopes(ALL.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Parses a space-separated list; empty means all. The error names the unknown scope.
    pub fn parse(list: &str) -> Result<Scopes, String> {
        let mut bits = 0;
        for word in list.split(' ').filter(|w| !w.is_empty()) {
            bits |= match (Scope::parse(word), alias(word)) {
                (Some(scope), _) => scope.bit(),
                (None, Some(scopes)) => scopes.0,
                (None, None) => return Err(word.to_owned()),
            };
        }
        Ok(if bits == 0 {
            Scopes::all()
        } else {
            Scopes(bits)
        })
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Every scope of `self` is in `other`.
    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!(Scopes::parse("").unwrap(), Scopes::all());
        let s = Scopes::parse("posts:write  integrations:read").unwrap();
        assert_eq!(s.to_string(), "integrations:read posts:write");
        assert!(s.contains(Scope::PostsWrite) && !s.contains(Scope::PostsRead));
        assert_eq!(Scopes::parse("posts:write admin").unwrap_err(), "admin");
        assert_eq!(
            Scopes::parse(&Scopes::all().to_string()).unwrap(),
            Scopes::all()
        );
        assert!(s.is_subset_of(Scopes::all()) && !Scopes::all().is_subset_of(s));
        assert_eq!(
            Scopes::parse("mcp:read").unwrap().to_string(),
            "integrations:read posts:read analytics:read notifications:read"
        );
        assert_eq!(Scopes::parse("mcp:read mcp:write").unwrap(), Scopes::all());
    }
}
