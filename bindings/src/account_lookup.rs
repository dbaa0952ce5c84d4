//! `get_account(home_account_id)` on each kind of app: the account a web app
//! kept the id of (e.g. in its session), with that user's partition read from
//! an attached partition store first, so any instance of a web farm finds a
//! user another instance signed in (`get_accounts` lists only the partitions
//! this process holds). The core decides; this converts.

use crate::clients::{ConfidentialClientApplication, PublicClientApplication};
use crate::convert::account_info;
use crate::guard::call_async;
use crate::types::{AccountInfo, AuthError};

/// One macro writes the method onto each app (uniffi objects cannot share an impl).
macro_rules! account_lookup {
    ($app:ty) => {
        #[uniffi::export(async_runtime = "tokio")]
        impl $app {
            /// The account with this `home_account_id`, or `None` when no
            /// cache this app can read holds it (sign the user in again).
            /// An idflow addition after MSAL.NET's `GetAccountAsync(identifier)`
            /// (AzureAD/microsoft-authentication-library-for-dotnet
            /// `src/client/Microsoft.Identity.Client/ClientApplicationBase.cs`);
            /// MSAL for Java and msal Python have no such call.
            pub async fn get_account(
                &self,
                home_account_id: String,
            ) -> Result<Option<AccountInfo>, AuthError> {
                call_async(self.core().get_account(&home_account_id), |a| {
                    a.as_ref().map(account_info)
                })
                .await
            }
        }
    };
}

account_lookup!(PublicClientApplication);
account_lookup!(ConfidentialClientApplication);
