#if FUZZING
import Foundation

// The entry points of the fuzzing build (`-sanitize=fuzzer -DFUZZING`, scripts/fuzz.sh). The
// target to run is named by the environment variable VOUCH_FUZZ_TARGET, read once.

/// libFuzzer's driver (compiler-rt `FuzzerDriver.cpp`, `extern "C"`): parses libFuzzer's flags
/// from the command line and runs `callback` on each input.
///
/// Declared by its symbol name, since no header declares it: its parameters are integers and
/// pointers, passed alike by the Swift and C conventions.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry point. On Linux SwiftPM links an executable target with
/// `--defsym main=<module>_main` (so that tests can link the module), which takes the place of
/// the `main` libFuzzer's runtime brings; this hands control to libFuzzer's driver instead.
/// Where `main` is not renamed, libFuzzer's own `main` runs and this is never called.
@_cdecl("VouchFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return llvmFuzzerRunDriver(&count, &arguments, fuzzerTestOneInput)
}

/// Called by libFuzzer once, before the first input: resolves the target (so that a wrong name
/// stops the run at once), then makes what is made once and kept (the fixture's keys and
/// certificates, whatever the target and the runtime make on first use), so that the first input
/// is timed like the others.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let target = FuzzTargets.selected
    FuzzFixture.prepare()
    target(Data())
    return 0
}

/// Called by libFuzzer for each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    FuzzTargets.selected(data)
    return 0
}
#endif
