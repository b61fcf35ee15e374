//! User passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> String {
    hasher()
        .hash_password(password.as_bytes())
        .expect("argon2id hashing with valid parameters does not fail")
        .to_string()
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify(password: &str, phc: &str) -> bool {
    hasher().verify_password(password.as_bytes(), phc).is_ok()
}

/// Spends the same work as a real check, so an unknown email takes as long as a wrong password.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("not a real password"));
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let phc = super::hash("correct horse");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(super::verify("correct horse", &phc));
        assert!(!super::verify("correct horsf", &phc));
        assert!(!super::verify("x", "not a hash"));
        assert_ne!(super::hash("correct horse"), phc, "salts differ");
    }
}
