// The values that hold secrets print without them. The core exports its redacting `Display` and
// `Debug` as these types' `description` and `debugDescription`; `dump` and `Mirror` read stored
// properties instead, so each type also gives a mirror of its non-secret fields. Every record
// that holds a secret is here (the core lists them: `#[uniffi::export(Debug, Display)]`).

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

extension AppConfig: CustomReflectable {
    public var customMirror: Mirror {
        // The proxies' keys only; `description` shows their URLs without `user:password@`.
        Mirror(self, children: [
            "clientId": clientId,
            "authority": authority,
            "oidcAuthority": oidcAuthority,
            "proxies": proxies.keys.sorted(),
            "proxiesFromEnvironment": proxiesFromEnvironment,
            "validateAuthority": validateAuthority,
            "clientCapabilities": clientCapabilities,
            "retryEnabled": retryEnabled,
        ], displayStyle: .struct)
    }
}

extension Header: CustomReflectable {
    public var customMirror: Mirror {
        // The core decides which values are credentials; `description` carries its decision.
        Mirror(self, children: ["header": description], displayStyle: .struct)
    }
}

extension FormField: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "value": "[redacted]"], displayStyle: .struct)
    }
}

extension HttpClientResponse: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["status": status, "headers": headers, "bodyLength": body.count],
               displayStyle: .struct)
    }
}

extension PartitionData: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["dataLength": data.count, "version": version as Any], displayStyle: .struct)
    }
}

extension RedisCacheOptions: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "keyPrefix": keyPrefix, "timeoutMs": timeoutMs, "encrypted": encryptionKey != nil,
            "cluster": cluster, "l1TtlMs": l1TtlMs,
        ], displayStyle: .struct)
    }
}

extension ManagedIdentityConfig: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "clientCapabilities": clientCapabilities,
            "clientSku": clientSku as Any,
            "environment": environment.map { $0.keys.sorted() } as Any,
            "arcKeyDirectory": arcKeyDirectory as Any,
            "retryEnabled": retryEnabled,
            "timeoutMs": timeoutMs as Any,
        ], displayStyle: .struct)
    }
}

extension ManagedIdentityTokenResult: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessToken": "[redacted]",
            "tokenType": tokenType,
            "expiresOn": expiresOn,
            "expiresIn": expiresIn,
            "resource": resource as Any,
            "refreshOn": refreshOn as Any,
            "fromCache": fromCache,
            "source": source,
            "correlationId": correlationId as Any,
        ], displayStyle: .struct)
    }
}
