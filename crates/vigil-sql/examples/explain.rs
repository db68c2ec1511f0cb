//! Prints the classification of each argument: `cargo run -p vigil-sql --example explain -- "DELETE FROM t"`.

fn main() {
    for arg in std::env::args().skip(1) {
        print!("{}", vigil_sql::render_text(&vigil_sql::classify(&arg)));
    }
}
