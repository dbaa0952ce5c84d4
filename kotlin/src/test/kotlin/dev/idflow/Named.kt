package dev.idflow

/**
 * Runs one dynamic test's [body] with [name] in its failure: Surefire reports
 * dynamic tests by index, so the failure itself must say which case failed.
 */
internal fun named(name: String, body: () -> Unit) {
    try {
        body()
    } catch (e: AssertionError) {
        throw AssertionError("[$name] ${e.message}", e)
    } catch (e: Exception) {
        throw IllegalStateException("[$name] $e", e)
    }
}
