// Started flows as JSON, for web apps and services that finish a flow in
// another process: the flow objects' `toJson()` (generated) and these readers,
// which throw the IdFlowException hierarchy like every other call here.

@file:JvmName("IdFlowFlowJson")

package dev.idflow

/**
 * An auth code flow from [AuthCodeFlow.toJson]'s text (msal Python's keys:
 * `state`, `nonce`, `code_verifier`, `auth_uri`, `redirect_uri`, `scope`, …),
 * made by this or another process; complete it with
 * [ClientApplication.acquireTokenByAuthCodeFlow] on any application configured
 * alike. The text holds the PKCE verifier: keep it server-side, never in a cookie.
 *
 * @throws ClientException `invalid_parameter` when a key is missing or malformed.
 */
fun authCodeFlowFromJson(json: String): AuthCodeFlow = translated { AuthCodeFlow.fromJson(json) }

/**
 * A device-code flow from [DeviceCodeFlow.toJson]'s text (msal Python's keys,
 * `device_code` included: keep it server-side); poll it with
 * [PublicClientApplication.acquireTokenByDeviceFlow] on any application
 * configured alike.
 *
 * @throws ClientException `invalid_parameter` when the device code is missing.
 */
fun deviceCodeFlowFromJson(json: String): DeviceCodeFlow = translated { DeviceCodeFlow.fromJson(json) }
