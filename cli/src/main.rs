//! `idflow`: acquire tokens, explain identity-platform errors and show what
//! each language sees. Exit codes: [`exit`].

mod cache_key;
mod demo;
mod emulator;
mod exit;
mod explain;
mod managed_identity;
mod terminal;
mod token;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "idflow",
    version,
    about = "Acquire tokens and understand every failure the way MSAL classifies it",
    long_about = "Acquire tokens from the Microsoft identity platform or any OpenID provider, \
and understand every failure the way MSAL classifies it.\n\n\
Start with `idflow demo`: it runs the MSAL error guide's scenarios against a local emulator \
and shows what a Swift, Kotlin and Python app sees and should do for each.",
    after_help = exit::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(after_help = exit::HELP)]
    /// Explain an AADSTS number, an error code, or a whole HTTP response, as JSON.
    ///
    /// Examples: `idflow explain AADSTS50079`, `idflow explain AADSTS50079 invalid_grant
    /// basic_action` (the number with the error and suberror it came with),
    /// `idflow explain invalid_grant`, `idflow explain --response resp.json` where resp.json
    /// is {"status": 400, "headers": {...}, "body": "<raw body>", "flow": "token"}.
    /// `idflow explain --list` prints the table of every AADSTS number idflow knows.
    Explain {
        /// AADSTS50079 or 50079 (optionally followed by its error and suberror), an idflow
        /// code (state_mismatch), an OAuth error (invalid_grant) or an error body.
        query: Vec<String>,
        /// A JSON file describing an HTTP response (`-` reads stdin).
        #[arg(long, value_name = "FILE", conflicts_with = "query")]
        response: Option<String>,
        /// Print the table of AADSTS numbers (text; JSON with --json).
        #[arg(long, conflicts_with_all = ["query", "response"])]
        list: bool,
        /// With --list: only the numbers with this action (fix_configuration, contact_admin...).
        #[arg(long, value_name = "ACTION", requires = "list")]
        action: Option<String>,
        /// With --list: only the numbers of this kind (service, interaction_required...).
        #[arg(long, value_name = "KIND", requires = "list")]
        kind: Option<String>,
        /// With --list: only the numbers this party can fix (user, admin, developer, service).
        #[arg(long, value_name = "WHO", requires = "list")]
        fixed_by: Option<String>,
        /// Print the JSON on one line (with --list: print the table as JSON).
        #[arg(long)]
        json: bool,
    },
    /// Run the MSAL error guide's scenarios live; show what Swift, Kotlin and Python apps see.
    ///
    /// Starts the emulator inside the process, runs each scenario through the real flows, and
    /// prints what went over the wire, the decision, each language's view and what to do. Takes about a second; waits the flows take run on a simulated clock. Exits 1 when a
    /// live scenario did not end as the guide expects.
    #[command(after_help = exit::HELP)]
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
        /// Serve HTTPS (the MSAL libraries require it) with a certificate for
        /// 127.0.0.1 and localhost from a CA generated at start.
        #[arg(long)]
        tls: bool,
        /// Serve HTTPS with this PEM certificate chain (leaf first) instead.
        #[arg(long, value_name = "PEM", requires = "key")]
        cert: Option<std::path::PathBuf>,
        /// The PEM private key for --cert.
        #[arg(long, value_name = "PEM", requires = "cert")]
        key: Option<std::path::PathBuf>,
        /// Write the certificate clients must trust to FILE (default: a file
        /// in the temporary directory, named in the banner).
        #[arg(long, value_name = "FILE")]
        ca_out: Option<std::path::PathBuf>,
        /// Start in the state a scenario file describes (JSON, or TOML when
        /// the name ends in .toml): settings, clients, users and a sequence
        /// of faults. See emulator/README.md.
        #[arg(long, value_name = "FILE")]
        scenario: Option<std::path::PathBuf>,
    },
    /// Acquire a token and print msal Python's result dict as JSON.
    ///
    /// One of: --client-secret-env VAR (client credentials; the secret is read
    /// from that environment variable, never from the command line),
    /// --certificate PEM (client credentials with a certificate: one PEM file
    /// holding the certificate and its unencrypted private key), or
    /// --device-code (a user signs in on another device: the instruction goes
    /// to stderr, then a progress line with the time left while polling, on a
    /// terminal; Ctrl-C cancels and exits 130).
    ///
    /// With --cache FILE, tokens are kept in FILE (msal's cache format) and
    /// reused: a valid cached token is printed without a request, and a cached
    /// user account is refreshed silently before any new sign-in. With
    /// --cache redis://HOST:PORT/DB they are kept in Redis, one entry per
    /// partition, shared by every process using it; add --cache-key-env VAR
    /// (or --cache-key-file FILE) to seal them with AES-256-GCM.
    ///
    /// Or --managed-identity system|client_id=ID|resource_id=ID|object_id=ID
    /// --resource R: a managed identity token from the source the
    /// environment names (App Service, Service Fabric, Azure Arc, Cloud Shell,
    /// Azure Machine Learning, else IMDS); no authority, client id or scope.
    ///
    /// Example: idflow token --authority https://login.microsoftonline.com/TENANT
    /// --client-id ID --scope https://graph.microsoft.com/.default --client-secret-env APP_SECRET
    #[command(after_help = exit::HELP)]
    Token {
        /// The authority (https://login.microsoftonline.com/TENANT) or an OpenID issuer URL.
        #[arg(long, required_unless_present = "managed_identity")]
        authority: Option<String>,
        /// The application (client) id of the app registration.
        #[arg(long, required_unless_present = "managed_identity")]
        client_id: Option<String>,
        /// A scope; repeat for more. Client credentials take `<resource>/.default`.
        #[arg(
            long = "scope",
            value_name = "SCOPE",
            required_unless_present = "managed_identity"
        )]
        scopes: Vec<String>,
        /// A managed identity: system, client_id=ID, resource_id=ID or object_id=ID.
        #[arg(long, value_name = "SPEC", requires = "resource", conflicts_with_all = ["authority", "client_id", "scopes", "client_secret_env", "certificate", "device_code"])]
        managed_identity: Option<String>,
        /// The resource a managed identity token is for (with --managed-identity).
        #[arg(long, value_name = "URI", requires = "managed_identity")]
        resource: Option<String>,
        /// The environment variable holding the client secret (client credentials).
        #[arg(long, value_name = "VAR")]
        client_secret_env: Option<String>,
        /// A PEM file with the certificate and its private key (client credentials).
        #[arg(long, value_name = "PEM")]
        certificate: Option<String>,
        /// Sign a user in with the device code flow.
        #[arg(long)]
        device_code: bool,
        /// Keep tokens in this file (or Redis: redis://HOST:PORT/DB) and use them silently first.
        #[arg(long, value_name = "FILE|URL")]
        cache: Option<String>,
        /// With --cache redis://…: the environment variable holding the key
        /// (64 hex digits) that seals every cached partition with AES-256-GCM,
        /// so a Redis dump holds no usable token. Never given on the command
        /// line itself (process lists and shell history show it).
        #[arg(
            long,
            value_name = "VAR",
            requires = "cache",
            conflicts_with = "cache_key_file"
        )]
        cache_key_env: Option<String>,
        /// With --cache redis://…: a file holding that key (64 hex digits).
        #[arg(long, value_name = "FILE", requires = "cache")]
        cache_key_file: Option<String>,
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
    /// List the accounts a token cache file holds (written by `idflow token --cache`), as JSON.
    #[command(after_help = exit::HELP)]
    Accounts {
        /// The cache file.
        #[arg(long, value_name = "FILE")]
        cache: String,
        /// Print the JSON on one line.
        #[arg(long)]
        json: bool,
    },
}

/// Writes `text` and a newline to stdout, control characters made
/// [`terminal::inert`] (the output holds provider text); a closed pipe
/// (`idflow demo | head`) is not an error.
fn emit(text: &str) {
    emit_composed(&terminal::inert(text));
}

/// [`emit`] for text this program styled itself (its colour codes stay),
/// whose provider strings were made [`terminal::inert`] where they went in.
fn emit_composed(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain {
            query,
            response,
            list,
            action,
            kind,
            fixed_by,
            json,
        } => {
            if list {
                explain::list(
                    &explain::Filter {
                        action,
                        kind,
                        fixed_by,
                    },
                    json,
                )
            } else {
                let query = (!query.is_empty()).then(|| query.join(" "));
                explain::run(query, response, json)
            }
        }
        Command::Demo { json } => demo::run(json),
        Command::Emulator {
            port,
            tls,
            cert,
            key,
            ca_out,
            scenario,
        } => emulator::run(emulator::Options {
            port,
            tls,
            cert,
            key,
            ca_out,
            scenario,
        }),
        Command::Token {
            managed_identity: Some(spec),
            resource,
            cache,
            json,
            ..
        } => managed_identity::run(
            &spec,
            resource.as_deref().unwrap_or(""),
            cache.as_deref(),
            json,
        ),
        Command::Token {
            authority,
            client_id,
            scopes,
            client_secret_env,
            certificate,
            device_code,
            cache,
            cache_key_env,
            cache_key_file,
            oidc,
            ca_cert,
            json,
            ..
        } => token::run(token::Request {
            authority: authority.unwrap_or_default(),
            client_id: client_id.unwrap_or_default(),
            scopes,
            client_secret_env,
            certificate,
            device_code,
            cache,
            cache_key: cache_key_env
                .map(cache_key::KeySource::Env)
                .or(cache_key_file.map(cache_key::KeySource::File)),
            oidc,
            ca_cert,
            json,
        }),
        Command::Accounts { cache, json } => token::accounts(&cache, json),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("idflow: {}", terminal::inert(&message));
            ExitCode::from(exit::USAGE)
        }
    }
}
