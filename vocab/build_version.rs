// The build script of `api` and `client` (each crate's `build.rs` includes
// this file): puts the package version and, when the source is a git
// checkout, the commit it is built from into `BUILD_VERSION`, which their
// `--version` prints ("0.1.0 (commit 0123456789ab)").

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|commit| !commit.is_empty());
    let full = match commit {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=BUILD_VERSION={full}");
    // A new commit moves HEAD or the branch it names.
    for path in ["../.git/HEAD", "../.git/refs/heads", "../.git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
