//! `ARCANA_<SECTION>__<KEY>__FILE=/path`: the key's value is the content of the file, so that a
//! secret (a mounted Kubernetes Secret, a Docker secret) need not sit in the process
//! environment, where child processes, `/proc/<pid>/environ` and crash reports can read it.

use figment::Figment;
use figment::providers::Serialized;

const PREFIX: &str = "ARCANA_";
const SUFFIX: &str = "__FILE";

/// Whether a variable name (without the `ARCANA_` prefix, any case) names a file rather than a
/// value; the plain environment layer skips those.
pub(super) fn names_a_file(key: &str) -> bool {
    key.to_ascii_uppercase().ends_with(SUFFIX)
}

/// Merges the content of every `ARCANA_…__FILE` file into `figment` as a string, one trailing
/// line break removed (as `echo` and most editors leave one). A file that cannot be read is an
/// error naming the variable and the path, never anything read.
pub(super) fn merge(mut figment: Figment, errors: &mut Vec<String>) -> Figment {
    let mut variables: Vec<(String, std::ffi::OsString)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value)))
        .filter(|(name, _)| name.starts_with(PREFIX) && names_a_file(name))
        .collect();
    variables.sort();
    for (name, path) in variables {
        let key = name[PREFIX.len()..name.len() - SUFFIX.len()]
            .to_ascii_lowercase()
            .replace("__", ".");
        match std::fs::read_to_string(&path) {
            Ok(content) => {
                let content = content
                    .strip_suffix('\n')
                    .map_or(content.as_str(), |c| c.strip_suffix('\r').unwrap_or(c));
                figment = figment.merge(Serialized::default(&key, content));
            }
            Err(err) => errors.push(format!(
                "{key}: cannot read {} (from {name}): {err}",
                std::path::Path::new(&path).display()
            )),
        }
    }
    figment
}
