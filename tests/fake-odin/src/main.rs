//! `fake-odin [--listen ADDR] [--app ID] [--token TOKEN]`: serves the fake ODIN Fleet API
//! under `/api` and prints `listening on http://ADDR` once the port is bound.

use std::process::ExitCode;

use tavern_fake_odin::FakeConfig;

fn main() -> ExitCode {
    let mut config = FakeConfig::default();
    let mut listen = "127.0.0.1:0".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--listen" => listen = value,
            "--app" => match value.parse() {
                Ok(app) => config.app_id = app,
                Err(_) => {
                    eprintln!("--app must be an integer");
                    return ExitCode::from(2);
                }
            },
            "--token" => config.token = value,
            _ => {
                eprintln!("unknown flag {flag}; flags: --listen ADDR --app ID --token TOKEN");
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&listen).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("cannot listen on {listen}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("listening on http://{addr}"),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
        match tavern_fake_odin::serve(listener, config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
