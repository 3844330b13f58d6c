//! JWT verification and minting. The algorithm is pinned by configuration; `exp` is required;
//! `nbf`, `iss` and `aud` are checked when present or configured.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{Error, Kind, Result};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const CLOCK_SKEW_LEEWAY_SECONDS: u64 = 5;

pub type Claims = Map<String, Value>;

/// Why a verifier could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unsupported LEDGERLITE_JWT_ALGORITHM {0:?}: use HS256, RS256, ES256 or EdDSA")]
    Algorithm(String),
    #[error("{0} needs LEDGERLITE_JWT_SECRET")]
    MissingSecret(&'static str),
    #[error("{0} needs LEDGERLITE_JWT_PUBLIC_KEY")]
    MissingPublicKey(&'static str),
    #[error("cannot read the public key: {0}")]
    Key(String),
}

pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

fn algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    match name.to_ascii_uppercase().as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        "EDDSA" => Ok(Algorithm::EdDSA),
        _ => Err(ConfigError::Algorithm(name.to_owned())),
    }
}

impl Verifier {
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let alg = algorithm(&config.jwt_algorithm)?;
        let key = match alg {
            Algorithm::HS256 => {
                let secret = config
                    .jwt_secret
                    .as_deref()
                    .ok_or(ConfigError::MissingSecret("HS256"))?;
                DecodingKey::from_secret(secret.as_bytes())
            }
            _ => {
                let path = config
                    .jwt_public_key
                    .as_ref()
                    .ok_or(ConfigError::MissingPublicKey("asymmetric algorithms"))?;
                let pem = std::fs::read(path).map_err(|e| ConfigError::Key(e.to_string()))?;
                let parsed = match alg {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
                    _ => DecodingKey::from_ed_pem(&pem),
                };
                parsed.map_err(|e| ConfigError::Key(e.to_string()))?
            }
        };
        let mut validation = Validation::new(alg);
        validation.leeway = CLOCK_SKEW_LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // A configured `iss` or `aud` must also be present: the library only compares them
        // when the token carries them.
        let mut required = vec!["exp"];
        match &config.jwt_audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &config.jwt_issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(Self { key, validation })
    }

    /// The claims of a token whose signature, algorithm and time window check out.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| {
                Error::new(Kind::InvalidToken)
                    .with_message(format!("The token was rejected: {error}."))
            })
    }
}

/// Signs a development token for `tenant` with the configured HS256 secret.
pub fn mint(
    config: &Config,
    tenant: &str,
    ttl_seconds: u64,
    scope: Option<&str>,
) -> Result<String, ConfigError> {
    let secret = config
        .jwt_secret
        .as_deref()
        .ok_or(ConfigError::MissingSecret("ledgerlite token"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut claims = Claims::new();
    claims.insert(config.tenant_claim.clone(), Value::from(tenant));
    claims.insert(
        "sub".into(),
        Value::from(format!("ledgerlite-token:{tenant}")),
    );
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now + ttl_seconds));
    if let Some(issuer) = &config.jwt_issuer {
        claims.insert("iss".into(), Value::from(issuer.as_str()));
    }
    if let Some(audience) = &config.jwt_audience {
        claims.insert("aud".into(), Value::from(audience.as_str()));
    }
    if let Some(scope) = scope {
        claims.insert("scope".into(), Value::from(scope));
    }
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| ConfigError::Key(e.to_string()))
}

/// Whether `claims` allow `action` on `resource`. Without a `scope` or `permissions` claim
/// everything in the tenant is allowed; with one, some `resource:action` entry must match,
/// `*` matching anything on either side. A claim of the wrong type (a `scope` that is not a
/// string, `permissions` that are not an array of strings) grants nothing: it fails closed.
pub fn permits(claims: &Claims, resource: &str, action: &str) -> bool {
    if !claims.contains_key("scope") && !claims.contains_key("permissions") {
        return true;
    }
    let mut entries: Vec<&str> = Vec::new();
    let scope = claims.get("scope").and_then(Value::as_str);
    let permissions = claims.get("permissions").and_then(Value::as_array);
    entries.extend(scope.into_iter().flat_map(str::split_whitespace));
    entries.extend(permissions.into_iter().flatten().filter_map(Value::as_str));
    entries.iter().any(|entry| match entry.split_once(':') {
        Some((r, a)) => (r == "*" || r == resource) && (a == "*" || a == action),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Claims {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn scopes_match_resource_and_action_with_wildcards() {
        assert!(permits(&claims(json!({})), "accounts", "post"));
        let c = claims(json!({"scope": "accounts:get organizations:*"}));
        assert!(permits(&c, "accounts", "get"));
        assert!(!permits(&c, "accounts", "post"));
        assert!(permits(&c, "organizations", "delete"));
        let c = claims(json!({"permissions": ["*:get"]}));
        assert!(permits(&c, "balances", "get"));
        assert!(!permits(&c, "balances", "patch"));
        assert!(!permits(&claims(json!({"scope": ""})), "balances", "get"));
        assert!(!permits(
            &claims(json!({"scope": ["*:*"]})),
            "balances",
            "get"
        ));
        assert!(!permits(
            &claims(json!({"permissions": "*:*"})),
            "balances",
            "get"
        ));
    }
}
