//! `idflow emulator`: serves the local identity platform until Ctrl-C, so
//! that apps in any language can test against it (and arm faults through
//! its `/_admin/` API). With `--tls` it serves HTTPS, which the MSAL
//! libraries require of an authority, and says how each stack trusts it.

use idflow_emulator::{
    TlsSetup, CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_TENANT,
    DEFAULT_USERNAME, FAMILY_CLIENT_IDS, PUBLIC_CLIENT_ID,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `idflow emulator` was asked for.
#[derive(Debug, Default)]
pub struct Options {
    /// 127.0.0.1:`port`; 0 picks a free port.
    pub port: u16,
    /// Serve HTTPS with a CA generated at start.
    pub tls: bool,
    /// Serve HTTPS with this certificate chain (PEM) instead; needs `key`.
    pub cert: Option<PathBuf>,
    /// The private key (PEM) for `cert`.
    pub key: Option<PathBuf>,
    /// Where to write the certificate clients must trust.
    pub ca_out: Option<PathBuf>,
    /// A scenario file to start from.
    pub scenario: Option<PathBuf>,
}

impl Options {
    fn tls_setup(&self) -> Result<Option<TlsSetup>, String> {
        let read = |p: &PathBuf, what: &str| {
            std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read the {what} {}: {e}", p.display()))
        };
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Ok(Some(TlsSetup::Pem {
                chain: read(cert, "certificate file")?,
                key: read(key, "key file")?,
            })),
            (None, None) if self.tls => Ok(Some(TlsSetup::Generate)),
            (None, None) if self.ca_out.is_some() => {
                Err("--ca-out needs --tls (or --cert and --key)".into())
            }
            (None, None) => Ok(None),
            _ => Err("--cert and --key go together".into()),
        }
    }
}

/// Starts the emulator, prints where it is and what it knows, and serves
/// until interrupted.
pub fn run(options: Options) -> Result<ExitCode, String> {
    let tls = options.tls_setup()?;
    // A bad scenario file stops here, before anything listens.
    let scenario = options
        .scenario
        .as_deref()
        .map(idflow_emulator::Scenario::from_path)
        .transpose()
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let mut builder = idflow_emulator::Emulator::builder().port(options.port);
        if let Some(tls) = tls {
            builder = builder.tls(tls);
        }
        if let Some(scenario) = scenario {
            builder = builder.scenario(scenario);
        }
        let handle = builder.start().await.map_err(|e| e.to_string())?;
        let ca_file = match handle.ca_pem() {
            Some(pem) => Some(write_ca(&options, handle.port(), pem)?),
            None => None,
        };
        // The handler must be in place before the banner: a script that
        // reads the banner and sends SIGINT at once would otherwise kill the
        // process instead of stopping it. `ctrl_c()` registers on its first
        // poll, so poll it once (it is not ready) before printing.
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        let early = tokio::select! {
            biased;
            r = &mut interrupted => Some(r),
            () = std::future::ready(()) => None,
        };
        if early.is_none() {
            let mut text = banner(handle.base_url());
            if let Some(file) = &ca_file {
                text.push_str(&trust_help(&file.display().to_string()));
            }
            crate::emit(&text);
        }
        match early {
            Some(r) => r,
            None => interrupted.await,
        }
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
        crate::emit("idflow emulator: stopping");
        handle.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes the certificate to trust to `--ca-out`, or to a file in the
/// temporary directory named after the port; returns the path.
fn write_ca(options: &Options, port: u16, pem: &str) -> Result<PathBuf, String> {
    let path = options
        .ca_out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("idflow-emulator-{port}-ca.pem")));
    std::fs::write(&path, pem)
        .map_err(|e| format!("cannot write the CA certificate to {}: {e}", path.display()))?;
    Ok(path)
}

/// What the emulator prints on start: the first line is the base URL alone,
/// so scripts can read it with `head -n1`.
pub fn banner(base: &str) -> String {
    format!(
        "{base}\n\
         idflow emulator listening on {base} (Ctrl-C stops it)\n\
         \n\
         authority (any tenant)   {base}/organizations  |  {base}/{DEFAULT_TENANT}  |  {base}/common\n\
         public client id         {PUBLIC_CLIENT_ID}\n\
         FOCI family client ids   {} {}\n\
         confidential client id   {CONFIDENTIAL_CLIENT_ID}\n\
         confidential secret      {CONFIDENTIAL_CLIENT_SECRET}\n\
         default user             {DEFAULT_USERNAME} / {DEFAULT_PASSWORD}\n\
         admin API                {base}/_admin  (presets: {base}/_admin/presets)",
        FAMILY_CLIENT_IDS[0], FAMILY_CLIENT_IDS[1]
    )
}

/// How each stack trusts the emulator's certificate (in `file`). The MSAL
/// libraries use their platform's HTTP stack, so each is told the way that
/// stack is told.
pub fn trust_help(file: &str) -> String {
    format!(
        "\n\
         \n\
         TLS: clients must trust the CA certificate in {file}\n\
         Python (msal, requests)  export REQUESTS_CA_BUNDLE={file}\n\
         Node (msal-node)         export NODE_EXTRA_CA_CERTS={file}\n\
         Java (MSAL4J)            keytool -importcert -noprompt -alias idflow-emulator -file {file} \\\n\
         \x20                          -keystore emulator-trust.p12 -storetype PKCS12 -storepass changeit\n\
         \x20                        java -Djavax.net.ssl.trustStore=emulator-trust.p12 -Djavax.net.ssl.trustStorePassword=changeit ...\n\
         .NET (MSAL.NET)          an IMsalHttpClientFactory whose HttpClientHandler accepts this CA, or the\n\
         \x20                        system store (Linux: /usr/local/share/ca-certificates + update-ca-certificates)\n\
         Swift (URLSession)       a URLSessionDelegate that evaluates the server trust against this CA\n\
         curl                     curl --cacert {file}"
    )
}
