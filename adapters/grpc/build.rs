//! Compiles `proto/arcana/**` with protox (pure Rust, so no `protoc` is needed on the machine)
//! and generates the tonic servers and clients from the resulting descriptor set, which is also
//! written out for server reflection.

use std::path::PathBuf;

use prost::Message;

const PROTO_ROOT: &str = "../../proto";
const FILES: [&str; 5] = [
    "arcana/common/v1/common.proto",
    "arcana/auth/v1/auth.proto",
    "arcana/user/v1/user.proto",
    "arcana/jobs/v1/jobs.proto",
    "arcana/plugins/v1/plugins.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let descriptors = protox::compile(FILES, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::write(
        out_dir.join("arcana_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
