//! Compiles `proto/arcana/internal/v1` with protox (pure Rust, no `protoc`) into plain prost
//! messages. No tonic stubs: the transports move encoded messages generically, so one RPC is
//! written once for gRPC and HTTP alike. Every message also derives serde, which is how the
//! internal HTTP transport speaks JSON with the very same types.

use std::path::PathBuf;

const PROTO_ROOT: &str = "../../proto";
const FILES: [&str; 5] = [
    "arcana/internal/v1/common.proto",
    "arcana/internal/v1/storage.proto",
    "arcana/internal/v1/service.proto",
    "arcana/internal/v1/jobs.proto",
    "arcana/internal/v1/plugins.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}/arcana/internal");
    let descriptors = protox::compile(FILES, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::write(
        out_dir.join("internal_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(false)
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        // A field added to a message must not break JSON decoding by a tier one version behind,
        // as it does not for protobuf.
        .message_attribute(".", "#[serde(default)]")
        // Rarely set, and boxed so that every `Result<_, Failure>` stays small.
        .boxed(".arcana.internal.v1.Failure.plugin")
        // The plugin API's byte fields can be large (a module of up to 32 MiB): base64 in JSON.
        .field_attribute(
            "arcana.internal.v1.InstallPlugin.module",
            "#[serde(with = \"crate::bytes_json\")]",
        )
        .field_attribute(
            "arcana.internal.v1.InstallPlugin.signature",
            "#[serde(with = \"crate::bytes_json::optional\")]",
        )
        .field_attribute(
            "arcana.internal.v1.RouteCall.body",
            "#[serde(with = \"crate::bytes_json\")]",
        )
        .field_attribute(
            "arcana.internal.v1.PluginAnswer.body",
            "#[serde(with = \"crate::bytes_json\")]",
        )
        .compile_fds(descriptors)?;
    Ok(())
}
