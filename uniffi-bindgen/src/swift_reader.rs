//! The generated Swift's buffer reader, made to read the buffer directly.
//!
//! uniffi 0.32.2's Swift reads every integer and string of a lifted record
//! through Foundation's `DataProtocol.copyBytes(to:from:)`, a generic method
//! the compiler cannot specialise across Foundation's module boundary: each
//! read pays for run-time generic dispatch. On Linux a cached token returned
//! as a `TokenResult` took 13.7 µs where the same lookup returning an integer
//! took 1.1 µs (`perf`: the Swift runtime and Foundation ≈ 75 % of the
//! samples): most of every Swift call that returns a record. The two
//! functions are rewritten here to read through `Data.withUnsafeBytes`: the
//! same bounds checks first, the same big-endian integers and byte arrays,
//! the same offsets. The same call then takes 4.7 µs (`bench/swift_hit.sh`).
//!
//! Only the exact text of the pinned uniffi is rewritten: a generated Swift
//! file whose reader differs fails the generation, so a new uniffi is looked
//! at before it ships a reader nobody checked.

use std::path::{Path, PathBuf};

/// `readInt`'s body after its bounds check and one-byte case, as generated.
const INT_BEFORE: &str = "    var value: T = 0
    let _ = withUnsafeMutableBytes(of: &value, { reader.data.copyBytes(to: $0, from: range)})
    reader.offset = range.upperBound
    return value.bigEndian";

const INT_AFTER: &str = "    let start = range.lowerBound - reader.data.startIndex
    let value = reader.data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start, as: T.self) }
    reader.offset = range.upperBound
    return T(bigEndian: value)";

/// `readBytes`'s body after its bounds check, as generated.
const BYTES_BEFORE: &str = "    var value = [UInt8](repeating: 0, count: count)
    value.withUnsafeMutableBufferPointer({ buffer in
        reader.data.copyBytes(to: buffer, from: range)
    })
    reader.offset = range.upperBound
    return value";

const BYTES_AFTER: &str = "    let start = range.lowerBound - reader.data.startIndex
    let value = reader.data.withUnsafeBytes { Array($0[start..<start + count]) }
    reader.offset = range.upperBound
    return value";

/// What the generated reader is recognised by.
const READER_MARK: &str = "fileprivate func readInt<";

/// The reader rewritten in `swift`; an error when the text is not the one
/// this module knows.
pub(crate) fn rewrite(swift: &str) -> Result<String, String> {
    for (what, before) in [("readInt", INT_BEFORE), ("readBytes", BYTES_BEFORE)] {
        if swift.matches(before).count() != 1 {
            return Err(format!(
                "the generated Swift's {what} is not the one uniffi 0.32.2 writes: \
                 review uniffi-bindgen/src/swift_reader.rs for this uniffi"
            ));
        }
    }
    Ok(swift
        .replacen(INT_BEFORE, INT_AFTER, 1)
        .replacen(BYTES_BEFORE, BYTES_AFTER, 1))
}

/// After `generate`: when Swift was generated, rewrites the reader of every
/// Swift file in the output folder that holds one (there is one per
/// generated module).
pub(crate) fn after_generate(args: &[String]) -> Result<(), String> {
    if args.get(1).map(String::as_str) != Some("generate") {
        return Ok(());
    }
    let value = |names: [&str; 2]| -> Vec<&str> {
        let mut found = Vec::new();
        for (i, a) in args.iter().enumerate() {
            for name in names {
                if a == name {
                    found.extend(args.get(i + 1).map(String::as_str));
                } else if let Some(v) = a.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
                    found.push(v);
                }
            }
        }
        found
    };
    let swift = value(["--language", "-l"])
        .iter()
        .any(|l| l.split(',').any(|l| l.eq_ignore_ascii_case("swift")));
    let Some(out) = value(["--out-dir", "-o"]).last().map(PathBuf::from) else {
        return Ok(());
    };
    if !swift {
        return Ok(());
    }
    let mut rewritten = 0;
    for path in swift_files(&out)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if !text.contains(READER_MARK) {
            continue;
        }
        let text = rewrite(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        rewritten += 1;
    }
    if rewritten == 0 {
        return Err(format!("no generated Swift reader in {}", out.display()));
    }
    Ok(())
}

fn swift_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|x| x == "swift") {
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated() -> String {
        format!(
            "fileprivate func readInt<T: FixedWidthInteger>(_ reader: inout (data: Data, offset: Data.Index)) throws -> T {{\n\
             {INT_BEFORE}\n}}\n\
             fileprivate func readBytes(_ reader: inout (data: Data, offset: Data.Index), count: Int) throws -> Array<UInt8> {{\n\
             {BYTES_BEFORE}\n}}\n"
        )
    }

    #[test]
    fn both_reads_are_rewritten_and_nothing_else() {
        let out = rewrite(&generated()).unwrap();
        let expected = generated()
            .replace(INT_BEFORE, INT_AFTER)
            .replace(BYTES_BEFORE, BYTES_AFTER);
        assert_eq!(out, expected);
        assert!(!out.contains("copyBytes"));
        assert_eq!(out.matches("withUnsafeBytes").count(), 2);
    }

    #[test]
    fn a_reader_of_another_uniffi_fails_the_generation() {
        let changed = generated().replace("copyBytes(to: buffer", "copyBytes(into: buffer");
        let err = rewrite(&changed).unwrap_err();
        assert!(
            err.contains("readBytes") && err.contains("swift_reader.rs"),
            "{err}"
        );
        assert!(rewrite("no reader").is_err());
    }

    #[test]
    fn only_swift_generation_is_touched() {
        let dir = std::env::temp_dir().join(format!("idflow-swift-reader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("IdFlow.swift");
        std::fs::write(&file, generated()).unwrap();
        let args = |lang: &str| -> Vec<String> {
            [
                "uniffi-bindgen",
                "generate",
                "lib.so",
                "--language",
                lang,
                "--out-dir",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([dir.display().to_string()])
            .collect()
        };
        after_generate(&args("kotlin")).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), generated());
        after_generate(&args("swift")).unwrap();
        let out = std::fs::read_to_string(&file).unwrap();
        assert_eq!(out, rewrite(&generated()).unwrap());
        // Generating again rewrites the new file, and a folder without a
        // reader is an error.
        std::fs::write(&file, "struct Nothing {}").unwrap();
        assert!(after_generate(&args("swift")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
