// SPDX-License-Identifier: GPL-2.0-only
//! Sets `cfg(efimap_trees)` when `EFIMAP_TREES` names the Debian kernel
//! trees (`bash .ci/trees.sh DIR`), so that without them the tests that
//! need them show as ignored, with the reason, in the summary a user sees.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(efimap_trees)");
    println!("cargo:rerun-if-env-changed=EFIMAP_TREES");
    if std::env::var_os("EFIMAP_TREES").is_some() {
        println!("cargo:rustc-cfg=efimap_trees");
    }
}
