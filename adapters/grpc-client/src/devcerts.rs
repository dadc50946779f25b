//! Development certificates: a throwaway CA and one certificate per tier, generated in memory.
//! `arcana tls init` writes them to files; the test suites use them directly. Development only:
//! the CA's key is dropped once the tier certificates are signed, so nobody can issue more.

use anyhow::Context as _;
use chrono::Datelike as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// The tiers a development CA issues certificates for.
pub const TIERS: [&str; 3] = ["controller", "service", "repository"];

/// A CA certificate and, per tier, a certificate naming it (DNS SAN) and its private key; PEM.
pub struct DevCertificates {
    pub ca: String,
    /// `(tier, certificate, key)` for each of [`TIERS`].
    pub tiers: Vec<(&'static str, String, String)>,
}

impl DevCertificates {
    /// # Errors
    /// Key generation or signing failed.
    pub fn generate() -> anyhow::Result<Self> {
        let (ca, issuer) = authority()?;
        let tiers = TIERS
            .iter()
            .map(|tier| leaf(tier, &issuer).map(|(cert, key)| (*tier, cert, key)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { ca, tiers })
    }

    /// The certificate and key of `tier`.
    pub fn tier(&self, tier: &str) -> Option<(&str, &str)> {
        self.tiers
            .iter()
            .find(|(name, _, _)| *name == tier)
            .map(|(_, cert, key)| (cert.as_str(), key.as_str()))
    }
}

impl std::fmt::Debug for DevCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevCertificates(<redacted>)")
    }
}

/// Valid from yesterday (clock skew) for one year.
fn validity(params: &mut CertificateParams) {
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let month = u8::try_from(yesterday.month()).unwrap_or(1);
    let day = u8::try_from(yesterday.day()).unwrap_or(1);
    params.not_before = rcgen::date_time_ymd(yesterday.year(), month, day);
    params.not_after = rcgen::date_time_ymd(yesterday.year() + 1, month, day.min(28));
}

fn authority() -> anyhow::Result<(String, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "Arcana development CA");
    params.distinguished_name = name;
    validity(&mut params);
    let key = KeyPair::generate().context("generating the CA key")?;
    let cert = params.self_signed(&key).context("signing the CA")?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// A certificate naming `tier` (what the internal listeners check), valid for both ends of a
/// link, and usable on this machine (`localhost`, 127.0.0.1).
fn leaf(tier: &str, issuer: &Issuer<'static, KeyPair>) -> anyhow::Result<(String, String)> {
    let names = vec![
        tier.to_owned(),
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
    ];
    let mut params = CertificateParams::new(names)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, tier);
    params.distinguished_name = name;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    validity(&mut params);
    let key = KeyPair::generate().with_context(|| format!("generating the {tier} key"))?;
    let cert = params
        .signed_by(&key, issuer)
        .with_context(|| format!("signing the {tier} certificate"))?;
    Ok((cert.pem(), key.serialize_pem()))
}
