//! Build script: compiles `proto/*.proto` into prost structs plus protojson
//! (pbjson) serde impls, then adjusts the generated serde code so that it
//! follows Nakama's JSON dialect more closely:
//!
//! * every generated `visit_map` reads through `crate::json::NullsAsAbsent`,
//!   so a JSON `null` value means "field absent";
//! * realtime messages are strict about unknown fields (pbjson default), and
//!   every realtime `visit_map` opens a `crate::json::StrictScope` so that api
//!   messages nested in an envelope (`rpc`, `channel_message`, ...) are strict
//!   there too, while the same api messages stay lenient in REST bodies.

use std::path::{Path, PathBuf};

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest_dir.join("proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let files = ["api.proto", "realtime.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }

    let mut compiler = protox::Compiler::new([&proto_dir])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(files)?;
    let descriptor_bytes = compiler.encode_file_descriptor_set();

    prost_build::Config::new()
        .out_dir(&out_dir)
        // Wrappers (StringValue, BoolValue, Int32Value) become Option<String>,
        // Option<bool>, Option<i32>; Timestamp is our own protojson-exact type.
        .extern_path(".google.protobuf.Timestamp", "crate::Timestamp")
        .compile_fds(compiler.file_descriptor_set())?;

    generate_serde(&descriptor_bytes, ".nakama.api", true, &out_dir)?;
    generate_serde(&descriptor_bytes, ".nakama.realtime", false, &out_dir)?;
    Ok(())
}

/// Runs pbjson-build for one package and writes `<package>.serde.rs`.
fn generate_serde(
    descriptors: &[u8],
    package: &str,
    lenient: bool,
    out_dir: &Path,
) -> Result<(), BoxError> {
    let mut builder = pbjson_build::Builder::new();
    builder
        .register_descriptors(descriptors)?
        .preserve_proto_field_names()
        .use_integers_for_enums();
    if lenient {
        builder.ignore_unknown_fields();
    }
    let outputs = builder.generate(&[package], |_| Ok(Vec::<u8>::new()))?;
    for (generated_package, bytes) in outputs {
        let code = String::from_utf8(bytes)?;
        let code = patch_serde(&code, lenient);
        std::fs::write(out_dir.join(format!("{generated_package}.serde.rs")), code)?;
    }
    Ok(())
}

/// Applies the line-based adjustments described at the top of this file.
/// Panics if the generated code no longer has the expected shape, so a
/// pbjson-build upgrade cannot silently drop the adjustments.
fn patch_serde(code: &str, lenient: bool) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 8);
    let mut lines = code.lines().peekable();
    let mut hooked = 0usize;
    let mut visitors = 0usize;
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed.starts_with("fn visit_map<V>(self, mut map_: V)") {
            visitors += 1;
            out.push_str(&line.replace("mut map_: V", "map_: V"));
            out.push('\n');
            continue;
        }
        if trimmed == "V: serde::de::MapAccess<'de>," {
            out.push_str(line);
            out.push('\n');
            let open = lines
                .next()
                .expect("visit_map body follows its where clause");
            assert_eq!(open.trim(), "{", "unexpected pbjson visit_map layout");
            out.push_str(open);
            out.push('\n');
            if !lenient {
                out.push_str("let _strict_scope = crate::json::StrictScope::enter();\n");
            }
            out.push_str("use serde::de::MapAccess as _;\n");
            out.push_str("let mut map_ = crate::json::NullsAsAbsent::new(map_);\n");
            hooked += 1;
            continue;
        }
        if lenient && trimmed == "_ => Ok(GeneratedField::__SkipField__)," {
            out.push_str(
                "_ if crate::json::rejecting_unknown_fields() => \
                 Err(serde::de::Error::unknown_field(value, FIELDS)),\n",
            );
        }
        if lenient && trimmed == "Ok(GeneratedField::__SkipField__)" {
            out.push_str(
                "if crate::json::rejecting_unknown_fields() { \
                 return Err(serde::de::Error::unknown_field(value, FIELDS)); }\n",
            );
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(visitors > 0, "no pbjson visitors found");
    assert_eq!(visitors, hooked, "not every visit_map was adjusted");
    out
}
