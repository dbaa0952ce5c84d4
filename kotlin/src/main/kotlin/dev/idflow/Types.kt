// The generated records, enums and callback interfaces under their public
// names. uniffi generates them into dev.idflow.ffi so that this package can
// give the application classes MSAL for Java's names; Kotlin callers import
// everything from dev.idflow, Java callers import these types from
// dev.idflow.ffi (Java does not see type aliases).
//
// The three sealed types, ClientCredential, RecommendedAction and
// UserInfoValue, have no alias: Kotlin reaches a nested class (such as
// ClientCredential.Secret) only through its own class's name, so callers
// import those three from dev.idflow.ffi.

package dev.idflow

typealias AccountInfo = dev.idflow.ffi.AccountInfo
typealias AppConfig = dev.idflow.ffi.AppConfig
typealias AuthChallenge = dev.idflow.ffi.AuthChallenge
typealias AuthCodeFlow = dev.idflow.ffi.AuthCodeFlow
typealias AuthorizeOptions = dev.idflow.ffi.AuthorizeOptions
typealias CacheCounts = dev.idflow.ffi.CacheCounts
typealias CacheStorage = dev.idflow.ffi.CacheStorage
typealias CancelHandle = dev.idflow.ffi.CancelHandle
typealias Classification = dev.idflow.ffi.Classification
typealias Classified = dev.idflow.ffi.Classified
typealias DeviceCodeFlow = dev.idflow.ffi.DeviceCodeFlow
typealias ErrorInfo = dev.idflow.ffi.ErrorInfo
typealias ErrorKind = dev.idflow.ffi.ErrorKind
typealias Flow = dev.idflow.ffi.Flow
typealias Header = dev.idflow.ffi.Header
typealias InteractiveOptions = dev.idflow.ffi.InteractiveOptions
typealias JavaCause = dev.idflow.ffi.JavaCause
typealias KotlinClass = dev.idflow.ffi.KotlinClass
typealias KotlinInfo = dev.idflow.ffi.KotlinInfo
typealias LogLevel = dev.idflow.ffi.LogLevel
typealias NetworkKind = dev.idflow.ffi.NetworkKind
typealias Outcome = dev.idflow.ffi.Outcome
typealias Polling = dev.idflow.ffi.Polling
typealias PythonForm = dev.idflow.ffi.PythonForm
typealias PythonInfo = dev.idflow.ffi.PythonInfo
typealias SwiftInfo = dev.idflow.ffi.SwiftInfo
typealias TokenCache = dev.idflow.ffi.TokenCache
typealias TokenResult = dev.idflow.ffi.TokenResult
typealias TokenSource = dev.idflow.ffi.TokenSource
typealias UrlOpener = dev.idflow.ffi.UrlOpener
typealias UserInfoEntry = dev.idflow.ffi.UserInfoEntry
