// One build script for both binaries: see the file it includes.
include!("../vocab/build_version.rs");
