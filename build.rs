// The migrations are embedded in the binary (`db::migrate::MIGRATIONS`). Cargo notices a changed migration file,
// but not a new migration folder: without this, an incremental build keeps running the old list.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
