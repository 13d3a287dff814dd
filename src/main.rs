//! The `cohort` binary.

#[tokio::main]
async fn main() {
    let code = cohort::cli::main().await;
    std::process::exit(code);
}
