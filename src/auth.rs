//! JWT verification and minting. The algorithm is pinned by configuration; `exp` is required;
//! `nbf`, `iss` and `aud` are checked when present or configured.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{Error, Kind, Result};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const CLOCK_SKEW_LEEWAY_SECONDS: u64 = 5;
/// Shortest HS256 secret accepted, in bytes: RFC 7518 §3.2 asks for a key at least as long as
/// the hash (256 bits); a shorter one can be brute-forced from any token it signed.
pub const JWT_SECRET_LENGTH_MIN_BYTES: usize = 32;

pub type Claims = Map<String, Value>;

/// Why a verifier could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "LEDGERLITE_JWT_ALGORITHM (--jwt-algorithm) {0:?} is not supported: use HS256, RS256, \
         ES256 or EdDSA"
    )]
    Algorithm(String),
    #[error(
        "LEDGERLITE_JWT_SECRET (--jwt-secret) is not set: {0} needs it; set it to a random \
         secret of at least {JWT_SECRET_LENGTH_MIN_BYTES} bytes, e.g. $(openssl rand -hex 32)"
    )]
    MissingSecret(&'static str),
    #[error(
        "LEDGERLITE_JWT_SECRET (--jwt-secret) is {0} bytes long: HS256 needs at least \
         {JWT_SECRET_LENGTH_MIN_BYTES}; use a random secret, e.g. $(openssl rand -hex 32)"
    )]
    ShortSecret(usize),
    #[error(
        "LEDGERLITE_JWT_PUBLIC_KEY (--jwt-public-key) is not set: {0} needs the path of a PEM \
         public key"
    )]
    MissingPublicKey(&'static str),
    #[error("LEDGERLITE_JWT_PUBLIC_KEY (--jwt-public-key) {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("cannot sign the token: {0}")]
    Signing(String),
}

/// The configured HS256 secret, refused when absent or shorter than
/// [`JWT_SECRET_LENGTH_MIN_BYTES`]; `user` says what needs it.
fn hs256_secret<'a>(config: &'a Config, user: &'static str) -> Result<&'a [u8], ConfigError> {
    let secret = config
        .jwt_secret
        .as_deref()
        .ok_or(ConfigError::MissingSecret(user))?;
    if secret.len() < JWT_SECRET_LENGTH_MIN_BYTES {
        return Err(ConfigError::ShortSecret(secret.len()));
    }
    Ok(secret.as_bytes())
}

/// What the client is told when a token fails verification: which check failed, in words,
/// without the library's names or parser messages.
fn rejection(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as Why;
    let why = match error.kind() {
        Why::InvalidSignature => "its signature does not match".to_owned(),
        Why::InvalidAlgorithm => "it is not signed with the configured algorithm".to_owned(),
        Why::ExpiredSignature => "it has expired (exp is in the past)".to_owned(),
        Why::ImmatureSignature => "it is not valid yet (nbf is in the future)".to_owned(),
        Why::InvalidIssuer => "its issuer (iss) is not the expected one".to_owned(),
        Why::InvalidAudience => "its audience (aud) is not the expected one".to_owned(),
        Why::InvalidSubject => "its subject (sub) is not the expected one".to_owned(),
        Why::MissingRequiredClaim(claim) => format!("the required claim {claim} is missing"),
        Why::InvalidClaimFormat(claim) => format!("the claim {claim} has the wrong type"),
        _ => "it is not a well-formed JWT (header.payload.signature, base64url JSON)".to_owned(),
    };
    format!("The token was rejected: {why}.")
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
                DecodingKey::from_secret(hs256_secret(config, "verifying HS256 tokens")?)
            }
            _ => {
                let path = config
                    .jwt_public_key
                    .as_ref()
                    .ok_or(ConfigError::MissingPublicKey("asymmetric algorithms"))?;
                let key_error = |reason: String| ConfigError::Key {
                    path: path.display().to_string(),
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| {
                    key_error(format!("cannot be read ({})", crate::startup::reason(&e)))
                })?;
                let parsed = match alg {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
                    _ => DecodingKey::from_ed_pem(&pem),
                };
                parsed.map_err(|_| {
                    key_error(format!(
                        "is not a PEM public key for {}",
                        config.jwt_algorithm
                    ))
                })?
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
            .map_err(|error| Error::new(Kind::InvalidToken).with_message(rejection(&error)))
    }
}

/// Signs a development token for `tenant` with the configured HS256 secret.
pub fn mint(
    config: &Config,
    tenant: &str,
    ttl_seconds: u64,
    scope: Option<&str>,
) -> Result<String, ConfigError> {
    let secret = hs256_secret(config, "ledgerlite token")?;
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
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| ConfigError::Signing(e.to_string()))
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
    use crate::domain::metadata::object;
    use serde_json::json;

    #[test]
    fn scopes_match_resource_and_action_with_wildcards() {
        assert!(permits(&object(json!({})), "accounts", "post"));
        let c = object(json!({"scope": "accounts:get organizations:*"}));
        assert!(permits(&c, "accounts", "get"));
        assert!(!permits(&c, "accounts", "post"));
        assert!(permits(&c, "organizations", "delete"));
        let c = object(json!({"permissions": ["*:get"]}));
        assert!(permits(&c, "balances", "get"));
        assert!(!permits(&c, "balances", "patch"));
        assert!(!permits(&object(json!({"scope": ""})), "balances", "get"));
        assert!(!permits(
            &object(json!({"scope": ["*:*"]})),
            "balances",
            "get"
        ));
        assert!(!permits(
            &object(json!({"permissions": "*:*"})),
            "balances",
            "get"
        ));
    }
}
