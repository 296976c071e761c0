//! Links the addon as Node expects (napi-build's linker arguments).
fn main() {
    napi_build::setup();
}
