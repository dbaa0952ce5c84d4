// Client credentials beyond a secret: a PKCS#12 file, an (encrypted) PEM key
// with its certificate or SHA-1 thumbprint, a closure asked for an assertion
// before each token request, and workload identity federation's token file.
// The core loads and checks the key: a wrong password or a key that is not the
// certificate's throws when the application is built.

import Foundation

/// A closure the core asks for a client assertion before each token request
/// (given the client id and the token endpoint, the assertion's `aud`). A
/// thrown error ends that request with `client_assertion_unavailable`.
public final class ClientAssertionClosure: ClientAssertionCallback, @unchecked Sendable {
    private let body: @Sendable (_ clientId: String, _ tokenEndpoint: String) throws -> String

    public init(_ body: @escaping @Sendable (_ clientId: String, _ tokenEndpoint: String) throws -> String) {
        self.body = body
    }

    public func clientAssertion(clientId: String, tokenEndpoint: String) throws -> String {
        try body(clientId, tokenEndpoint)
    }
}

extension ClientCredential {
    /// A PKCS#12 (.pfx / .p12) file and its password (`nil` for none);
    /// `sendX5c` sends the certificate for subject name / issuer authentication.
    public static func pkcs12(contentsOf url: URL, password: String?, sendX5c: Bool = false) throws -> ClientCredential {
        .pkcs12(pfx: try Data(contentsOf: url), password: password, sendX5c: sendX5c, thumbprintKid: true)
    }

    /// A PEM private key, plain or encrypted with `passphrase`, and its certificate (PEM).
    public static func privateKey(_ privateKeyPem: String, passphrase: String? = nil,
                                  certificatePem: String, sendX5c: Bool = false) -> ClientCredential {
        .privateKey(privateKeyPem: privateKeyPem, passphrase: passphrase, certificatePem: certificatePem,
                    sha1Thumbprint: nil, sendX5c: sendX5c, thumbprintKid: true)
    }

    /// A PEM private key and the certificate's SHA-1 thumbprint in hex (RS256 + `x5t`).
    public static func privateKey(_ privateKeyPem: String, passphrase: String? = nil,
                                  sha1Thumbprint: String) -> ClientCredential {
        .privateKey(privateKeyPem: privateKeyPem, passphrase: passphrase, certificatePem: nil,
                    sha1Thumbprint: sha1Thumbprint, sendX5c: false, thumbprintKid: true)
    }

    /// An assertion from `body` before each token request.
    public static func assertion(
        _ body: @escaping @Sendable (_ clientId: String, _ tokenEndpoint: String) throws -> String
    ) -> ClientCredential {
        .assertionCallback(callback: ClientAssertionClosure(body))
    }

    /// Workload identity federation: the token in `path`, or in the file
    /// `AZURE_FEDERATED_TOKEN_FILE` names when `nil`, read before each request.
    public static func federatedTokenFile(_ path: String? = nil) -> ClientCredential {
        .federatedTokenFile(path: path)
    }
}
