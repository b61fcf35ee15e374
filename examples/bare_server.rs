//! The ceiling `bench/throughput.py` compares socialgate with: a bare actix-web server answering
//! `GET /health` and `GET /json` from memory, nothing else (no logging, no database).
//!
//!     cargo build --release --example bare_server
//!     target/release/examples/bare_server 127.0.0.1:8090 integrations.json

use actix_web::{App, HttpResponse, HttpServer, web};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let json: &'static str = match args.next() {
        Some(file) => String::leak(std::fs::read_to_string(file)?),
        None => "[]",
    };
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .route(
                    "/health",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(r#"{"status":"ok"}"#)
                    }),
                )
                .route(
                    "/json",
                    web::get().to(move || async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(json)
                    }),
                )
        })
        .bind(addr)?
        .run()
        .await
    })
}
