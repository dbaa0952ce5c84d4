//! `idflow emulator`: serves the local identity platform until Ctrl-C, so
//! that apps in any language can test against it (and arm faults through
//! its `/_admin/` API).

use idflow_emulator::{
    CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_TENANT,
    DEFAULT_USERNAME, FAMILY_CLIENT_IDS, PUBLIC_CLIENT_ID,
};
use std::process::ExitCode;

/// Starts the emulator on 127.0.0.1:`port` (0 picks a free port), prints
/// where it is and what it knows, and serves until interrupted.
pub fn run(port: u16) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let handle = idflow_emulator::serve(port)
            .await
            .map_err(|e| e.to_string())?;
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
            crate::emit(&banner(handle.base_url()));
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
