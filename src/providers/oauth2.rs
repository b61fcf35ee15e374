//! The OAuth 2 client networks connect with: their endpoints as data, the authorization URL
//! (with PKCE S256 when the network takes it), the code exchange, refresh, `expires_in`, the
//! granted-scope check and classified failures. A network's OAuth code is a few lines of data.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::api::{Api, Auth};
use super::{
    AppCredentials, AuthInput, AuthStart, ConnectedAccount, Connecting, Ctx, On, Provider,
    ProviderError, Result, Tokens, require_app,
};

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Body,
    /// HTTP Basic (the id in the body as well is not sent).
    Basic,
    /// In the query string (some older APIs).
    Query,
}

/// One network's OAuth 2 endpoints and habits.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    /// The authorization URL: absolute, or a path under the instance (Mastodon).
    pub authorize: &'static str,
    /// The token URL: absolute, or a path under the instance.
    pub token: &'static str,
    /// Between scopes: a space for most, a comma for TikTok and Facebook.
    pub scope_separator: &'static str,
    pub pkce: bool,
    pub client_auth: ClientAuth,
    /// The client id's parameter name (TikTok: `client_key`).
    pub client_id_param: &'static str,
    /// Also sends the scopes with the code exchange (Mastodon).
    pub scope_in_exchange: bool,
    /// Fixed extra parameters of the authorization URL (`access_type=offline`, …).
    pub authorize_params: &'static [(&'static str, &'static str)],
    /// The token endpoint is a GET with every parameter in the query (Facebook).
    pub token_by_get: bool,
}

impl Endpoints {
    /// The common case: scopes by spaces, no PKCE, client credentials in the body.
    pub const DEFAULT: Endpoints = Endpoints {
        authorize: "",
        token: "",
        scope_separator: " ",
        pkce: false,
        client_auth: ClientAuth::Body,
        client_id_param: "client_id",
        scope_in_exchange: false,
        authorize_params: &[],
        token_by_get: false,
    };
}

/// What a token endpoint answers.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default, deserialize_with = "seconds")]
    pub expires_in: Option<i64>,
    /// What was granted (Instagram Login names it `permissions`).
    #[serde(default, alias = "permissions")]
    pub scope: Option<String>,
    /// Seconds the refresh token lives, where the network says (TikTok's
    /// `refresh_expires_in`, Pinterest's `refresh_token_expires_in`).
    #[serde(
        default,
        deserialize_with = "seconds",
        alias = "refresh_token_expires_in"
    )]
    pub refresh_expires_in: Option<i64>,
}

/// `expires_in` as a number or a numeric string (both are seen in the wild).
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        Some(Either::Number(n)) => Some(n),
        Some(Either::Text(t)) => t.trim().parse().ok(),
        None => None,
    })
}

impl From<TokenGrant> for Tokens {
    fn from(grant: TokenGrant) -> Tokens {
        Tokens {
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
            expires_in: grant.expires_in,
            refresh_expires_in: grant.refresh_expires_in,
        }
    }
}

/// A network's OAuth 2 client for one app.
pub struct OAuth2<'a> {
    pub provider: &'a dyn Provider,
    pub endpoints: &'a Endpoints,
    pub app: &'a AppCredentials,
    /// The instance relative endpoints live under (Mastodon); `None` for absolute endpoints.
    pub instance: Option<&'a str>,
}

impl<'a> OAuth2<'a> {
    /// The client of a network that declares its endpoints (`Provider::oauth2`).
    pub fn of(
        provider: &'a dyn Provider,
        endpoints: &'a Endpoints,
        app: &'a AppCredentials,
    ) -> Self {
        let info = provider.info();
        let instance = info
            .has_instance_url
            .then(|| app.instance_url.as_deref().or(info.default_instance))
            .flatten();
        OAuth2 {
            provider,
            endpoints,
            app,
            instance,
        }
    }
}

/// Where to send the user: the kit's OAuth 2 flow for networks that declare endpoints, else
/// the network's own.
pub async fn authorization_url(
    provider: &dyn Provider,
    c: &Connecting<'_>,
    state: &str,
) -> Result<AuthStart> {
    match provider.info().oauth2 {
        Some(endpoints) => OAuth2::of(provider, endpoints, require_app(provider, c.app)?)
            .authorize_url(c.ctx, c.callback, state),
        None => provider.authorization_url(c, state).await,
    }
}

/// The callback's code (or the form's credentials) as an account with tokens.
pub async fn authenticate(
    provider: &dyn Provider,
    c: &Connecting<'_>,
    input: AuthInput,
) -> Result<ConnectedAccount> {
    let Some(endpoints) = provider.info().oauth2 else {
        return provider.authenticate(c, input).await;
    };
    let app = require_app(provider, c.app)?;
    let grant = OAuth2::of(provider, endpoints, app)
        .exchange_code(c.ctx, c.callback, &input.code, input.secret.as_deref())
        .await?;
    provider.account(c, grant).await
}

/// New tokens for a channel: with its refresh token at an OAuth 2 network, else the network's
/// own way.
pub async fn refresh(provider: &dyn Provider, on: &On<'_>) -> Result<Tokens> {
    let (Some(endpoints), Some(token)) = (provider.info().oauth2, on.auth.refresh_token.as_deref())
    else {
        return provider.refresh(on).await;
    };
    let app = require_app(provider, on.auth.app.as_ref())?;
    Ok(OAuth2::of(provider, endpoints, app)
        .refresh(on.ctx, token)
        .await?
        .into())
}

/// A PKCE verifier: 64 unreserved characters.
fn new_verifier() -> String {
    crate::crypto::random_alphanumeric(64)
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl OAuth2<'_> {
    fn url(&self, endpoint: &str) -> String {
        match self.instance {
            Some(base) if !endpoint.starts_with("http") => {
                format!("{}{endpoint}", base.trim_end_matches('/'))
            }
            _ => endpoint.to_owned(),
        }
    }

    fn scope(&self, ctx: &Ctx<'_>) -> String {
        self.provider
            .scopes(ctx.config)
            .join(self.endpoints.scope_separator)
    }

    /// Where to send the user; the PKCE verifier (if any) is the flow's secret.
    pub fn authorize_url(&self, ctx: &Ctx<'_>, callback: &str, state: &str) -> Result<AuthStart> {
        let ep = self.endpoints;
        let mut url = url::Url::parse(&self.url(ep.authorize)).map_err(|e| {
            ProviderError::NotSupported(format!(
                "{} has no valid authorization URL: {e}",
                self.provider.info().name
            ))
        })?;
        let verifier = ep.pkce.then(new_verifier);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair(ep.client_id_param, &self.app.client_id)
                .append_pair("redirect_uri", callback)
                .append_pair("state", state);
            let scope = self.scope(ctx);
            if !scope.is_empty() {
                q.append_pair("scope", &scope);
            }
            if let Some(v) = &verifier {
                q.append_pair("code_challenge", &challenge(v))
                    .append_pair("code_challenge_method", "S256");
            }
            q.extend_pairs(ep.authorize_params);
        }
        Ok(AuthStart {
            url: ctx.config.providers.hosts.rewrite(url.as_str()),
            state_key: state.to_owned(),
            secret: verifier,
        })
    }

    /// Exchanges the callback's code for tokens and checks the granted scopes.
    pub async fn exchange_code(
        &self,
        ctx: &Ctx<'_>,
        callback: &str,
        code: &str,
        verifier: Option<&str>,
    ) -> Result<TokenGrant> {
        let scope = self.scope(ctx);
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", callback),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        if self.endpoints.scope_in_exchange && !scope.is_empty() {
            form.push(("scope", &scope));
        }
        let grant = self.token_request(ctx, form).await?;
        check_scopes(self.provider, grant.scope.as_deref())?;
        Ok(grant)
    }

    /// New tokens from a refresh token. A refusal means the user must reconnect.
    pub async fn refresh(&self, ctx: &Ctx<'_>, refresh_token: &str) -> Result<TokenGrant> {
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.token_request(ctx, form).await.map_err(|e| match e {
            ProviderError::BadBody(m) | ProviderError::RefreshNeeded(m) => {
                ProviderError::RefreshNeeded(m)
            }
            other => other,
        })
    }

    async fn token_request(
        &self,
        ctx: &Ctx<'_>,
        mut form: Vec<(&str, &str)>,
    ) -> Result<TokenGrant> {
        let (id, secret) = (self.app.client_id.as_str(), self.app.client_secret.as_str());
        let auth = match self.endpoints.client_auth {
            ClientAuth::Basic => Auth::Basic(id, secret),
            ClientAuth::Body | ClientAuth::Query => Auth::None,
        };
        let api = Api::new(self.provider, ctx, "", auth);
        let url = self.url(self.endpoints.token);
        if self.endpoints.token_by_get {
            form.push((self.endpoints.client_id_param, id));
            form.push(("client_secret", secret));
            return grant(api.get(&url).query(&form).read().await?);
        }
        let mut request = api.post(&url);
        match self.endpoints.client_auth {
            ClientAuth::Body => {
                form.push((self.endpoints.client_id_param, id));
                form.push(("client_secret", secret));
            }
            ClientAuth::Query => {
                request = request.query(&[
                    (self.endpoints.client_id_param, id),
                    ("client_secret", secret),
                ]);
            }
            ClientAuth::Basic => {}
        }
        grant(request.form(&form).read().await?)
    }
}

/// A token answer, flat or wrapped in `{"data":[…]}` (Instagram Login documents both).
fn grant(answer: serde_json::Value) -> Result<TokenGrant> {
    let flat = match answer.get("data").and_then(|d| d.get(0)) {
        Some(first) => first.clone(),
        None => answer,
    };
    // An RFC 6749 error sent with a success status (TikTok documents no status for its own).
    if let (Some(error), None) = (
        flat.get("error").and_then(|e| e.as_str()),
        flat.get("access_token"),
    ) {
        let description = flat["error_description"].as_str().unwrap_or_default();
        return Err(ProviderError::BadBody(
            format!("{error}: {description}")
                .trim_end_matches([':', ' '])
                .to_owned(),
        ));
    }
    serde_json::from_value(flat.clone()).map_err(|e| {
        ProviderError::BadBody(format!(
            "the token answer is not one socialgate understands ({e}): {}",
            super::error::truncate(&flat.to_string(), 300)
        ))
    })
}

/// Fails, naming what is missing, when the network granted fewer scopes than the network's
/// `ProviderInfo` asks for (a granted `write` covers an asked `write:statuses`). A network that
/// does not say what it granted passes.
pub fn check_scopes(provider: &dyn Provider, granted: Option<&str>) -> Result<()> {
    let Some(granted) = granted else {
        return Ok(());
    };
    let missing = missing_scopes(provider.info().scopes, granted);
    if missing.is_empty() {
        return Ok(());
    }
    Err(ProviderError::BadBody(format!(
        "{} did not grant the permissions socialgate needs: {}",
        provider.info().name,
        missing.join(", ")
    )))
}

/// The asked scopes a granted list (spaces or commas) does not cover.
pub fn missing_scopes<'a>(asked: &[&'a str], granted: &str) -> Vec<&'a str> {
    let granted: Vec<&str> = granted
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect();
    asked
        .iter()
        .copied()
        .filter(|s| {
            !granted
                .iter()
                .any(|g| g == s || s.strip_prefix(g).is_some_and(|r| r.starts_with(':')))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_missing_scopes() {
        let asked = ["write:statuses", "profile", "write:media"];
        assert!(missing_scopes(&asked, "write:statuses profile write:media").is_empty());
        assert!(missing_scopes(&asked, "write,profile").is_empty());
        assert_eq!(
            missing_scopes(&asked, "profile"),
            ["write:statuses", "write:media"]
        );
        assert_eq!(missing_scopes(&asked, "writes profile").len(), 2);
    }

    #[test]
    fn the_challenge_is_s256_of_the_verifier() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_token_answer_may_be_wrapped_in_data() {
        let wrapped = serde_json::json!({ "data": [{
            "access_token": "t", "user_id": "1", "permissions": "instagram_business_basic"
        }]});
        let grant = grant(wrapped).unwrap();
        assert_eq!(grant.access_token, "t");
        assert_eq!(grant.scope.as_deref(), Some("instagram_business_basic"));
        assert!(super::grant(serde_json::json!({ "error_type": "OAuthException" })).is_err());
    }

    #[test]
    fn expires_in_may_be_a_string() {
        let grant: TokenGrant =
            serde_json::from_str(r#"{"access_token":"a","expires_in":"3600"}"#).unwrap();
        assert_eq!(grant.expires_in, Some(3600));
        let tokens: Tokens = grant.into();
        assert_eq!(tokens.expires_in, Some(3600));
    }
}
