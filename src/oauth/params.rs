//! Request parameters of the OAuth endpoints: form or JSON bodies, each parameter at most once,
//! and client credentials from HTTP Basic or the body (never both).

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;

use super::error::OAuthError;

/// Name/value pairs in the order they came.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string (the authorization endpoint).
    pub fn from_query(query: &str) -> Result<Params, ()> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map(Params)
            .map_err(|_| ())
    }

    /// Parses a body by its content type: form-encoded or a JSON object of strings.
    pub fn from_body(req: &HttpRequest, body: &[u8]) -> Result<Params, OAuthError> {
        if !req.query_string().is_empty() {
            return Err(OAuthError::invalid_request(
                "parameters belong in the request body, not the URL",
            ));
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match content_type.as_str() {
            "application/x-www-form-urlencoded" => {
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                    .map(Params)
                    .map_err(|_| OAuthError::invalid_request("the form body is malformed"))
            }
            "application/json" => {
                if body.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Params(Vec::new()));
                }
                let value: serde_json::Value = serde_json::from_slice(body)
                    .map_err(|_| OAuthError::invalid_request("the JSON body is malformed"))?;
                let object = value.as_object().ok_or_else(|| {
                    OAuthError::invalid_request("the JSON body must be an object")
                })?;
                let mut pairs = Vec::with_capacity(object.len());
                for (k, v) in object {
                    match v {
                        serde_json::Value::String(s) => pairs.push((k.clone(), s.clone())),
                        serde_json::Value::Null => {}
                        _ => {
                            return Err(OAuthError::invalid_request(
                                "every JSON parameter must be a string",
                            ));
                        }
                    }
                }
                Ok(Params(pairs))
            }
            "" if body.is_empty() => Ok(Params(Vec::new())),
            _ => Err(OAuthError::invalid_request(
                "send application/x-www-form-urlencoded or application/json",
            )),
        }
    }

    /// The parameter's value; `Err(name)` when it was sent more than once. Empty counts as absent.
    pub fn get<'a>(&'a self, name: &'static str) -> Result<Option<&'a str>, &'static str> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(name);
        }
        Ok(first.map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()))
    }

    /// Like `get`, for the token-family endpoints (a repeat is `invalid_request`).
    pub fn one(&self, name: &'static str) -> Result<Option<&str>, OAuthError> {
        self.get(name).map_err(|n| {
            OAuthError::invalid_request(&format!("the parameter {n} was sent more than once"))
        })
    }

    /// The first parameter sent more than once, if any.
    pub fn repeated(&self) -> Option<&str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (k, _))| self.0[..*i].iter().any(|(k2, _)| k2 == k))
            .map(|(_, (k, _))| k.as_str())
    }
}

/// A client's presented credentials.
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
    /// Sent with HTTP Basic (failures then answer `WWW-Authenticate: Basic`).
    pub basic: bool,
}

fn form_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// Reads `client_secret_basic` or `client_secret_post` (or a bare `client_id` for public clients).
pub fn client_credentials(
    req: &HttpRequest,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    let body_id = params.one("client_id")?;
    let body_secret = params.one("client_secret")?;
    let basic = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| OAuthError::invalid_client(true))?;
            match value.get(..6) {
                Some(scheme) if scheme.eq_ignore_ascii_case("basic ") => {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(value[6..].trim())
                        .or_else(|_| {
                            base64::engine::general_purpose::STANDARD_NO_PAD
                                .decode(value[6..].trim())
                        })
                        .map_err(|_| OAuthError::invalid_client(true))?;
                    let text =
                        String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client(true))?;
                    let (id, secret) = text
                        .split_once(':')
                        .ok_or_else(|| OAuthError::invalid_client(true))?;
                    let id = form_decode(id).ok_or_else(|| OAuthError::invalid_client(true))?;
                    let secret =
                        form_decode(secret).ok_or_else(|| OAuthError::invalid_client(true))?;
                    Some((id, secret))
                }
                _ => {
                    return Err(OAuthError::invalid_request(
                        "only HTTP Basic client authentication is accepted in the Authorization header",
                    ));
                }
            }
        }
    };
    match basic {
        Some((id, secret)) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not Basic and client_secret together",
                ));
            }
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the Basic credentials",
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                secret: (!secret.is_empty()).then_some(secret),
                basic: true,
            })
        }
        None => {
            let id = body_id.ok_or_else(|| OAuthError::invalid_client(false))?;
            Ok(ClientCredentials {
                client_id: id.to_owned(),
                secret: body_secret.map(str::to_owned),
                basic: false,
            })
        }
    }
}
