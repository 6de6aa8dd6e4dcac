// The vendored front-end files are compiled into the binary (`include_dir!`, src/http/assets.rs):
// rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=static");
}
