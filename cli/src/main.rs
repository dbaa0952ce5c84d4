//! `idflow`: explain identity-platform errors and show what each language sees.
//!
//! Exit codes: 0 success; 1 the input was explained and is an error (for
//! `explain --response`, when the response is not a success); 2 bad usage or
//! unreadable input.

mod demo;
mod emulator;
mod explain;
mod token;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "idflow",
    version,
    about = "Acquire tokens and understand every failure the way MSAL classifies it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Explain an AADSTS number, an error code, or a whole HTTP response, as JSON.
    ///
    /// Examples: `idflow explain AADSTS50079`, `idflow explain invalid_grant`,
    /// `idflow explain --response resp.json` where resp.json is
    /// {"status": 400, "headers": {...}, "body": "<raw body>", "flow": "token"}.
    Explain {
        /// AADSTS50079, 50079, an idflow code (state_mismatch), an OAuth error (invalid_grant) or an error body.
        query: Option<String>,
        /// A JSON file describing an HTTP response (`-` reads stdin).
        #[arg(long, value_name = "FILE", conflicts_with = "query")]
        response: Option<String>,
    },
    /// Walk through the seed's scenarios and show what Swift, Kotlin and Python apps see.
    Demo {
        /// Print the scenarios as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve the local identity-platform emulator on 127.0.0.1 until Ctrl-C.
    ///
    /// Prints the base URL (first line), the default client ids and the admin
    /// API's address. 0 picks a free port.
    Emulator {
        /// The port on 127.0.0.1.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Acquire a token and print msal Python's result dict as JSON (exit 1 on an identity-provider error).
    ///
    /// Client credentials read the secret from the environment variable named
    /// by --client-secret-env (never from the command line); --device-code
    /// prints the sign-in instruction on stderr and polls until done or Ctrl-C.
    Token {
        /// The authority (https://login.microsoftonline.com/TENANT) or an OpenID issuer URL.
        #[arg(long)]
        authority: String,
        #[arg(long)]
        client_id: String,
        /// A scope; repeat for more.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// The environment variable holding the client secret (client credentials).
        #[arg(long, value_name = "VAR", conflicts_with = "device_code")]
        client_secret_env: Option<String>,
        /// Sign a user in with the device code flow.
        #[arg(long)]
        device_code: bool,
        /// Treat the authority as an OpenID issuer even if it looks like Microsoft's.
        #[arg(long)]
        oidc: bool,
        /// A PEM file with an extra trusted root certificate.
        #[arg(long, value_name = "PEM_FILE")]
        ca_cert: Option<String>,
        /// Print the JSON on one line.
        #[arg(long)]
        json: bool,
    },
}

/// Writes `text` and a newline to stdout; a closed pipe (`idflow demo | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain { query, response } => explain::run(query, response),
        Command::Demo { json } => demo::run(json),
        Command::Emulator { port } => emulator::run(port),
        Command::Token {
            authority,
            client_id,
            scopes,
            client_secret_env,
            device_code,
            oidc,
            ca_cert,
            json,
        } => token::run(token::Request {
            authority,
            client_id,
            scopes,
            client_secret_env,
            device_code,
            oidc,
            ca_cert,
            json,
        }),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("idflow: {message}");
            ExitCode::from(2)
        }
    }
}
