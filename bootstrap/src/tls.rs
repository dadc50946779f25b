//! `arcana tls init --out DIR`: a development CA and one certificate per tier, so that the
//! layered modes run with real mutual TLS from the first try. Development only: the CA's key is
//! not kept (nobody can issue more certificates from it), and production brings certificates
//! from its own CA, each naming its tier as a DNS SAN.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use chrono::Datelike as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

const TIERS: [&str; 3] = ["controller", "service", "repository"];

/// Writes `ca.pem` and `<tier>.pem` / `<tier>.key` for each tier into `out`.
pub fn init(out: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let names: Vec<String> = std::iter::once("ca.pem".to_owned())
        .chain(
            TIERS
                .iter()
                .flat_map(|t| [format!("{t}.pem"), format!("{t}.key")]),
        )
        .collect();
    if let Some(existing) = names.iter().find(|name| out.join(name).exists()) {
        anyhow::bail!(
            "{} already exists; remove the old files or choose another folder",
            out.join(existing).display()
        );
    }
    let (ca_pem, issuer) = authority()?;
    write(&out.join("ca.pem"), &ca_pem, false)?;
    for tier in TIERS {
        let (cert, key) = leaf(tier, &issuer)?;
        write(&out.join(format!("{tier}.pem")), &cert, false)?;
        write(&out.join(format!("{tier}.key")), &key, true)?;
    }
    println!(
        "arcana: development CA and tier certificates written to {} (development only)",
        out.display()
    );
    Ok(())
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

fn write(path: &Path, content: &str, private: bool) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(content.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
