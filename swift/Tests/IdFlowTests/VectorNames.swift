// The spellings testdata/vectors.json uses for the FFI's enums (testdata/README.md).

import IdFlow

extension ErrorKind {
    var vectorName: String {
        switch self {
        case .client: return "client"
        case .service: return "service"
        case .interactionRequired: return "interaction_required"
        case .network: return "network"
        case .throttled: return "throttled"
        case .cancelled: return "cancelled"
        }
    }
}

extension Classification {
    /// MSAL.NET's UiRequiredExceptionClassification names.
    var vectorName: String {
        switch self {
        case .none: return "None"
        case .messageOnly: return "MessageOnly"
        case .basicAction: return "BasicAction"
        case .additionalAction: return "AdditionalAction"
        case .consentRequired: return "ConsentRequired"
        case .userPasswordExpired: return "UserPasswordExpired"
        case .promptNeverFailed: return "PromptNeverFailed"
        case .acquireTokenSilentFailed: return "AcquireTokenSilentFailed"
        }
    }
}

extension RecommendedAction {
    var vectorName: String {
        switch self {
        case .retry: return "retry"
        case .retryAfter: return "retry_after"
        case .acquireInteractively: return "acquire_interactively"
        case .fixConfiguration: return "fix_configuration"
        case .contactAdmin: return "contact_admin"
        case .checkNetwork: return "check_network"
        case .none: return "none"
        }
    }
}

extension Outcome {
    var vectorName: String {
        switch self {
        case .success: return "success"
        case .pending: return "pending"
        case .error: return "error"
        }
    }
}

extension Polling {
    var vectorName: String {
        switch self {
        case .continue: return "continue"
        case .slowDown: return "slow_down"
        case .stop: return "stop"
        }
    }
}

extension AuthError {
    /// The kind the thrown case stands for (must equal `info.kind`).
    var caseKind: ErrorKind {
        switch self {
        case .Client: return .client
        case .Service: return .service
        case .InteractionRequired: return .interactionRequired
        case .Network: return .network
        case .Throttled: return .throttled
        case .Cancelled: return .cancelled
        }
    }
}

enum VectorInputNames {
    static let flows: [String: Flow] = [
        "token": .token, "silent": .silent, "device_code": .deviceCode,
        "authorize": .authorize, "authorize_prompt_none": .authorizePromptNone,
    ]
    static let networks: [String: NetworkKind] = [
        "timeout": .timeout, "dns": .dns, "connection_refused": .connectionRefused,
        "connection_lost": .connectionLost, "not_connected": .notConnected, "tls": .tls,
    ]
}
