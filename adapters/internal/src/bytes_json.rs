//! `bytes` fields as base64 strings in the JSON of internal HTTP (serde's default is an array of
//! numbers, up to four times the size). Used by `build.rs` on the large fields only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize as _, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    STANDARD
        .decode(text.as_bytes())
        .map_err(serde::de::Error::custom)
}

pub(crate) mod optional {
    use serde::{Deserialize as _, Deserializer, Serializer};

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` hands the field by reference"
    )]
    pub(crate) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::serialize(bytes, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?
            .map(|text| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(text.as_bytes())
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use crate::Encoding;
    use crate::wire;

    #[test]
    fn large_byte_fields_travel_as_base64_and_come_back_intact() {
        let install = wire::InstallPlugin {
            name: "audit".to_owned(),
            module: (0..=255).collect(),
            signature: Some(vec![1, 2, 3]),
        };
        let json = Encoding::Json.encode(&install).unwrap();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains("\"signature\":\"AQID\""), "{text}");
        assert!(json.len() < 500, "base64, not an array of numbers");
        let back: wire::InstallPlugin = Encoding::Json.decode(&json).unwrap();
        assert_eq!(back, install);
        let unsigned = wire::InstallPlugin {
            signature: None,
            ..install
        };
        let back: wire::InstallPlugin = Encoding::Json
            .decode(&Encoding::Json.encode(&unsigned).unwrap())
            .unwrap();
        assert_eq!(back, unsigned);
        let answer = wire::PluginAnswer {
            status: 200,
            headers: Vec::new(),
            body: b"{\"counts\":{}}".to_vec(),
        };
        let back: wire::PluginAnswer = Encoding::Json
            .decode(&Encoding::Json.encode(&answer).unwrap())
            .unwrap();
        assert_eq!(back, answer);
    }
}
