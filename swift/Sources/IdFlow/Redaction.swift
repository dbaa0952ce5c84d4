// The values that hold secrets print without them. The core exports its redacting `Display` and
// `Debug` as these types' `description` and `debugDescription`; `dump` and `Mirror` read stored
// properties instead, so each type also gives a mirror of its non-secret fields.

extension TokenResult: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessToken": "[redacted]",
            "tokenType": tokenType,
            "expiresOn": expiresOn,
            "scopes": scopes,
            "refreshToken": refreshToken.map { _ in "[redacted]" } as Any,
            "idToken": idToken.map { _ in "[redacted]" } as Any,
            "account": account as Any,
            "correlationId": correlationId,
            "tokenSource": tokenSource,
            "refreshOn": refreshOn as Any,
            "familyId": familyId as Any,
        ], displayStyle: .struct)
    }
}

extension ClientCredential: CustomReflectable {
    public var customMirror: Mirror {
        switch self {
        case .certificate(_, _, let sendX5c):
            return Mirror(self, children: ["kind": "certificate", "sendX5c": sendX5c], displayStyle: .enum)
        case .secret:
            return Mirror(self, children: ["kind": "secret"], displayStyle: .enum)
        case .secretBasic:
            return Mirror(self, children: ["kind": "secretBasic"], displayStyle: .enum)
        case .assertion:
            return Mirror(self, children: ["kind": "assertion"], displayStyle: .enum)
        case .pkcs12(_, _, let sendX5c, _):
            return Mirror(self, children: ["kind": "pkcs12", "sendX5c": sendX5c], displayStyle: .enum)
        case .privateKey(_, _, _, let sha1Thumbprint, let sendX5c, _):
            return Mirror(self, children: ["kind": "privateKey", "sha1Thumbprint": sha1Thumbprint as Any,
                                           "sendX5c": sendX5c], displayStyle: .enum)
        case .federatedTokenFile(let path):
            return Mirror(self, children: ["kind": "federatedTokenFile", "path": path as Any], displayStyle: .enum)
        case .assertionCallback:
            return Mirror(self, children: ["kind": "assertionCallback"], displayStyle: .enum)
        }
    }
}

extension Classified: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "outcome": outcome,
            "polling": polling as Any,
            "error": error as Any,
            "resultJson": resultJson.map { _ in "[redacted]" } as Any,
        ], displayStyle: .struct)
    }
}
