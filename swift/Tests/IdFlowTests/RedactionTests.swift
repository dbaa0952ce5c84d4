// Every value that holds a secret, formatted every way Swift formats a value (`description`,
// interpolation, `String(reflecting:)`, `print`, `debugPrint`, `dump`, `Mirror`): the secret
// never appears, the other fields still do, and the property itself still gives the secret.

import Foundation
import IdFlow
import XCTest

final class RedactionTests: XCTestCase {
    private let secrets = [
        "at-SECRET-access", "rt-SECRET-refresh", "it-SECRET-id", "pj-SECRET-json", "cs-SECRET-client",
        "pk-SECRET-key", "ca-SECRET-assertion", "rj-SECRET-result", "claims-SECRET-pii",
    ]

    private let token = TokenResult(
        accessToken: "at-SECRET-access", tokenType: "Bearer", expiresOn: 1_900_000_000,
        scopes: ["User.Read"], refreshToken: "rt-SECRET-refresh", idToken: "it-SECRET-id",
        idTokenClaimsJson: "{\"name\":\"claims-SECRET-pii\"}",
        account: AccountInfo(homeAccountId: "uid.utid", environment: "login.example", tenantId: "utid",
                             username: "ada@example.com", localAccountId: "uid"),
        correlationId: "corr-visible", tokenSource: .identityProvider, refreshOn: nil, familyId: "1",
        pythonJson: "{\"access_token\":\"pj-SECRET-json\"}")

    private let credentials: [ClientCredential] = [
        .secret(secret: "cs-SECRET-client"),
        .secretBasic(secret: "cs-SECRET-client"),
        .certificate(certificatePem: "-----BEGIN CERTIFICATE-----", privateKeyPem: "pk-SECRET-key", sendX5c: true),
        .assertion(assertion: "ca-SECRET-assertion"),
        .pkcs12(pfx: Data("pfx-SECRET-bytes".utf8), password: "pw-SECRET-pass", sendX5c: true, thumbprintKid: true),
        .privateKey(privateKeyPem: "pk-SECRET-key", passphrase: "pp-SECRET-pass", certificatePem: nil,
                    sha1Thumbprint: "AB12", sendX5c: false, thumbprintKid: true),
    ]

    private let classified = Classified(
        outcome: .success, polling: nil, error: nil, resultJson: "{\"access_token\":\"rj-SECRET-result\"}")

    private func forms<T>(_ value: T) -> [String] {
        var printed = "", debugPrinted = "", dumped = "", dumpedInArray = ""
        print(value, to: &printed)
        debugPrint(value, to: &debugPrinted)
        dump(value, to: &dumped)
        dump([value], to: &dumpedInArray)
        let mirrored = Mirror(reflecting: value).children.map { "\($0.label ?? ""): \($0.value)" }
            .joined(separator: ", ")
        return [
            String(describing: value), "\(value)", String(reflecting: value), "\([value])",
            printed, debugPrinted, dumped, dumpedInArray, mirrored,
        ]
    }

    private func assertNoSecret<T>(_ value: T, file: StaticString = #filePath, line: UInt = #line) {
        for form in forms(value) {
            for secret in secrets {
                XCTAssertFalse(form.contains(secret), "\(secret) in: \(form)", file: file, line: line)
            }
        }
    }

    func testTokenResultShowsItsFieldsButNotItsTokens() {
        assertNoSecret(token)
        var noRefresh = token
        noRefresh.refreshToken = nil
        assertNoSecret(noRefresh)
        assertNoSecret(Optional(token))
        let text = String(describing: token)
        for visible in ["Bearer", "1900000000", "User.Read", "corr-visible", "ada@example.com", "[redacted]"] {
            XCTAssertTrue(text.contains(visible), "\(visible) missing from \(text)")
        }
        XCTAssertEqual(token.accessToken, "at-SECRET-access")
        XCTAssertEqual(token.refreshToken, "rt-SECRET-refresh")
    }

    func testClientCredentialsNameTheirKindButNotTheSecret() throws {
        for credential in credentials {
            assertNoSecret(credential)
            XCTAssertTrue(String(describing: credential).contains("[redacted]"))
        }
        XCTAssertTrue(String(describing: credentials[2]).contains("Certificate"))
        guard case let .secret(secret) = credentials[0] else { return XCTFail("not a secret") }
        XCTAssertEqual(secret, "cs-SECRET-client")
        let app = try ConfidentialClientApplication(
            clientId: "client", authority: "https://login.microsoftonline.com/common", credential: credentials[0])
        assertNoSecret(app)
    }

    func testClassifiedShowsTheOutcomeButNotTheResult() {
        assertNoSecret(classified)
        XCTAssertTrue(String(describing: classified).contains("Success"))
        XCTAssertEqual(classified.resultJson, "{\"access_token\":\"rj-SECRET-result\"}")
    }

    private let credentialsInRecords = [
        "pw-SECRET-proxy", "ih-SECRET-header", "ms-SECRET-msi", "Basic Y2xpZW50OmNzLVNFQ1JFVA==",
        "fv-SECRET-form", "at-SECRET-access", "pj-SECRET-json", "ek-SECRET-key", "pd-SECRET-data",
    ]

    private func assertNoCredential<T>(_ value: T, file: StaticString = #filePath, line: UInt = #line) {
        for form in forms(value) {
            for secret in credentialsInRecords {
                XCTAssertFalse(form.contains(secret), "\(secret) in: \(form)", file: file, line: line)
            }
        }
    }

    func testAppConfigShowsItsProxiesWithoutTheirPassword() {
        let config = AppConfig(clientId: "client-visible", authority: "https://login.microsoftonline.com/common")
            .withProxies(["https": "http://ada:pw-SECRET-proxy@proxy.example:3128", "no_proxy": "localhost"])
        assertNoCredential(config)
        let text = String(describing: config)
        XCTAssertTrue(text.contains("proxy.example:3128") && text.contains("client-visible"), text)
        XCTAssertEqual(config.proxies["https"], "http://ada:pw-SECRET-proxy@proxy.example:3128")
    }

    func testRecordsCrossingTheBoundaryPrintWithoutTheirSecrets() {
        let environment = ManagedIdentityConfig(environment: [
            "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi", "IDENTITY_HEADER": "ih-SECRET-header",
            "MSI_SECRET": "ms-SECRET-msi",
        ])
        let header = Header(name: "Authorization", value: "Basic Y2xpZW50OmNzLVNFQ1JFVA==")
        let field = FormField(name: "client_secret", value: "fv-SECRET-form")
        let answer = HttpClientResponse(status: 200, headers: [], body: Data("{\"access_token\":\"at-SECRET-access\"}".utf8))
        let stored = PartitionData(data: Data("pd-SECRET-data".utf8), version: "v7")
        let redis = RedisCacheOptions(encryptionKey: Data("ek-SECRET-key-0123456789abcdefghi".utf8))
        let token = ManagedIdentityTokenResult(
            accessToken: "at-SECRET-access", tokenType: "Bearer", expiresOn: 1_900_000_000, expiresIn: 3600,
            resource: "https://vault.azure.net", refreshOn: nil, fromCache: false, source: .imds,
            correlationId: "corr-visible", pythonJson: "{\"access_token\":\"pj-SECRET-json\"}")
        assertNoCredential(environment)
        assertNoCredential(header)
        assertNoCredential(field)
        assertNoCredential(answer)
        assertNoCredential(stored)
        assertNoCredential(redis)
        assertNoCredential(token)
        XCTAssertTrue(String(describing: environment).contains("IDENTITY_HEADER"))
        XCTAssertTrue(String(describing: header).contains("Authorization"))
        XCTAssertTrue(String(describing: field).contains("client_secret"))
        XCTAssertTrue(String(describing: token).contains("vault.azure.net"))
        XCTAssertEqual(field.value, "fv-SECRET-form")
        XCTAssertEqual(token.accessToken, "at-SECRET-access")
    }
}

